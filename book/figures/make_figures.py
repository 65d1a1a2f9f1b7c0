"""Draw the book's figures (PNG, committed next to this file) from minigan itself.

Run from the repository root:  python book/figures/make_figures.py
(scripts/build_book.sh --figures does the same before building.)

Nothing here trains a network: every curve is computed with minigan's own losses and
layers, or in closed form, in well under a second.  Labels are in English and TeX so the
figures need no CJK font; the book's captions are in Chinese.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigan.data import load  # noqa: E402
from minigan.losses import generator_loss  # noqa: E402
from minigan.nn import LeakyReLU, Sigmoid, Tanh  # noqa: E402

HERE = Path(__file__).resolve().parent
DPI = 110
# Metadata without the matplotlib version or a date, so re-running changes no byte
# unless a figure really changed.
META = {"Software": None}


def save(fig, name: str) -> Path:
    path = HERE / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata=META)
    plt.close(fig)
    return path


def loss_saturation() -> Path:
    """G's two losses and their gradients w.r.t. D's logit a, as functions of D(G(z))."""
    a = np.linspace(-7, 7, 401)
    ns = np.array([generator_loss(np.array([[v]]), "non_saturating")[0] for v in a])
    mm = np.array([generator_loss(np.array([[v]]), "minimax")[0] for v in a])
    g_ns = np.array([generator_loss(np.array([[v]]), "non_saturating")[1][0, 0] for v in a])
    g_mm = np.array([generator_loss(np.array([[v]]), "minimax")[1][0, 0] for v in a])
    d = 1 / (1 + np.exp(-a))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    ax1.plot(d, mm, label=r"minimax: $\log(1-D(G(z)))$")
    ax1.plot(d, ns, label=r"non-saturating: $-\log D(G(z))$")
    ax1.set_xlabel(r"$D(G(z))$")
    ax1.set_ylabel("generator loss (to minimise)")
    ax1.set_title("loss")
    ax1.legend(fontsize=8)
    ax2.plot(d, g_mm, label=r"minimax: $-\sigma(a)$")
    ax2.plot(d, g_ns, label=r"non-saturating: $\sigma(a)-1$")
    ax2.axvspan(0, 0.1, color="0.9")
    ax2.text(0.012, -0.55, "D rejects\nthe fakes", fontsize=8)
    ax2.set_xlabel(r"$D(G(z)) = \sigma(a)$")
    ax2.set_ylabel(r"$\partial\,\mathrm{loss} / \partial a$")
    ax2.set_title("gradient w.r.t. the logit a")
    ax2.legend(fontsize=8, loc="lower right")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    return save(fig, "loss_saturation.png")


def activations() -> Path:
    """The activations of the article's networks and their derivatives (backward with dy = 1)."""
    x = np.linspace(-4, 4, 801).reshape(-1, 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    for module, label in ((LeakyReLU(0.2), r"leaky ReLU, $\alpha=0.2$"), (Tanh(), "tanh"), (Sigmoid(), "sigmoid")):
        y, cache = module.forward(x)
        dx, _ = module.backward(np.ones_like(y), cache)
        ax1.plot(x[:, 0], y[:, 0], label=label)
        ax2.plot(x[:, 0], dx[:, 0], label=label)
    ax1.set_title(r"$f(x)$")
    ax2.set_title(r"$f'(x)$ (from backward with $dy = 1$)")
    for ax in (ax1, ax2):
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax1.set_ylim(-1.5, 4.1)
    return save(fig, "activations.png")


def toy_data() -> Path:
    """PacGAN's ring and grid, with the 3-std circles that define a high-quality sample."""
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.6))
    for ax, name in zip(axes, ("ring", "grid")):
        ds = load(name, n=2500, seed=0)
        ax.scatter(ds.x[:, 0], ds.x[:, 1], s=2, alpha=0.5, label="2,500 samples")
        for c in ds.centres:
            ax.add_patch(plt.Circle(c, 3 * ds.std, fill=False, color="C3", lw=0.8))
        ax.plot(ds.centres[:, 0], ds.centres[:, 1], "+", color="C3", label=r"mode centres ($3\sigma$ circles)")
        ax.set_title(f"{name}: {len(ds.centres)} modes, std {ds.std}")
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    axes[0].set_xlim(-1.5, 1.5)
    axes[0].set_ylim(-1.5, 1.6)
    axes[1].set_xlim(-5.5, 5.5)
    axes[1].set_ylim(-5.5, 6.2)
    return save(fig, "toy_data.png")


def optimal_discriminator() -> Path:
    """1-D example of D*(x) = p_data / (p_data + p_g) and its logit log(p_data / p_g)."""
    x = np.linspace(-5, 5, 1001)

    def normal(x, m, s):
        return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))

    p_data = 0.5 * normal(x, -1.5, 0.6) + 0.5 * normal(x, 1.5, 0.6)
    p_g = normal(x, 1.0, 1.0)
    d_star = p_data / (p_data + p_g)
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    ax.plot(x, p_data, label=r"$p_{data}(x)$")
    ax.plot(x, p_g, label=r"$p_g(x)$")
    ax.plot(x, d_star, "k--", label=r"$D^*(x) = p_{data}/(p_{data}+p_g)$")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save(fig, "optimal_discriminator.png")


def real_digits() -> Path:
    """The first 64 training digits of the bundled mnist5k set, as the networks see them."""
    ds = load("mnist5k", seed=0)
    h, w = ds.image_shape
    grid = np.full((8 * (h + 2), 8 * (w + 2)), -1.0, dtype=np.float32)
    for i in range(64):
        r, c = divmod(i, 8)
        grid[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = ds.x[i].reshape(h, w)
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    ax.imshow(grid, cmap="gray_r", vmin=-1, vmax=1)
    ax.set_axis_off()
    ax.set_title("mnist5k: 64 real digits, pixels in [-1, 1]", fontsize=9)
    return save(fig, "real_digits.png")


FIGURES = (loss_saturation, activations, toy_data, optimal_discriminator, real_digits)


def main() -> int:
    for make in FIGURES:
        print(make().relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
