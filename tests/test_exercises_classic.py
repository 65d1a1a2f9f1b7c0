"""The two classic backward passes as exercises (issue 24): ``batchnorm_backward`` and ``conv_backward``.

minigan's own layers (adapted to the contracts) and correct answers written the way a learner would
pass; typical wrong answers, each a whole learner's class written here (not the checker's table of
mistakes), fail with the hint that names their mistake; an untouched skeleton reports "not done";
notebooks 10 and 11 exist, are linked from chapters 3 and 8, and hold no solution.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import fast_sample

import minigan
from minigan.exercises import EXERCISES, check, mistakes
from minigan.exercises._kit import NOT_DONE, NOT_IMPLEMENTED
from minigan.nn import BatchNorm1d, Conv2d, Module

ROOT = Path(__file__).resolve().parent.parent


# ======================================================================================
# Batch normalisation: minigan's layer adapted, and a learner's.

class LibraryBatchNorm(BatchNorm1d):
    """The contract ``MyBatchNorm(features, eps=1e-5)`` over minigan's BatchNorm1d (its training pass);
    ``dtype=`` as the checker passes it to a constructor that takes it."""

    def __init__(self, features, eps=1e-5, *, dtype=np.float32):
        super().__init__(features, eps=eps, dtype=dtype)


class LibraryBatchNormExactContract(BatchNorm1d):
    """Exactly the contract's constructor (no dtype=): the checker's float64 cases still reach minigan's layer,
    whose ``self.dtype`` follows the parameters the checker puts in."""

    def __init__(self, features, eps=1e-5):
        super().__init__(features, eps=eps)


class LibraryBatchNormForwardingKeywords(BatchNorm1d):
    """``**kwargs`` passed on: the checker adds no rng= or dtype= the contract lacks (BatchNorm1d takes no rng=)."""

    def __init__(self, features, eps=1e-5, **kwargs):
        super().__init__(features, eps=eps, **kwargs)


class MyBatchNorm(Module):
    """A learner's answer: the chain rule through var and mu, step by step (CS231n's way)."""

    def __init__(self, features, eps=1e-5):
        self.eps = eps
        self.gamma = np.ones(features, dtype=np.float32)
        self.beta = np.zeros(features, dtype=np.float32)

    def params(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def stats(self, x):
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        return mu, var

    def forward(self, x):
        mu, var = self.stats(x)
        xhat = (x - mu) / np.sqrt(var + self.eps)
        return self.gamma * xhat + self.beta, (x, xhat, mu, var)

    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        n = x.shape[0]
        dxhat = dy * self.gamma
        dvar = (dxhat * (x - mu)).sum(axis=0) * -0.5 * (var + self.eps) ** -1.5
        dmu = -(dxhat / np.sqrt(var + self.eps)).sum(axis=0) + dvar * (-2.0 * (x - mu)).mean(axis=0)
        dx = dxhat / np.sqrt(var + self.eps) + dvar * 2.0 * (x - mu) / n + dmu / n
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormConstantStats(MyBatchNorm):
    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        dx = dy * self.gamma / np.sqrt(var + self.eps)
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormNoVarianceTerm(MyBatchNorm):
    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        istd = 1.0 / np.sqrt(var + self.eps)
        dxhat = dy * self.gamma
        dmu = -(dxhat * istd).sum(axis=0)
        dx = dxhat * istd + dmu / x.shape[0]
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormNoMeanTerm(MyBatchNorm):
    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        dxhat = dy * self.gamma
        dvar = (dxhat * (x - mu)).sum(axis=0) * -0.5 * (var + self.eps) ** -1.5
        dx = dxhat / np.sqrt(var + self.eps) + dvar * 2.0 * (x - mu) / x.shape[0]
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormWithoutGamma(MyBatchNorm):
    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        n = x.shape[0]
        dx = (n * dy - dy.sum(axis=0) - xhat * (dy * xhat).sum(axis=0)) / (n * np.sqrt(var + self.eps))
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormUnbiased(MyBatchNorm):
    def stats(self, x):
        return x.mean(axis=0), np.var(x, axis=0, ddof=1)


class BatchNormEpsOutside(MyBatchNorm):
    def forward(self, x):
        mu = x.mean(axis=0)
        xhat = (x - mu) / (x.std(axis=0) + self.eps)
        return self.gamma * xhat + self.beta, (x, xhat, mu, x.var(axis=0))


class BatchNormGradsMean(MyBatchNorm):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        xhat = cache[1]
        return dx, {"gamma": (dy * xhat).mean(axis=0), "beta": dy.mean(axis=0)}


class BatchNormGradsPerRow(MyBatchNorm):
    def backward(self, dy, cache):
        dx, _ = super().backward(dy, cache)
        return dx, {"gamma": dy * cache[1], "beta": dy.copy()}


class BatchNormDgammaOfX(MyBatchNorm):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        return dx, {"gamma": (dy * cache[0]).sum(axis=0), "beta": grads["beta"]}


class BatchNormRunningStats(MyBatchNorm):
    """Keeps running averages, as in evaluation mode, and normalises with them in training."""

    def forward(self, x):
        if not hasattr(self, "running_mean"):
            self.running_mean = np.zeros(x.shape[1], x.dtype)
            self.running_var = np.ones(x.shape[1], x.dtype)
        xhat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        mu, var = self.stats(x)
        self.running_mean = 0.9 * self.running_mean + 0.1 * mu
        self.running_var = 0.9 * self.running_var + 0.1 * var
        return self.gamma * xhat + self.beta, (x, xhat, mu, var)


class BatchNormStatsOnSelf(MyBatchNorm):
    def forward(self, x):
        self.mu, self.var = self.stats(x)
        xhat = (x - self.mu) / np.sqrt(self.var + self.eps)
        return self.gamma * xhat + self.beta, x

    def backward(self, dy, cache):
        x = cache
        xhat = (x - self.mu) / np.sqrt(self.var + self.eps)
        return super().backward(dy, (x, xhat, self.mu, self.var))


class BatchNormUpcast(MyBatchNorm):
    def forward(self, x):
        mu, var = self.stats(x)
        xhat = (x - mu) / np.sqrt(var + np.float64(self.eps))
        return self.gamma * xhat + self.beta, (x, xhat, mu, var)


class BatchNormInPlace(MyBatchNorm):
    def forward(self, x):
        mu, var = self.stats(x)
        x -= mu  # the caller's batch is now centred
        xhat = x / np.sqrt(var + self.eps)
        return self.gamma * xhat + self.beta, (x + mu, xhat, mu, var)


class BatchNormLayerNorm(MyBatchNorm):
    def stats(self, x):
        return x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)


class BatchNormNoBeta(MyBatchNorm):
    def forward(self, x):
        y, cache = super().forward(x)
        return y - self.beta, cache


class BatchNormNoGamma(MyBatchNorm):
    def forward(self, x):
        y, cache = super().forward(x)
        return cache[1] + self.beta, cache


class BatchNormGradsSwapped(MyBatchNorm):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        return dx, {"gamma": grads["beta"], "beta": grads["gamma"]}


class BatchNormGradsAxis1(MyBatchNorm):
    def backward(self, dy, cache):
        dx, _ = super().backward(dy, cache)
        return dx, {"gamma": (dy * cache[1]).sum(axis=1), "beta": dy.sum(axis=1)}


class BatchNormStaged(MyBatchNorm):
    """The staged backward with one slip in a chosen place: ``half`` the -1/2 of dxhat/dvar, ``two`` the 2 of
    dvar/dx_i, ``mean_n`` the 1/N of dmu/dx_i."""

    slip = ""

    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        n, dxhat = x.shape[0], dy * self.gamma
        dvar = (dxhat * (x - mu)).sum(axis=0) * (-1.0 if self.slip == "half" else -0.5) * (var + self.eps) ** -1.5
        dmu = -(dxhat / np.sqrt(var + self.eps)).sum(axis=0)
        dx = (dxhat / np.sqrt(var + self.eps) + dvar * (1.0 if self.slip == "two" else 2.0) * (x - mu) / n
              + dmu / (1 if self.slip == "mean_n" else n))
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormDvarWithoutHalf(BatchNormStaged):
    slip = "half"


class BatchNormVarPathWithoutTwo(BatchNormStaged):
    slip = "two"


class BatchNormMeanPathWithoutN(BatchNormStaged):
    slip = "mean_n"


class BatchNormFloat64Params(MyBatchNorm):
    def __init__(self, features, eps=1e-5):
        super().__init__(features, eps)
        self.gamma, self.beta = np.ones(features), np.zeros(features)


class BatchNormTorchNames(MyBatchNorm):
    """weight and bias, PyTorch's names, for gamma and beta."""

    def __init__(self, features, eps=1e-5):
        self.eps, self.weight, self.bias = eps, np.ones(features, np.float32), np.zeros(features, np.float32)

    def params(self):
        return {"weight": self.weight, "bias": self.bias}


