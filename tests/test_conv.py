"""Convolution and transposed convolution: against a loop over the definition, against
finite differences (float64), as each other's adjoint, and their contracts (shapes,
dtypes, errors).  PyTorch parity is in tests/test_torch_structure.py."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.gradcheck import check_module
from minigan.nn import Conv2d, ConvTranspose2d
from minigan.nn.im2col import col2im, im2col

seeds = st.integers(0, 2**31 - 1)


def conv_by_loops(x, W, b, stride, padding):
    """y[n, i, j, f] = b[f] + sum_{c,u,v} xp[n, s i + u, s j + v, c] W[c, u, v, f], written
    as the definition, one output at a time (x: (N, H, W, C) images)."""
    n, H, Wd, C = x.shape
    _, k, _, F = W.shape
    xp = np.zeros((n, H + 2 * padding, Wd + 2 * padding, C))
    xp[:, padding:padding + H, padding:padding + Wd] = x
    Ho = (H + 2 * padding - k) // stride + 1
    Wo = (Wd + 2 * padding - k) // stride + 1
    y = np.zeros((n, Ho, Wo, F))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, stride * i:stride * i + k, stride * j:stride * j + k, :]  # (n, k, k, C)
            y[:, i, j, :] = np.einsum("nuvc,cuvf->nf", patch, W) + b
    return y


def conv_transpose_by_loops(x, W, b, stride, padding, output_padding):
    """Each input pixel stamps x[n, i, j] . W[:, :, :, c] at rows s i - p + u: the
    fractionally strided convolution written out (x: (N, H, W, C_in); W: (F, k, k, C_in))."""
    n, H, Wd, C = x.shape
    F, k, _, _ = W.shape
    Ho = (H - 1) * stride - 2 * padding + k + output_padding
    Wo = (Wd - 1) * stride - 2 * padding + k + output_padding
    full = np.zeros((n, Ho + 2 * padding, Wo + 2 * padding, F))
    for i in range(H):
        for j in range(Wd):
            full[:, stride * i:stride * i + k, stride * j:stride * j + k, :] += np.einsum(
                "nc,fuvc->nuvf", x[:, i, j, :], W)
    return full[:, padding:padding + Ho, padding:padding + Wo, :] + b


conv_cases = st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 3), st.integers(1, 3),
                       st.integers(1, 4), st.integers(1, 3), st.integers(0, 2))


@given(conv_cases, seeds)
def test_conv2d_forward_matches_the_definition(case, seed):
    H, W, C, F, k, s, p = case
    if k > min(H, W) + 2 * p:
        return
    rng = np.random.default_rng(seed)
    layer = Conv2d((H, W, C), F, k, stride=s, padding=p, dtype=np.float64, rng=rng)
    layer.b[...] = rng.standard_normal(F)
    x = rng.standard_normal((2, H, W, C))
    want = conv_by_loops(x, layer.W, layer.b, s, p)
    assert layer.out_shape == want.shape[1:]
    np.testing.assert_allclose(layer(x.reshape(2, -1)), want.reshape(2, -1), rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
                 st.integers(1, 3), st.integers(0, 2), st.integers(0, 2)), seeds)
def test_conv_transpose2d_forward_matches_the_definition(case, seed):
    H, W, C, F, k, s, p, op = case
    if op >= s or p >= k or (min(H, W) - 1) * s - 2 * p + k + op < 1:
        return
    rng = np.random.default_rng(seed)
    layer = ConvTranspose2d((H, W, C), F, k, stride=s, padding=p, output_padding=op, dtype=np.float64, rng=rng)
    layer.b[...] = rng.standard_normal(F)
    x = rng.standard_normal((2, H, W, C))
    want = conv_transpose_by_loops(x, layer.W, layer.b, s, p, op)
    assert layer.out_shape == want.shape[1:]
    np.testing.assert_allclose(layer(x.reshape(2, -1)), want.reshape(2, -1), rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(2, 6), st.integers(2, 6), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
                 st.integers(1, 3), st.integers(0, 2)), seeds)
def test_conv_transpose_is_the_adjoint_of_conv(case, seed):
    """<conv(a), b> = <a, conv_transpose(b)> with one weight and no bias: the transposed
    convolution is the convolution's backward pass used as a layer."""
    Ho, Wo, F, C, k, s, p = case
    if k > min(Ho, Wo) + 2 * p or p >= k:
        return
    rng = np.random.default_rng(seed)
    conv = Conv2d((Ho, Wo, F), C, k, stride=s, padding=p, dtype=np.float64, rng=rng)
    H, W, _ = conv.out_shape
    # The output size of conv forgets up to s - 1 rows; output_padding gives them back.
    op_h, op_w = Ho - ((H - 1) * s - 2 * p + k), Wo - ((W - 1) * s - 2 * p + k)
    if op_h != op_w:
        return
    tconv = ConvTranspose2d((H, W, C), F, k, stride=s, padding=p, output_padding=op_h, dtype=np.float64, rng=rng)
    assert tconv.out_shape == (Ho, Wo, F)
    tconv.W[...] = conv.W
    a = rng.standard_normal((3, Ho * Wo * F))
    b = rng.standard_normal((3, H * W * C))
    lhs = np.vdot(conv(a), b)
    rhs = np.vdot(a, tconv(b))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
    # ... and its backward is the convolution's forward.
    _, cache = tconv.forward(b)
    dx, _ = tconv.backward(a, cache)
    np.testing.assert_allclose(dx, conv(a), rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
                 st.integers(0, 2)), seeds)
