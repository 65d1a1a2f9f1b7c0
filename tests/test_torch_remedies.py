"""PyTorch autograd (float64) agrees with the remedies' and the judge's hand-written
backward passes: dropout with a given mask, translation, instance noise, spectral
normalisation (forward, backward and the power iteration), convolution and max pooling.

PyTorch is a test-only dependency; in CI a missing torch is an error, not a skip.
"""

import numpy as np
import pytest
from conftest import require

torch = require("torch", "PyTorch is not installed: pip install torch==2.13.0")
F = torch.nn.functional

from minigan.nn import Dense, Dropout, InstanceNoise, RandomTranslate, SpectralNorm  # noqa: E402
from minigan.nn.conv import Conv2d, MaxPool2d  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)


def t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_dropout_matches_torch_with_the_same_mask():
    x, dy = rand(6, 9), rand(6, 9, seed=1)
    layer = Dropout(0.4, rng=3)
    y, cache = layer.forward(x)
    dx, _ = layer.backward(dy, cache)
    keep = torch.tensor(cache != 0)  # the mask the layer drew
    xt = t(x, True)
    yt = xt * keep / 0.6
    yt.backward(t(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL)


def test_translate_matches_torch_pad_and_crop():
    H, W, s = 7, 6, 2
    x, dy = rand(5, H * W), rand(5, H * W, seed=1)
    layer = RandomTranslate((H, W), s, rng=4)
    y, shifts = layer.forward(x)
    dx, _ = layer.backward(dy, shifts)
    xt = t(x, True)
    padded = F.pad(xt.reshape(5, H, W), (s, s, s, s), value=-1.0)
    yt = torch.stack([padded[i, s - a:s - a + H, s - b:s - b + W] for i, (a, b) in enumerate(shifts)])
    yt.reshape(5, H * W).backward(t(dy))
    np.testing.assert_allclose(y, yt.detach().reshape(5, -1).numpy(), **TOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL)


def test_instance_noise_gradient_is_the_identity_as_in_torch():
    x, dy = rand(4, 5), rand(4, 5, seed=1)
    layer = InstanceNoise(0.5, rng=0)
    y, cache = layer.forward(x)
    noise = t(y - x)  # what the layer added
    xt = t(x, True)
    (xt + noise).backward(t(dy))
    np.testing.assert_allclose(layer.backward(dy, cache)[0], xt.grad.numpy(), **TOL)


def test_spectral_norm_matches_torch_parametrization():
    from torch.nn.utils.parametrizations import spectral_norm

    n_in, n_out = 7, 5
    dense = Dense(n_in, n_out, dtype=np.float64, rng=0)
    dense.b[:] = rand(n_out, seed=9)
    layer = SpectralNorm(dense, rng=1, power_iterations=0)
    lin = torch.nn.Linear(n_in, n_out).double()
    with torch.no_grad():
        lin.weight.copy_(t(dense.W.T))
        lin.bias.copy_(t(dense.b))
    lin = spectral_norm(lin, n_power_iterations=1)
    sn = lin.parametrizations.weight[0]
    with torch.no_grad():  # torch's u lives in R^out, v in R^in: the same vectors as ours
        sn._u.copy_(t(layer.u))
        sn._v.copy_(t(layer.v))
    # Training mode: one power iteration, then the forward pass; minigan does the same in two calls.
    lin.train()
    x, dy = rand(4, n_in, seed=2), rand(4, n_out, seed=3)
    xt = t(x, True)
    yt = lin(xt)
    layer.update_buffers()
    np.testing.assert_allclose(layer.u, sn._u.numpy(), **TOL)
    np.testing.assert_allclose(layer.v, sn._v.numpy(), **TOL)
    y, cache = layer.forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL)
    yt.backward(t(dy))
    dx, grads = layer.backward(dy, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(grads["W"], lin.parametrizations.weight.original.grad.numpy().T, **TOL)
    np.testing.assert_allclose(grads["b"], lin.bias.grad.numpy(), **TOL)


@pytest.mark.parametrize("H, W, C, out, k", [(8, 7, 1, 4, 3), (6, 6, 3, 2, 5), (5, 5, 2, 3, 1)])
def test_conv2d_matches_torch(H, W, C, out, k):
    conv = Conv2d((H, W, C), out, k, dtype=np.float64, rng=0)
    conv.b[:] = rand(out, seed=5)
    x = rand(3, H * W * C, seed=1)
    y, cache = conv.forward(x)
    dy = rand(*y.shape, seed=2)
    dx, grads = conv.backward(dy, cache)
    xt = t(x.reshape(3, H, W, C), True)
    wt = t(conv.W.transpose(3, 0, 1, 2), True)  # (C, k, k, F) -> torch's (F, C, k, k)
    bt = t(conv.b, True)
    yt = F.conv2d(xt.permute(0, 3, 1, 2), wt, bt).permute(0, 2, 3, 1)  # back to channels-last
    yt.reshape(3, -1).backward(t(dy))
    np.testing.assert_allclose(y, yt.detach().reshape(3, -1).numpy(), **TOL)
    np.testing.assert_allclose(dx, xt.grad.reshape(3, -1).numpy(), **TOL)
    np.testing.assert_allclose(grads["W"], wt.grad.numpy().transpose(1, 2, 3, 0), **TOL)
    np.testing.assert_allclose(grads["b"], bt.grad.numpy(), **TOL)


def test_maxpool_matches_torch():
    H, W, C = 6, 4, 3
    pool = MaxPool2d((H, W, C))
    x = rand(2, H * W * C)
    y, cache = pool.forward(x)
    dy = rand(*y.shape, seed=1)
    dx, _ = pool.backward(dy, cache)
    xt = t(x.reshape(2, H, W, C), True)
    yt = F.max_pool2d(xt.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    yt.reshape(2, -1).backward(t(dy))
    np.testing.assert_allclose(y, yt.detach().reshape(2, -1).numpy(), **TOL)
    np.testing.assert_allclose(dx, xt.grad.reshape(2, -1).numpy(), **TOL)
    np.testing.assert_array_equal(pool(x), y)