class BatchNormGradKeysPrefixed(MyBatchNorm):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        return dx, {"d" + k: v for k, v in grads.items()}


class BatchNormFloat32Eps(MyBatchNorm):
    """Right, with eps kept as a float32 number: float64 cases differ from the reference by ~1e-9 relative (more
    where the variance is small), a rounding, not a mistake."""

    def __init__(self, features, eps=1e-5):
        super().__init__(features, np.float32(eps))


class BatchNormDtypeProperty(MyBatchNorm):
    """A read-only ``dtype`` of its own: the checker leaves it alone (only minigan's layers get theirs set)."""

    @property
    def dtype(self):
        return self.gamma.dtype


class BatchNormSlotted:
    """``__slots__``, a class-level dtype, no base class."""

    __slots__ = ("eps", "gamma", "beta")
    dtype = np.dtype(np.float32)

    def __init__(self, features, eps=1e-5):
        self.eps, self.gamma, self.beta = eps, np.ones(features, self.dtype), np.zeros(features, self.dtype)

    def params(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def forward(self, x):
        return MyBatchNorm.forward(self, x)

    def backward(self, dy, cache):
        return MyBatchNorm.backward(self, dy, cache)

    def stats(self, x):
        return MyBatchNorm.stats(self, x)


class BatchNormOwnDtype(MyBatchNorm):
    """Keeps a float32 dtype as minigan's layers do, and casts to it: float64 in, float32 out."""

    def forward(self, x):
        self.dtype = np.dtype(np.float32)
        y, cache = super().forward(x)
        return y.astype(self.dtype), cache


class BatchNormOnePassVariance(MyBatchNorm):
    def stats(self, x):
        mu = x.mean(axis=0)
        return mu, (x * x).mean(axis=0) - mu * mu


class BatchNormParamsCopied(MyBatchNorm):
    """Works on copies made in the constructor: the checker's (and an optimiser's) parameters never reach it."""

    def __init__(self, features, eps=1e-5):
        super().__init__(features, eps)
        self.weights = {"gamma": self.gamma.copy(), "beta": self.beta.copy()}

    def forward(self, x):
        mu, var = self.stats(x)
        xhat = (x - mu) / np.sqrt(var + self.eps)
        return self.weights["gamma"] * xhat + self.weights["beta"], (x, xhat, mu, var)


class BatchNormWholeArray(MyBatchNorm):
    def stats(self, x):
        return x.mean(), x.var()


class BatchNormGradsToNumbers(MyBatchNorm):
    def backward(self, dy, cache):
        dx, _ = super().backward(dy, cache)
        return dx, {"gamma": (dy * cache[1]).sum(), "beta": dy.sum()}


class BatchNormBackwardWithoutEps(MyBatchNorm):
    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        n, istd = len(x), 1 / np.sqrt(var)
        dgamma, dbeta = (dy * xhat).sum(axis=0), dy.sum(axis=0)
        return self.gamma * istd / n * (n * dy - dbeta - xhat * dgamma), {"gamma": dgamma, "beta": dbeta}


class BatchNormCompact(MyBatchNorm):
    """The compact backward, with a chosen slip: ``istd`` left out, or 1 / (var + eps) for it, or gamma twice."""

    slip = ""

    def backward(self, dy, cache):
        x, xhat, mu, var = cache
        n, istd = len(x), 1 / np.sqrt(var + self.eps)
        istd = {"no_istd": 1.0, "no_sqrt": 1 / (var + self.eps)}.get(self.slip, istd)
        g = dy * self.gamma * (self.gamma if self.slip == "gamma_twice" else 1)
        dx = istd / n * (n * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0))
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


