"""The article's G and D, the training step, and gradients through the whole chain."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import GAN, StepStats, build_discriminator, build_generator
from minigan.gan import make_noise
from minigan.gradcheck import check_function
from minigan.losses import discriminator_loss
from minigan.nn import Dense, LeakyReLU, Tanh
from minigan.optim import SGD, Adam
from minigan.selfcheck import discriminator_real_and_fake, generator_through_discriminator

seeds = st.integers(0, 2**31 - 1)
hidden = st.lists(st.integers(2, 6), min_size=1, max_size=3)


def pre_activations_clear_of_kink(net, x, margin=1e-3):
    """True if every Dense output feeding a LeakyReLU is further than margin from 0."""
    h = x
    for i, layer in enumerate(net.modules):
        h = layer(h)
        if isinstance(layer, Dense) and i + 1 < len(net.modules) and isinstance(net.modules[i + 1], LeakyReLU):
            if np.min(np.abs(h)) < margin:
                return False
    return True


def test_article_networks_have_the_article_shapes():
    G, D = build_generator(rng=0), build_discriminator(rng=0)
    assert [(m.in_features, m.out_features) for m in G.modules if isinstance(m, Dense)] == [
        (100, 128), (128, 128), (128, 128), (128, 784)]
    assert [(m.in_features, m.out_features) for m in D.modules if isinstance(m, Dense)] == [
        (784, 128), (128, 128), (128, 128), (128, 1)]
    assert isinstance(G.modules[-1], Tanh) and isinstance(D.modules[-1], Dense)
    assert all(m.alpha == 0.2 for m in [*G.modules, *D.modules] if isinstance(m, LeakyReLU))
    # 281,217 parameters in all (100*128+128 + 2*(128*128+128) + 128*784+784 for G, ...).
    assert G.num_params() == 12928 + 2 * 16512 + 101136
    assert D.num_params() == 100480 + 2 * 16512 + 129
    x = G(np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32))
    assert x.shape == (5, 784) and x.dtype == np.float32 and np.abs(x).max() <= 1


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
@given(z_dim=st.integers(1, 5), g_hidden=hidden, d_hidden=hidden, out=st.integers(1, 5),
       n=st.integers(1, 6), seed=seeds)
def test_generator_gradient_through_discriminator(kind, z_dim, g_hidden, d_hidden, out, n, seed):
    rng = np.random.default_rng(seed)
    G = build_generator(z_dim, g_hidden, out, dtype=np.float64, rng=rng)
    D = build_discriminator(out, d_hidden, dtype=np.float64, rng=rng)
    z = rng.standard_normal((n, z_dim))
    assume(pre_activations_clear_of_kink(G, z) and pre_activations_clear_of_kink(D, G(z)))
    f, grads = generator_through_discriminator(G, D, z, kind)
    assert set(grads) == set(G.params())
    report = check_function(f, G.params(), grads, title=f"G through D ({kind})")
    assert report.passed, str(report)


@given(in_dim=st.integers(1, 5), d_hidden=hidden, n=st.integers(1, 6), m=st.integers(1, 6), seed=seeds)
def test_discriminator_gradient_real_and_fake_in_one_step(in_dim, d_hidden, n, m, seed):
    rng = np.random.default_rng(seed)
    D = build_discriminator(in_dim, d_hidden, dtype=np.float64, rng=rng)
    real, fake = rng.standard_normal((n, in_dim)), rng.standard_normal((m, in_dim))
    assume(pre_activations_clear_of_kink(D, real) and pre_activations_clear_of_kink(D, fake))
    f, grads = discriminator_real_and_fake(D, real, fake)
    report = check_function(f, D.params(), grads, title="D on real + fake")
    assert report.passed, str(report)


def test_discriminator_is_reentrant_on_two_batches():
    """Forward real, forward fake, then both backwards == gradient of the summed loss."""
    rng = np.random.default_rng(0)
    D = build_discriminator(6, (8, 8), dtype=np.float64, rng=rng)
    real, fake = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    real_logits, real_cache = D.forward(real)
    fake_logits, fake_cache = D.forward(fake)
    _, d_real, d_fake = discriminator_loss(real_logits, fake_logits)
    _, g_real = D.backward(d_real, real_cache)
    _, g_fake = D.backward(d_fake, fake_cache)
    # Reference: one pass over the stacked batch, gradients of the same summed loss.
    logits, cache = D.forward(np.concatenate([real, fake]))
    _, r, f = discriminator_loss(logits[:5], logits[5:])
    _, g_both = D.backward(np.concatenate([r, f]), cache)
    for k in g_both:
        np.testing.assert_allclose(g_real[k] + g_fake[k], g_both[k], rtol=1e-12, atol=1e-15)
    # And a module that *stored* its activations would have used the fake batch twice.
    _, g_fake_only = D.backward(d_real, fake_cache)
    assert not np.allclose(g_fake_only["0.W"], g_real["0.W"])


def small_gan(dtype=np.float32, **kwargs):
    G = build_generator(3, (8,), 4, dtype=dtype, rng=0)
    D = build_discriminator(4, (8,), dtype=dtype, rng=1)
    return GAN(G, D, z_dim=3, rng=2, **kwargs)


def test_train_step_keeps_float32_everywhere():
    gan = small_gan()
    real = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype(np.float32)
    stats = gan.train_step(real)
    assert isinstance(stats, StepStats)
    assert all(isinstance(v, float) and np.isfinite(v) for v in stats.as_dict().values())
    assert 0 < stats.d_real < 1 and 0 < stats.d_fake < 1
    for model, opt in ((gan.G, gan.g_opt), (gan.D, gan.d_opt)):
        assert all(p.dtype == np.float32 for p in model.params().values())
        assert all(v.dtype == np.float32 for v in opt.state_dict().values() if isinstance(v, np.ndarray))
    assert gan.sample(7).dtype == np.float32 and gan.sample_noise(7).dtype == np.float32


def test_generator_update_never_changes_discriminator():
    gan = small_gan()
    d_before = {k: v.copy() for k, v in gan.D.params().items()}
    g_before = {k: v.copy() for k, v in gan.G.params().items()}
    gan.g_step(16)
    assert all(np.array_equal(v, d_before[k]) for k, v in gan.D.params().items())
    assert any(not np.array_equal(v, g_before[k]) for k, v in gan.G.params().items())
    g_before = {k: v.copy() for k, v in gan.G.params().items()}
    gan.d_step(np.zeros((16, 4), np.float32))
    assert all(np.array_equal(v, g_before[k]) for k, v in gan.G.params().items())
    assert any(not np.array_equal(v, d_before[k]) for k, v in gan.D.params().items())


@pytest.mark.parametrize("order, expected", [("d_first", ["d", "d", "g"]), ("g_first", ["g", "d", "d"])])
def test_order_and_d_steps(order, expected, monkeypatch):
    gan = small_gan(order=order, d_steps=2)
    calls = []
    real_d, real_g = gan.d_step, gan.g_step
    monkeypatch.setattr(gan, "d_step", lambda real: calls.append("d") or real_d(real))
    monkeypatch.setattr(gan, "g_step", lambda n: calls.append("g") or real_g(n))
    gan.train_step(np.zeros((8, 4), np.float32))
    assert calls == expected


def test_noise_distributions():
    gauss = small_gan(noise="gaussian").sample_noise(20000)
    uni = small_gan(noise="uniform").sample_noise(20000)
    assert abs(gauss.mean()) < 0.03 and abs(gauss.std() - 1) < 0.03
    assert uni.min() >= -1 and uni.max() <= 1 and abs(uni.std() - 1 / np.sqrt(3)) < 0.02


def test_same_seed_same_training():
    real = np.random.default_rng(5).uniform(-1, 1, (16, 4)).astype(np.float32)
    a, b = small_gan(), small_gan()
    for _ in range(5):
        sa, sb = a.train_step(real), b.train_step(real)
    assert sa == sb
    assert all(np.array_equal(v, b.G.params()[k]) for k, v in a.G.params().items())


def test_learns_a_one_dimensional_gaussian():
    """With a fixed seed a small GAN moves its samples from ~N(0, 0.3^2) to the data's N(3, 0.5^2)."""
    G = build_generator(4, (16, 16), 1, output="linear", rng=0)
    D = build_discriminator(1, (16, 16), rng=100)
    gan = GAN(G, D, z_dim=4, g_optimizer=Adam(G.params(), lr=1e-3), d_optimizer=Adam(D.params(), lr=1e-3), rng=200)
    data = np.random.default_rng(300)
    before = gan.sample(5000)
    assert abs(before.mean() - 3) > 2
    for _ in range(2000):
        gan.train_step((data.standard_normal((64, 1)) * 0.5 + 3).astype(np.float32))
    after = gan.sample(5000)
    # Tolerance: 0.15 on the mean and on the std (seeds 0..5 all land within 0.11).
    assert abs(after.mean() - 3.0) < 0.15
    assert abs(after.std() - 0.5) < 0.15