def test_col2im_is_the_adjoint_of_im2col(case, seed):
    H, W, C, k, s, p = case
    if k > min(H, W) + 2 * p:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, H, W, C))
    cols = im2col(x, k, s, p)
    c = rng.standard_normal(cols.shape)
    assert np.vdot(cols, c) == pytest.approx(np.vdot(x, col2im(c, (H, W, C), k, s, p)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("make, n_in", [
    (lambda rng: Conv2d((5, 4, 2), 3, 3, dtype=np.float64, rng=rng), 40),
    (lambda rng: Conv2d((6, 6, 2), 3, 4, stride=2, padding=1, dtype=np.float64, rng=rng), 72),
    (lambda rng: Conv2d((7, 5, 1), 2, 3, stride=3, padding=2, dtype=np.float64, rng=rng), 35),
    (lambda rng: Conv2d((4, 4, 3), 2, 2, bias=False, dtype=np.float64, rng=rng), 48),
    (lambda rng: ConvTranspose2d((3, 3, 3), 2, 4, stride=2, padding=1, dtype=np.float64, rng=rng), 27),
    (lambda rng: ConvTranspose2d((3, 2, 2), 3, 3, stride=2, padding=1, output_padding=1, dtype=np.float64,
                                 rng=rng), 12),
    (lambda rng: ConvTranspose2d((2, 2, 2), 2, 3, stride=3, padding=0, output_padding=2, bias=False,
                                 dtype=np.float64, rng=rng), 8),
])
def test_gradients_match_finite_differences(make, n_in):
    rng = np.random.default_rng(0)
    layer = make(rng)
    if layer.b is not None:
        layer.b[...] = rng.standard_normal(layer.b.shape)
    report = check_module(layer, rng.standard_normal((3, n_in)), rng=rng)
    assert report.passed, str(report)


def test_a_wrong_backward_fails_the_check():
    """The check can fail: dx of a stride-2 convolution computed as if the stride were 1."""
    rng = np.random.default_rng(1)
    layer = Conv2d((6, 6, 1), 2, 2, stride=2, dtype=np.float64, rng=rng)
    wrong = Conv2d((6, 6, 1), 2, 2, stride=2, dtype=np.float64, rng=rng)
    wrong.W = layer.W

    def backward(dy, cache):
        dx, grads = layer.backward(dy, cache)
        return np.roll(dx, 1, axis=1), grads

    wrong.backward = backward
    assert not check_module(wrong, rng.standard_normal((2, 36)), rng=rng).passed


@pytest.mark.parametrize("layer", [
    Conv2d((8, 8, 3), 4, 4, stride=2, padding=1, rng=0),
    ConvTranspose2d((4, 4, 3), 2, 4, stride=2, padding=1, rng=0),
])
def test_float32_in_float32_out(layer):
    H, W, C = layer.in_shape
    x = np.random.default_rng(0).standard_normal((5, H * W * C)).astype(np.float32)
    y, cache = layer.forward(x)
    dx, grads = layer.backward(np.ones_like(y), cache)
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert y.shape == (5, int(np.prod(layer.out_shape)))


def test_dcgan_sizes_follow_pytorchs_formula():
    """28 -> 14 -> 7 with kernel 4, stride 2, padding 1, and back up again."""
    down = Conv2d((28, 28, 1), 8, 4, stride=2, padding=1)
    assert down.out_shape == (14, 14, 8)
    assert Conv2d(down.out_shape, 16, 4, stride=2, padding=1).out_shape == (7, 7, 16)
    up = ConvTranspose2d((7, 7, 16), 8, 4, stride=2, padding=1)
    assert up.out_shape == (14, 14, 8)
    assert ConvTranspose2d((7, 7, 16), 8, 3, stride=2, padding=1, output_padding=1).out_shape == (14, 14, 8)


@pytest.mark.parametrize("make, words", [
    (lambda: Conv2d((8, 8, 1), 2, 3, stride=0), "stride must be a positive integer"),
    (lambda: Conv2d((8, 8, 1), 2, 3, padding=-1), "padding must be an integer >= 0"),
    (lambda: Conv2d((4, 4, 1), 2, 7, padding=1), "kernel must be an integer in [1, 6]"),
    (lambda: ConvTranspose2d((4, 4, 1), 2, 3, stride=2, output_padding=2), "output_padding must be smaller"),
    (lambda: ConvTranspose2d((4, 4, 1), 2, 3, padding=3), "padding must be smaller than the kernel"),
    (lambda: Conv2d((8, 8, 1), 2, 3, init="he_normal"), "is for matrices"),
])
def test_bad_arguments_are_named(make, words):
    with pytest.raises(ValueError, match=None) as info:
        make()
    assert words in str(info.value)


def test_wrong_input_size_is_named():
    layer = Conv2d((8, 8, 2), 2, 3, stride=2)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 128\)"):
        layer.forward(np.zeros((2, 64), np.float32))