class BatchNormWithoutIstd(BatchNormCompact):
    slip = "no_istd"


class BatchNormIstdWithoutSqrt(BatchNormCompact):
    slip = "no_sqrt"


class BatchNormGammaTwice(BatchNormCompact):
    slip = "gamma_twice"


# ======================================================================================
# Convolution: minigan's layer adapted, and a learner's (loops over the output positions).

class LibraryConv(Conv2d):
    """The contract over minigan's Conv2d (whose constructor already has it, plus rng= and dtype=)."""

    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0, dtype=np.float32):
        super().__init__(in_shape, out_channels, kernel, stride=stride, padding=padding, dtype=dtype, rng=0)


class LibraryConvExactContract(Conv2d):
    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
        super().__init__(in_shape, out_channels, kernel, stride=stride, padding=padding)


class MyConv2d(Module):
    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
        self.in_shape, self.k, self.s, self.p = tuple(in_shape), kernel, stride, padding
        W = np.random.default_rng(0).standard_normal((in_shape[2], kernel, kernel, out_channels)) * 0.1
        self.W, self.b = W.astype(np.float32), np.zeros(out_channels, np.float32)

    def params(self):
        return {"W": self.W, "b": self.b}

    def sizes(self):
        H, W, C = self.in_shape
        return (H + 2 * self.p - self.k) // self.s + 1, (W + 2 * self.p - self.k) // self.s + 1

    def matrix(self):  # (k k C, F): rows in the order (u, v, c) a patch is flattened in
        return self.W.transpose(1, 2, 0, 3).reshape(-1, self.W.shape[3])

    def pad(self, x):
        p = self.p
        return np.pad(x.reshape(len(x), *self.in_shape), ((0, 0), (p, p), (p, p), (0, 0)))

    def forward(self, x):
        xp, (Ho, Wo), k, s = self.pad(x), self.sizes(), self.k, self.s
        y = np.empty((len(x), Ho, Wo, self.W.shape[3]), x.dtype)
        for i in range(Ho):
            for j in range(Wo):
                y[:, i, j] = xp[:, i * s:i * s + k, j * s:j * s + k].reshape(len(x), -1) @ self.matrix() + self.b
        return y.reshape(len(x), -1), xp

    def add_back(self, dxp, i, j, dpatch):
        k, s = self.k, self.s
        dxp[:, i * s:i * s + k, j * s:j * s + k] += dpatch

    def crop(self, dxp):
        H, W, _ = self.in_shape
        return dxp[:, self.p:self.p + H, self.p:self.p + W]

    def weight_grad(self, dM):
        return dM.reshape(self.k, self.k, -1, self.W.shape[3]).transpose(2, 0, 1, 3)

    def bias_grad(self, g, dy):
        return g.sum(axis=(0, 1, 2))

    def backward(self, dy, cache):
        xp, (Ho, Wo), k = cache, self.sizes(), self.k
        n, F = len(dy), self.W.shape[3]
        g = dy.reshape(n, Ho, Wo, F)
        dxp, dM = np.zeros_like(xp), np.zeros((k * k * xp.shape[3], F), dy.dtype)
        for i in range(Ho):
            for j in range(Wo):
                patch = xp[:, i * self.s:i * self.s + k, j * self.s:j * self.s + k].reshape(n, -1)
                dM += patch.T @ g[:, i, j]
                self.add_back(dxp, i, j, (g[:, i, j] @ self.matrix().T).reshape(n, k, k, -1))
        return self.crop(dxp).reshape(n, -1), {"W": self.weight_grad(dM), "b": self.bias_grad(g, dy)}