@pytest.mark.parametrize(
    "kwargs, word",
    [(dict(loss="wgan"), "loss"), (dict(order="random"), "order"), (dict(noise="cauchy"), "noise"),
     (dict(d_steps=0), "d_steps")],
)
def test_gan_rejects_bad_options(kwargs, word):
    with pytest.raises(ValueError, match=word):
        small_gan(**kwargs)


def test_train_step_rejects_wrong_batches():
    gan = small_gan()
    with pytest.raises(ValueError, match="float32"):
        gan.train_step(np.zeros((8, 4), np.float64))
    with pytest.raises(ValueError, match="5 features .* generator makes 4"):
        gan.train_step(np.zeros((8, 5), np.float32))


def test_custom_optimisers_are_used():
    G = build_generator(3, (8,), 4, rng=0)
    D = build_discriminator(4, (8,), rng=1)
    gan = GAN(G, D, z_dim=3, g_optimizer=SGD(G.params(), lr=0.1), d_optimizer=SGD(D.params(), lr=0.1), rng=0)
    assert isinstance(gan.g_opt, SGD) and isinstance(gan.d_opt, SGD)
    with pytest.raises(ValueError, match="output"):
        build_generator(output="sigmoid")


def test_d_step_reports_the_loss_and_means_of_the_batches_it_used():
    """d_step's three numbers recomputed from D (before the update) on the same real batch
    and the same fakes: catches a swap of the real and fake halves."""
    from minigan.nn.activations import sigmoid

    G, D = build_generator(8, (16,), 12, rng=0), build_discriminator(12, (16,), rng=1)
    gan = GAN(G, D, z_dim=8, real_label=0.9, rng=2)
    real = np.random.default_rng(3).uniform(-1, 1, (10, 12)).astype(np.float32)
    fake = G(make_noise(np.random.default_rng(2), 10, 8, "gaussian"))  # the noise d_step will draw
    real_logits, fake_logits = D(real), D(fake)
    loss, d_real, d_fake = gan.d_step(real)
    expected_loss, _, _ = discriminator_loss(real_logits, fake_logits, 0.9)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    assert d_real == pytest.approx(float(sigmoid(real_logits).mean()), rel=1e-6)
    assert d_fake == pytest.approx(float(sigmoid(fake_logits).mean()), rel=1e-6)
    assert abs(d_real - d_fake) > 1e-3  # the two halves differ, so a swap would be seen
