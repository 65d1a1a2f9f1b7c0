"""An independent oracle: PyTorch autograd (float64) agrees with minigan's hand-written
backward passes to 1e-10 for random stacks, the losses, the whole G-through-D chain and
the optimisers.

PyTorch is a test-only dependency.  In CI (``CI`` set) a missing torch is an error, not
a skip; on a learner's machine without it these tests skip and say why.
"""

import numpy as np
import pytest
from conftest import require
from hypothesis import given
from hypothesis import strategies as st

torch = require("torch", "PyTorch is not installed: pip install torch==2.13.0")
F = torch.nn.functional

from minigan import build_discriminator, build_generator  # noqa: E402
from minigan.gradcheck import away_from_kink  # noqa: E402
from minigan.losses import bce_with_logits, discriminator_loss, generator_loss  # noqa: E402
from minigan.nn import Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh  # noqa: E402
from minigan.optim import SGD, Adam  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)
seeds = st.integers(0, 2**31 - 1)


def t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def torch_forward(net, x, params):
    """Run a minigan Sequential's architecture in torch, with torch leaf tensors as weights."""
    h = x
    for i, m in enumerate(net.modules):
        if isinstance(m, Dense):
            h = h @ params[f"{i}.W"] + params[f"{i}.b"]
        elif isinstance(m, LeakyReLU):
            h = F.leaky_relu(h, m.alpha)
        elif isinstance(m, ReLU):
            h = F.relu(h)
        elif isinstance(m, Tanh):
            h = torch.tanh(h)
        elif isinstance(m, Sigmoid):
            h = torch.sigmoid(h)
        else:  # pragma: no cover
            raise TypeError(m)
    return h


def make_stack(sizes, kinds, alpha, rng):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(a, b, dtype=np.float64, rng=rng))
        layers.append({"leaky": LeakyReLU(alpha), "relu": ReLU(), "tanh": Tanh(), "sigmoid": Sigmoid()}[kinds[i]])
    return Sequential(*layers)


@given(sizes=st.lists(st.integers(1, 9), min_size=2, max_size=5),
       kinds=st.lists(st.sampled_from(["leaky", "relu", "tanh", "sigmoid"]), min_size=4, max_size=4),
       alpha=st.floats(0.0, 1.0), n=st.integers(1, 9), seed=seeds)
def test_random_stacks_match_autograd(sizes, kinds, alpha, n, seed):
    rng = np.random.default_rng(seed)
    net = make_stack(sizes, kinds, alpha, rng)
    x = away_from_kink(rng.standard_normal((n, sizes[0])))
    y, cache = net.forward(x)
    dy = rng.standard_normal(y.shape)
    dx, grads = net.backward(dy, cache)

    tx = t(x, grad=True)
    tp = {k: t(v, grad=True) for k, v in net.params().items()}
    ty = torch_forward(net, tx, tp)
    ty.backward(t(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    for k in grads:
        np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), **TOL)


@given(n=st.integers(1, 20), scale=st.floats(0.1, 50.0), seed=seeds)
def test_losses_match_autograd(n, scale, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((n, 1)) * scale, rng.random((n, 1))
    loss, dz = bce_with_logits(z, y)
    tz = t(z, grad=True)
    tl = F.binary_cross_entropy_with_logits(tz, t(y))
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(dz, tz.grad.numpy(), **TOL)

    fake = rng.standard_normal((n, 1)) * scale
    for kind in ("non_saturating", "minimax"):
        loss, d = generator_loss(fake, kind)
        tf_ = t(fake, grad=True)
        if kind == "non_saturating":
            tl = F.binary_cross_entropy_with_logits(tf_, torch.ones_like(tf_))
        else:
            tl = torch.mean(F.logsigmoid(-tf_))  # log(1 - sigmoid(z)) = log sigmoid(-z)
        tl.backward()
        assert loss == pytest.approx(tl.item(), rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(d, tf_.grad.numpy(), **TOL)


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
@pytest.mark.parametrize("seed", range(5))
def test_whole_generator_through_discriminator_matches_autograd(kind, seed):
    """The article's shapes (z 100, hidden 128 x 3, 784 pixels) in float64: G's gradient via D."""
    rng = np.random.default_rng(seed)
    G = build_generator(dtype=np.float64, rng=rng)
    D = build_discriminator(dtype=np.float64, rng=rng)
    z = rng.standard_normal((16, 100))
    real = rng.uniform(-1, 1, (16, 784))

    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    g_loss, d_logits = generator_loss(logits, kind)
    d_fake, _ = D.backward(d_logits, d_cache)
    _, g_grads = G.backward(d_fake, g_cache)

    gp = {k: t(v, grad=True) for k, v in G.params().items()}
    dp = {k: t(v, grad=True) for k, v in D.params().items()}
    t_logits = torch_forward(D, torch_forward(G, t(z), gp), dp)
    if kind == "non_saturating":
        t_loss = F.binary_cross_entropy_with_logits(t_logits, torch.ones_like(t_logits))
    else:
        t_loss = torch.mean(F.logsigmoid(-t_logits))
    t_loss.backward()
    assert g_loss == pytest.approx(t_loss.item(), rel=1e-12)
    for k in g_grads:
        np.testing.assert_allclose(g_grads[k], gp[k].grad.numpy(), **TOL)

    # D's loss on a real and a fake batch, w.r.t. every D parameter.
    real_logits, real_cache = D.forward(real)
    fake_logits, fake_cache = D.forward(fake)
    d_loss, d_real, d_fake_logits = discriminator_loss(real_logits, fake_logits)
    _, gr = D.backward(d_real, real_cache)
    _, gf = D.backward(d_fake_logits, fake_cache)
    dp = {k: t(v, grad=True) for k, v in D.params().items()}
    tr, tf_ = torch_forward(D, t(real), dp), torch_forward(D, t(fake), dp)
    t_d = F.binary_cross_entropy_with_logits(tr, torch.ones_like(tr)) + F.binary_cross_entropy_with_logits(
        tf_, torch.zeros_like(tf_))
    t_d.backward()
    assert d_loss == pytest.approx(t_d.item(), rel=1e-12)
    for k in gr:
        np.testing.assert_allclose(gr[k] + gf[k], dp[k].grad.numpy(), **TOL)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_torch(weight_decay):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3))
    mine = {"w": w.copy()}
    opt = Adam(mine, lr=1e-2, betas=(0.5, 0.999), eps=1e-8, weight_decay=weight_decay)
    tw = t(w, grad=True)
    topt = torch.optim.Adam([tw], lr=1e-2, betas=(0.5, 0.999), eps=1e-8, weight_decay=weight_decay)
    for _ in range(10):
        g = rng.standard_normal(w.shape)
        opt.step({"w": g})
        tw.grad = t(g)
        topt.step()
    np.testing.assert_allclose(mine["w"], tw.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_torch(nesterov):
    rng = np.random.default_rng(1)
    w = rng.standard_normal(7)
    mine = {"w": w.copy()}
    opt = SGD(mine, lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.001)
    tw = t(w, grad=True)
    topt = torch.optim.SGD([tw], lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.001)
    for _ in range(10):
        g = rng.standard_normal(w.shape)
        opt.step({"w": g})
        tw.grad = t(g)
        topt.step()
    np.testing.assert_allclose(mine["w"], tw.detach().numpy(), rtol=1e-12, atol=1e-14)