class ConvFlipped(MyConv2d):
    def matrix(self):
        return np.flip(self.W, axis=(1, 2)).transpose(1, 2, 0, 3).reshape(-1, self.W.shape[3])


class ConvWeightReshaped(MyConv2d):
    def matrix(self):
        return self.W.reshape(-1, self.W.shape[3])


class ConvPatchAssigned(MyConv2d):
    def add_back(self, dxp, i, j, dpatch):
        dxp[:, i * self.s:i * self.s + self.k, j * self.s:j * self.s + self.k] = dpatch


class ConvStrideIgnored(MyConv2d):
    def add_back(self, dxp, i, j, dpatch):
        dxp[:, i:i + self.k, j:j + self.k] += dpatch


class ConvPaddingKept(MyConv2d):
    def crop(self, dxp):
        return dxp


class ConvCropMinusP(MyConv2d):
    def crop(self, dxp):
        return dxp[:, self.p:-self.p, self.p:-self.p]


class ConvDWOutFirst(MyConv2d):
    def weight_grad(self, dM):
        return super().weight_grad(dM).transpose(3, 1, 2, 0)


class ConvDWNotTransposed(MyConv2d):
    def weight_grad(self, dM):
        return dM.reshape(self.k, self.k, -1, self.W.shape[3])


class ConvDWReshaped(MyConv2d):
    def weight_grad(self, dM):
        return dM.reshape(self.W.shape)


class ConvBiasLikeDense(MyConv2d):
    def bias_grad(self, g, dy):
        return dy.sum(axis=0)


class ConvBiasPerImage(MyConv2d):
    def bias_grad(self, g, dy):
        return g.sum(axis=(1, 2))


class ConvPaddedOnSelf(MyConv2d):
    def forward(self, x):
        y, self.xp = super().forward(x)
        return y, None

    def backward(self, dy, cache):
        return super().backward(dy, self.xp)


class ConvUpcast(MyConv2d):
    def pad(self, x):
        H, W, C = self.in_shape
        p = self.p
        xp = np.zeros((len(x), H + 2 * p, W + 2 * p, C))  # float64, whatever x is
        xp[:, p:p + H, p:p + W] = x.reshape(len(x), H, W, C)
        return xp


class ConvChannelsFirstInput(MyConv2d):
    def pad(self, x):
        H, W, C = self.in_shape
        p = self.p
        return np.pad(x.reshape(len(x), C, H, W).transpose(0, 2, 3, 1), ((0, 0), (p, p), (p, p), (0, 0)))


class ConvOutputChannelsFirst(MyConv2d):
    def forward(self, x):
        y, xp = super().forward(x)
        Ho, Wo = self.sizes()
        return y.reshape(len(x), Ho, Wo, -1).transpose(0, 3, 1, 2).reshape(len(x), -1), xp


class ConvDWStrideIgnored(MyConv2d):
    """dx right; dW from the patches xp[i:i+k, j:j+k], as if the stride were 1."""

    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        xp, (Ho, Wo), k, F = cache, self.sizes(), self.k, self.W.shape[3]
        g = dy.reshape(len(dy), Ho, Wo, F)
        dM = sum(xp[:, i:i + k, j:j + k].reshape(len(dy), -1).T @ g[:, i, j] for i in range(Ho) for j in range(Wo))
        return dx, {"W": self.weight_grad(dM), "b": grads["b"]}


class ConvDWLastImage(MyConv2d):
    """One image at a time, dW set (not added) in the loop."""

    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        for n in range(len(dy)):
            dW = super().backward(dy[n:n + 1], cache[n:n + 1])[1]["W"]
        return dx, {"W": dW, "b": grads["b"]}


class ConvDxFullConvolution(MyConv2d):
    """dx as the full convolution of dy (zeros inserted between its rows and columns for the stride, padded by k - 1)
    with the kernel, not flipped."""

    def backward(self, dy, cache):
        _, grads = super().backward(dy, cache)
        xp, (Ho, Wo), k, s = cache, self.sizes(), self.k, self.s
        n, F = len(dy), self.W.shape[3]
        spread = np.zeros((n, s * (Ho - 1) + 1, s * (Wo - 1) + 1, F), dy.dtype)
        spread[:, ::s, ::s] = dy.reshape(n, Ho, Wo, F)
        extra = (xp.shape[1] - spread.shape[1] - k + 1, xp.shape[2] - spread.shape[2] - k + 1)
        big = np.pad(spread, ((0, 0), (k - 1, k - 1 + extra[0]), (k - 1, k - 1 + extra[1]), (0, 0)))
        dxp = np.zeros_like(xp)
        for u in range(k):
            for v in range(k):
                dxp += big[:, u:u + xp.shape[1], v:v + xp.shape[2]] @ self.W[:, u, v, :].T
        return self.crop(dxp).reshape(n, -1), grads


class ConvOutputSizePaddingOnce(MyConv2d):
    def sizes(self):
        H, W, C = self.in_shape
        return (H + self.p - self.k) // self.s + 1, (W + self.p - self.k) // self.s + 1


class ConvFloat64Params(MyConv2d):
    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
        super().__init__(in_shape, out_channels, kernel, stride=stride, padding=padding)
        self.W, self.b = self.W.astype(np.float64), np.zeros(out_channels)


class ConvTorchKeys(MyConv2d):
    def params(self):
        return {"weight": self.W, "bias": self.b}


class ConvDWOfUnpaddedX(MyConv2d):
    """dW from the patches of x itself, not of the padded xp."""

    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        H, W, _ = self.in_shape
        x, k, s, F = cache[:, self.p:self.p + H, self.p:self.p + W], self.k, self.s, self.W.shape[3]
        g, (Ho, Wo) = dy.reshape(len(dy), *self.sizes(), F), self.sizes()
        dM = sum(x[:, i * s:i * s + k, j * s:j * s + k].reshape(len(dy), -1).T @ g[:, i, j]
                 for i in range(Ho) for j in range(Wo))
        return dx, {"W": self.weight_grad(dM), "b": grads["b"]}


class ConvHeightWidthSwapped(MyConv2d):
    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
        H, W, C = in_shape
        super().__init__((W, H, C), out_channels, kernel, stride=stride, padding=padding)


class ConvCol2imShortSlice(MyConv2d):
    """col2im over the kernel's offsets, each slice stopping one step early."""

    def backward(self, dy, cache):
        xp, (Ho, Wo), k, s = cache, self.sizes(), self.k, self.s
        n, F = len(dy), self.W.shape[3]
        _, grads = super().backward(dy, cache)
        d = (dy.reshape(-1, F) @ self.matrix().T).reshape(n, Ho, Wo, k, k, -1)
        dxp = np.zeros_like(xp)
        for u in range(k):
            for v in range(k):
                dxp[:, u:u + s * (Ho - 1):s, v:v + s * (Wo - 1):s] += d[:, :Ho - 1, :Wo - 1, u, v]
        return self.crop(dxp).reshape(n, -1), grads


class ConvDyChannelsFirst(MyConv2d):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        (Ho, Wo), F, k = self.sizes(), self.W.shape[3], self.k
        g = dy.reshape(len(dy), F, Ho, Wo).transpose(0, 2, 3, 1)
        dM = sum(cache[:, i * self.s:i * self.s + k, j * self.s:j * self.s + k].reshape(len(dy), -1).T @ g[:, i, j]
                 for i in range(Ho) for j in range(Wo))
        return dx, {"W": self.weight_grad(dM), "b": grads["b"]}


class ConvCropOne(MyConv2d):
    def crop(self, dxp):
        H, W, _ = self.in_shape
        return dxp[:, 1:H + 1, 1:W + 1]


class ConvGradsOverPositions(MyConv2d):
    def backward(self, dy, cache):
        dx, grads = super().backward(dy, cache)
        Ho, Wo = self.sizes()
        return dx, {"W": grads["W"] / (Ho * Wo), "b": grads["b"]}


class ConvTorchLayout(ConvChannelsFirstInput):
    def forward(self, x):
        y, xp = super().forward(x)
        Ho, Wo = self.sizes()
        return y.reshape(len(x), Ho, Wo, -1).transpose(0, 3, 1, 2).reshape(len(x), -1), xp


class ConvForwardStrideIgnored(MyConv2d):
    """Ho and Wo with the stride, the patches without it."""

    def forward(self, x):
        xp, (Ho, Wo), k = self.pad(x), self.sizes(), self.k
        y = np.empty((len(x), Ho, Wo, self.W.shape[3]), x.dtype)
        for i in range(Ho):
            for j in range(Wo):
                y[:, i, j] = xp[:, i:i + k, j:j + k].reshape(len(x), -1) @ self.matrix() + self.b
        return y.reshape(len(x), -1), xp


class ConvStridedView(MyConv2d):
    """Patches by as_strided with strides from the itemsize: right only for C-contiguous x."""

    def pad(self, x):
        H, W, C = self.in_shape
        n, e = len(x), x.itemsize
        images = np.lib.stride_tricks.as_strided(x, (n, H, W, C), (H * W * C * e, W * C * e, C * e, e))
        p = self.p
        return np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)))


class ConvCol2imAssigned(MyConv2d):
    """im2col-style backward whose col2im loops over the kernel offsets, with = for +=."""

    def backward(self, dy, cache):
        xp, (Ho, Wo), k, s = cache, self.sizes(), self.k, self.s
        n, F = len(dy), self.W.shape[3]
        _, grads = super().backward(dy, cache)
        d = (dy.reshape(-1, F) @ self.matrix().T).reshape(n, Ho, Wo, k, k, -1)
        dxp = np.zeros_like(xp)
        for u in range(k):
            for v in range(k):
                dxp[:, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] = d[:, :, :, u, v]
        return self.crop(dxp).reshape(n, -1), grads


# ======================================================================================

CORRECT = [("batchnorm_backward", LibraryBatchNorm), ("batchnorm_backward", BatchNorm1d),
           ("batchnorm_backward", MyBatchNorm), ("batchnorm_backward", LibraryBatchNormExactContract),
           ("batchnorm_backward", LibraryBatchNormForwardingKeywords), ("batchnorm_backward", BatchNormFloat32Eps),
           ("conv_backward", LibraryConv), ("conv_backward", Conv2d), ("conv_backward", MyConv2d),
           ("conv_backward", LibraryConvExactContract), ("batchnorm_backward", BatchNormDtypeProperty),
           ("batchnorm_backward", BatchNormSlotted)]

#: (exercise, wrong answer, a distinctive piece of the hint that names its mistake)
WRONG = [
    ("batchnorm_backward", BatchNormConstantStats, "当成了常数"),
    ("batchnorm_backward", BatchNormNoVarianceTerm, "漏了经过方差 var 的那一项"),
    ("batchnorm_backward", BatchNormNoMeanTerm, "漏了经过均值 mu 的那一项"),
    ("batchnorm_backward", BatchNormWithoutGamma, "dx 少乘了 gamma"),
    ("batchnorm_backward", BatchNormUnbiased, "无偏估计（除以 N - 1"),
    ("batchnorm_backward", BatchNormEpsOutside, "eps 放在了平方根外面"),
    ("batchnorm_backward", BatchNormGradsMean, "dgamma 和 dbeta 对批取了平均"),
    ("batchnorm_backward", BatchNormGradsPerRow, "dgamma 和 dbeta 没有对批求和"),
    ("batchnorm_backward", BatchNormDgammaOfX, "dgamma 乘的是输入 x"),
    ("batchnorm_backward", BatchNormRunningStats, "训练模式用了 running_mean"),
    ("batchnorm_backward", BatchNormStatsOnSelf, "批的统计量存在了 self 上"),
    ("batchnorm_backward", BatchNormUpcast, "dtype 被提升了"),
    ("batchnorm_backward", BatchNormInPlace, "原地修改了输入 x"),
    ("batchnorm_backward", BatchNormLayerNorm, "那是层归一化"),
    ("batchnorm_backward", BatchNormNoBeta, "forward 漏了 beta"),
    ("batchnorm_backward", BatchNormNoGamma, "forward 漏了 gamma"),
    ("batchnorm_backward", BatchNormGradsSwapped, "dgamma 和 dbeta 对调了"),
    ("batchnorm_backward", BatchNormGradsAxis1, "沿 axis=1 求和了"),
    ("batchnorm_backward", BatchNormWholeArray, "均值和方差是对整个数组算的"),
    ("batchnorm_backward", BatchNormGradsToNumbers, "dgamma、dbeta 成了一个数"),
    ("batchnorm_backward", BatchNormBackwardWithoutEps, "backward 里的 istd 没有加 eps"),
    ("batchnorm_backward", BatchNormOnePassVariance, "灾难性抵消"),
    ("batchnorm_backward", BatchNormOwnDtype, "dtype 被降低了"),
    ("conv_backward", ConvFlipped, "卷积核翻转了"),
    ("conv_backward", ConvWeightReshaped, "权重摊平的顺序与块不一致"),
    ("conv_backward", ConvPatchAssigned, "按输出位置 (i, j) 循环时写了"),
    ("conv_backward", ConvCol2imAssigned, "按核的偏移 (u, v) 循环时写了"),
    ("conv_backward", ConvStrideIgnored, "反向传播忽略了步长"),
    ("conv_backward", ConvPaddingKept, "dx 没有去掉补零"),
    ("conv_backward", ConvCropMinusP, "padding = 0 时 dx 是空数组"),
    ("conv_backward", ConvDWOutFirst, "(C_out, k, k, C_in)"),
    ("conv_backward", ConvDWNotTransposed, "dW 的形状是 (k, k, C_in, C_out)"),
    ("conv_backward", ConvDWReshaped, "dW 的数值排错了位置"),
    ("conv_backward", ConvBiasLikeDense, "db 只对批求和了"),
    ("conv_backward", ConvBiasPerImage, "每张图像各算了一份"),
    ("conv_backward", ConvPaddedOnSelf, "不可重入"),
    ("conv_backward", ConvUpcast, "dtype 被提升了"),
    ("conv_backward", ConvChannelsFirstInput, "把输入读成了通道在前的图像"),
    ("conv_backward", ConvOutputChannelsFirst, "输出按 (f, i, j) 的顺序摊平了"),
    ("conv_backward", ConvDWStrideIgnored, "dW 忽略了步长"),
    ("conv_backward", ConvDWLastImage, "dW 只含最后一张图像的贡献"),
    ("conv_backward", ConvDxFullConvolution, "dx 用的卷积核没有翻转"),
    ("conv_backward", ConvHeightWidthSwapped, "图像的高和宽弄反了"),
    ("conv_backward", ConvCol2imShortSlice, "col2im 的切片少放了一块"),
    ("conv_backward", ConvDyChannelsFirst, "算 dW 时把 dy 读成了通道在前的"),
    ("conv_backward", ConvCropOne, "去掉补零的切片把 1 写死了"),
    ("conv_backward", ConvTorchLayout, "输入和输出都用了 PyTorch 的通道在前的排法"),
    ("conv_backward", ConvForwardStrideIgnored, "前向取块时忽略了步长"),
]


def ids(pairs):
    return [f"{p[0]}:{p[1].__name__}" for p in pairs]


#: wrong answers whose hint is no table entry: the exercise's own diagnosis (the coefficients of dx's three terms),
#: the parameters' own dtype and names, grads' keys, y's size, a shape error: (exercise, answer, words of the hint)
DIAGNOSED = [
    ("batchnorm_backward", BatchNormDvarWithoutHalf, "b = 2（都应为 1）：经过方差 var 的那一项"),
    ("batchnorm_backward", BatchNormVarPathWithoutTwo, "dvar/dx_i = 2 (x_i - mu) / N 里的 2 漏了"),
    ("batchnorm_backward", BatchNormMeanPathWithoutN, "a = 4、b = 1（都应为 1）：经过均值 mu 的那一项"),
    ("batchnorm_backward", BatchNormWithoutIstd, "dx 的每一列都少乘了 istd"),
    ("batchnorm_backward", BatchNormIstdWithoutSqrt, "漏了开方"),
    ("batchnorm_backward", BatchNormGammaTwice, "dx 的每一列都多乘了 gamma"),
    ("batchnorm_backward", BatchNormFloat64Params, "参数要建成 float32"),
    ("batchnorm_backward", BatchNormTorchNames, "参数要存为 self.gamma"),
    ("batchnorm_backward", BatchNormGradKeysPrefixed, "必须恰好有 params() 的这些键 ['beta', 'gamma']"),
    ("conv_backward", ConvFloat64Params, "参数要建成 float32"),
    ("conv_backward", ConvTorchKeys, "键名是约定的一部分"),
    ("conv_backward", ConvOutputSizePaddingOnce, "Ho = (H + 2p - k) // s + 1"),
    ("conv_backward", ConvDWOfUnpaddedX, "补零后 xp 的块"),
    ("conv_backward", ConvGradsOverPositions, "dW 是正确梯度除以位置数 Ho * Wo"),
    ("conv_backward", ConvStridedView, "按行连续存储"),
    ("batchnorm_backward", BatchNormParamsCopied, "forward 没有用当前的参数"),
]


def test_registered_with_a_documented_contract():
    for name in ("batchnorm_backward", "conv_backward"):
        assert name in EXERCISES and f'"{name}"' in minigan.exercises.__doc__
        assert any("\u4e00" <= ch <= "\u9fff" for ch in EXERCISES[name])
        assert len([m for m in mistakes(name) if m.key not in ("queue_on_self", "cache_buffer", "modifies_input",
                                                                "upcast", "downcast")]) >= 8, name


@pytest.mark.parametrize("name, answer", CORRECT, ids=ids(CORRECT))
def test_correct_answers_pass(name, answer):
    result = check(name, answer)
    assert result, str(result)
    rows = " ".join(r.name for r in result.rows)
    for word in ("梯度检验", "可重入", "dtype", "hypothesis"):
        assert word in rows, (word, rows)


@pytest.mark.parametrize("name, answer, words", fast_sample(WRONG, lambda row: row[0], ids(WRONG), keep=3))
def test_wrong_answers_fail_with_the_hint_naming_the_mistake(name, answer, words):
    result = check(name, answer)
    assert not result, str(result)
    assert any(words in h for h in result.hints), f"{words!r} not in the hints of\n{result}"
    table = [m.hint for m in mistakes(name)]
    first = next(h for h in result.hints if any(t in h for t in table))
    assert words in first, f"the first hint from the table names another mistake:\n{result}"
    for line in str(result).splitlines():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in line), line


@pytest.mark.parametrize("name, answer, words", DIAGNOSED, ids=ids(DIAGNOSED))
def test_a_mistake_outside_the_table_is_diagnosed(name, answer, words):
    result = check(name, answer)
    assert not result and words in result.hints[0], str(result)
    table = {m.hint for m in mistakes(name)}
    assert not table & set(result.hints[1:]), str(result)  # no other mistake named after it


def test_every_listed_mistake_has_a_wrong_answer_here():
    keys = {"batchnorm_backward": {"constant_stats", "no_variance_term", "no_mean_term", "unbiased_variance",
                                   "eps_outside_sqrt", "grads_mean", "grads_per_row", "running_stats",
                                   "state_on_self", "upcast", "modifies_input", "layer_norm_axis", "no_beta",
                                   "no_gamma", "grads_swapped", "grads_axis1", "stats_whole_array",
                                   "grads_to_number", "backward_without_eps", "one_pass_variance"},
            "conv_backward": {"flipped_kernel", "col2im_assign", "patch_assign", "stride_ignored",
                              "padding_not_cropped", "dW_out_first", "dW_kkcf", "db_dense", "db_per_image",
                              "state_on_self", "upcast", "input_channels_first", "output_channels_first",
                              "dW_stride_ignored", "dW_last_image", "dx_kernel_not_flipped", "height_width_swapped",
                              "col2im_slice_short", "dy_channels_first", "crop_fixed_one", "torch_layout",
                              "forward_stride_ignored"}}
    for name, wanted in keys.items():
        hints = {m.key: m.hint for m in mistakes(name)}
        assert wanted <= hints.keys(), wanted - hints.keys()
        named = {key for key in wanted for n, _, words in WRONG if n == name and words in hints[key]}
        assert named == wanted, wanted - named


class TodoBatchNorm(MyBatchNorm):
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, cache):
        raise NotImplementedError


class TodoConv(MyConv2d):
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, cache):
        raise NotImplementedError


@pytest.mark.parametrize("name, answer", [("batchnorm_backward", TodoBatchNorm), ("conv_backward", TodoConv)])
def test_the_skeleton_reports_not_done(name, answer):
    result = check(name, answer)
    assert not result and NOT_DONE in str(result) and NOT_IMPLEMENTED in str(result)
    assert str(result).count("提示：") == 1


def test_a_checker_can_fail_a_correct_looking_layer_with_the_wrong_contract():
    """The contract is read: W stored (C_out, k, k, C_in), PyTorch's layout, is named at construction."""
    class TorchLayout(MyConv2d):
        def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
            super().__init__(in_shape, out_channels, kernel, stride=stride, padding=padding)
            self.W = self.W.transpose(3, 1, 2, 0).copy()

    result = check("conv_backward", TorchLayout)
    assert not result and "(C_in, k, k, C_out)" in result.hints[0]

    class TorchWeights(MyConv2d):  # (C_out, C_in, k, k), as torch.nn.Conv2d.weight
        def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
            super().__init__(in_shape, out_channels, kernel, stride=stride, padding=padding)
            self.W = self.W.transpose(3, 0, 1, 2).copy()

    result = check("conv_backward", TorchWeights)
    assert not result and "PyTorch 的排法是 (C_out, C_in, k, k)" in result.hints[0], str(result)


class ConvMatrixTransposed(MyConv2d):
    def matrix(self):
        return self.W.reshape(self.W.shape[3], -1)  # (F, k k C): the product's shapes do not match


class BatchNormStatsOverFeatures(MyBatchNorm):
    def stats(self, x):
        return x.mean(axis=1), x.var(axis=1)


@pytest.mark.parametrize("name, answer, words", [("conv_backward", ConvMatrixTransposed, "块矩阵 cols 是"),
                                                 ("batchnorm_backward", BatchNormStatsOverFeatures, "axis=0")])
def test_a_shape_error_gets_the_layers_own_shapes(name, answer, words):
    result = check(name, answer)
    assert not result and words in result.hints[0] and "Dense" not in result.hints[0], str(result)


# ======================================================================================
# Notebooks and links.

NOTEBOOKS = {"batchnorm_backward": ROOT / "notebooks/exercises/10_batchnorm_backward.ipynb",
             "conv_backward": ROOT / "notebooks/exercises/11_conv_backward.ipynb"}


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_grades_and_ends_in_a_guarded_network(name):
    nb = cells(NOTEBOOKS[name])
    grade = [c for c in nb if "grade" in c.get("metadata", {}).get("tags", [])]
    assert len(grade) == 1 and f'check("{name}"' in text(grade[0])
    outputs = json.dumps(grade[0]["outputs"], ensure_ascii=False)
    assert NOT_DONE in outputs and NOT_IMPLEMENTED in outputs
    after = nb[nb.index(grade[0]) + 1:]
    code = "\n".join(text(c) for c in after if c["cell_type"] == "code")
    assert "if result" in code and ("GAN(" in code if name == "batchnorm_backward" else "Classifier(" in code)
    printed = json.dumps([c.get("outputs", []) for c in after], ensure_ascii=False)
    assert "先完成" in printed  # the blank notebook says what to do instead of training
    assert "第 8 章" in "".join(text(c) for c in nb if c["cell_type"] == "markdown")


def test_chapters_3_and_8_point_to_both_notebooks():
    sources = [ROOT / "notebooks/03_algorithm.ipynb", ROOT / "notebooks/08_structure.ipynb",
               ROOT / "book/chapters/03_algorithm.md", ROOT / "book/chapters/08_structure.md",
               ROOT / "notebooks/exercises/README.md"]
    for path in sources:
        page = path.read_text(encoding="utf-8")
        for nb in NOTEBOOKS.values():
            assert re.search(rf"(exercises/)?{nb.name}", page), (path.name, nb.name)
        assert "练习" in page
