"""Pictures of a training run: image grids, loss curves, 2-D and 1-D density plots, GIFs.

Everything here writes files and keeps no global state: figures are
:class:`matplotlib.figure.Figure` objects drawn on an Agg canvas (no ``pyplot``, no
display needed), image grids and GIFs go straight through Pillow (which matplotlib
already depends on).

Conventions: image samples arrive flattened, shape (N, H*W), with pixels in [-1, 1]
(the generator's tanh range; -1 is black); 2-D samples have shape (N, 2); 1-D samples
shape (N, 1).  A discriminator is passed as a function ``d_prob(x) -> (N,)`` returning
D(x) = sigmoid(logit) in [0, 1].
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

# -- image grids -------------------------------------------------------------------------------


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Map pixels from [-1, 1] to 0..255 (values outside are clipped)."""
    x = (np.asarray(images, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, image_shape: tuple[int, int], *, ncols: int | None = None,
               pad: int = 2, pad_value: int = 80) -> np.ndarray:
    """Tile N flattened images (N, H*W) in [-1, 1] into one uint8 picture.

    ``ncols`` defaults to ceil(sqrt(N)); the grid has ceil(N / ncols) rows.  Tiles are
    separated (and framed) by ``pad`` pixels of grey ``pad_value``.  Returns an array of
    shape (rows*(H+pad)+pad, ncols*(W+pad)+pad), dtype uint8.
    """
    images = np.asarray(images)
    h, w = image_shape
    n = images.shape[0]
    if images.ndim != 2 or images.shape[1] != h * w:
        raise ValueError(f"image_grid: expected images of shape (N, {h * w}), got {images.shape}")
    if n == 0:
        raise ValueError("image_grid: no images")
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, dtype=np.uint8)
    tiles = to_uint8(images).reshape(n, h, w)
    for i in range(n):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = tiles[i]
    return out


def upscale_factor(width: int, target: int = 480) -> int:
    """The integer zoom that brings ``width`` pixels closest to ``target`` (at least 1)."""
    return max(1, round(target / max(width, 1)))


def save_image(array: np.ndarray, path: str | os.PathLike, *, scale: int = 1) -> Path:
    """Save a uint8 picture (H, W) grey or (H, W, 3) RGB as PNG, zoomed ``scale`` times
    with nearest-neighbour interpolation (pixels stay sharp)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(array))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path, format="PNG")
    return Path(path)


def save_image_grid(images, image_shape, path, *, ncols: int | None = None) -> Path:
    """:func:`image_grid` then :func:`save_image`, zoomed to about 480 pixels wide."""
    grid = image_grid(images, image_shape, ncols=ncols)
    return save_image(grid, path, scale=upscale_factor(grid.shape[1]))


# -- matplotlib helpers ---------------------------------------------------------------------------


def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path, dpi=90) -> Path:
    fig.savefig(path, dpi=dpi, format="png")
    return Path(path)


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points (shorter at the start); same length."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size == 0:
        return values
    finite = np.where(np.isfinite(values), values, 0.0)
    c = np.concatenate([[0.0], np.cumsum(finite)])
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


# -- loss curves ----------------------------------------------------------------------------------


def plot_losses(metrics: dict[str, np.ndarray], path: str | os.PathLike, *, title: str = "",
                real_label: float = 1.0, loss: str = "non_saturating") -> Path:
    """Two panels over the training steps: the losses, and D's mean outputs.

    ``metrics`` has equal-length arrays ``step``, ``d_loss``, ``g_loss``, ``d_real``
    (mean D(x)) and ``d_fake`` (mean D(G(z))).  Raw values are drawn faintly, a moving
    average (1% of the run) on top.  Dotted lines, with their values in the legends, mark
    the game's equilibrium for the recipe that was trained (D's target ``real_label`` for
    real data, G's ``loss``; see :func:`minigan.losses.equilibrium`): for labels 1/0,
    D = 1/2 everywhere, d_loss = 2 log 2 ~ 1.386 and non-saturating g_loss = log 2 ~ 0.693;
    for real label 0.9, D = 0.45, d_loss ~ 1.376 and g_loss ~ 0.799.
    """
    from .losses import equilibrium

    eq = equilibrium(real_label, loss)
    step = np.asarray(metrics["step"])
    window = max(1, step.size // 100)
    fig = _figure((8, 6))
    ax_loss, ax_d = fig.subplots(2, 1, sharex=True)
    for key, label, colour in (("d_loss", "D loss", "tab:blue"), ("g_loss", "G loss", "tab:orange")):
        y = np.asarray(metrics[key], dtype=np.float64)
        ax_loss.plot(step, y, color=colour, alpha=0.2, linewidth=0.5)
        ax_loss.plot(step, smooth(y, window), color=colour, label=label)
    ax_loss.axhline(eq.d_loss, color="tab:blue", linestyle=":", linewidth=1,
                    label=f"D loss at equilibrium = {eq.d_loss:.3f}")
    ax_loss.axhline(eq.g_loss, color="tab:orange", linestyle=":", linewidth=1,
                    label=f"G loss at equilibrium = {eq.g_loss:.3f}")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right")
    ax_loss.set_title(title or f"losses (dotted: equilibrium, D* = {eq.d_star:g}, real label {real_label:g})")
    for key, label, colour in (("d_real", "D(x), real", "tab:green"), ("d_fake", "D(G(z)), generated", "tab:red")):
        y = np.asarray(metrics[key], dtype=np.float64)
        ax_d.plot(step, y, color=colour, alpha=0.2, linewidth=0.5)
        ax_d.plot(step, smooth(y, window), color=colour, label=label)
    ax_d.axhline(eq.d_star, color="grey", linestyle=":", linewidth=1, label=f"D* at equilibrium = {eq.d_star:g}")
    ax_d.set_ylim(-0.02, 1.02)
    ax_d.set_xlabel("step")
    ax_d.set_ylabel("mean D output")
    ax_d.legend(loc="upper right")
    return _save(fig, path)


# -- toy distributions ------------------------------------------------------------------------------


def data_bounds(x: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """Per-dimension plotting range (D, 2): the data's min/max widened by ``margin`` of
    the span (at least 0.5 on each side)."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum(margin * (hi - lo), 0.5)
    return np.stack([lo - pad, hi + pad], axis=1)


def plot_2d(path, fake: np.ndarray, real: np.ndarray | None = None, d_prob=None, *, bounds=None,
            title: str = "", resolution: int = 120) -> Path:
    """Generated (red) and real (black, if given) points in the plane, over the
    discriminator's decision surface (if ``d_prob`` is given): filled contours of D(x) on
    a ``resolution`` x ``resolution`` grid (blue = "real", D -> 1; red = "fake", D -> 0;
    the white line is D = 1/2).  ``bounds`` (2, 2) defaults to :func:`data_bounds` of
    the real points (or of the generated ones)."""
    bounds = data_bounds(real if real is not None else fake) if bounds is None else np.asarray(bounds)
    fig = _figure((5.2, 4.6))
    ax = fig.subplots()
    if d_prob is not None:
        gx = np.linspace(bounds[0, 0], bounds[0, 1], resolution)
        gy = np.linspace(bounds[1, 0], bounds[1, 1], resolution)
        xx, yy = np.meshgrid(gx, gy)
        pts = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
        zz = np.asarray(d_prob(pts), dtype=np.float64).reshape(xx.shape)
        cs = ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.55)
        ax.contour(xx, yy, zz, levels=[0.5], colors="white", linewidths=1.2)
        fig.colorbar(cs, ax=ax, label="D(x)", ticks=[0, 0.5, 1])
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=3, c="black", alpha=0.5, linewidths=0, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:red", alpha=0.7, linewidths=0, label="generated")
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper right", markerscale=4, fontsize="small")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def _mixture_density(x: np.ndarray, centres: np.ndarray, std: float) -> np.ndarray:
    """Density of the equal-weight mixture of N(c, std^2) at the points x (1-D)."""
    c = np.asarray(centres, dtype=np.float64).ravel()
    z = (x[:, None] - c[None, :]) / std
    return np.exp(-0.5 * z**2).sum(axis=1) / (c.size * std * math.sqrt(2 * math.pi))


def plot_1d(path, fake: np.ndarray, real: np.ndarray | None = None, d_prob=None, *, bounds=None, centres=None,
            std: float | None = None, title: str = "", bins: int = 120) -> Path:
    """Histograms of generated and (if given) real samples, as densities; the true
    density when the data is a Gaussian mixture (``centres``, ``std``); and D(x) on a
    second axis (if ``d_prob`` is given)."""
    fake = np.asarray(fake, dtype=np.float64).ravel()
    real = None if real is None else np.asarray(real, dtype=np.float64).ravel()
    ref = real if real is not None else fake
    bounds = data_bounds(ref[:, None])[0] if bounds is None else np.asarray(bounds).ravel()[:2]
    edges = np.linspace(bounds[0], bounds[1], bins + 1)
    fig = _figure((7, 4))
    ax = fig.subplots()
    if real is not None:
        ax.hist(real, bins=edges, density=True, histtype="step", color="black", label="real")
    ax.hist(np.clip(fake, bounds[0], bounds[1]), bins=edges, density=True, color="tab:red", alpha=0.45,
            label="generated")
    xs = np.linspace(bounds[0], bounds[1], 600)
    if centres is not None and std:
        ax.plot(xs, _mixture_density(xs, centres, std), color="grey", linewidth=1, label="true density")
    ax.set_xlim(*bounds)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if d_prob is not None:
        ax2 = ax.twinx()
        ax2.plot(xs, d_prob(xs[:, None].astype(np.float32)), color="tab:blue", linestyle="--", label="D(x)")
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_ylabel("D(x)", color="tab:blue")
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return _save(fig, path)


# -- animation --------------------------------------------------------------------------------------


def _caption(img, text: str):
    """``img`` with a white strip and ``text`` added underneath (Pillow's default font)."""
    from PIL import Image, ImageDraw

    strip = 18
    out = Image.new(img.mode, (img.width, img.height + strip), color=255 if img.mode == "L" else (255, 255, 255))
    out.paste(img, (0, 0))
    ImageDraw.Draw(out).text((4, img.height + 3), text, fill=0 if img.mode == "L" else (0, 0, 0))
    return out


def pick_frames(n: int, max_frames: int) -> list[int]:
    """Up to ``max_frames`` indices out of ``range(n)``, evenly spaced, first and last kept."""
    if n <= max_frames:
        return list(range(n))
    return sorted({round(i * (n - 1) / (max_frames - 1)) for i in range(max_frames)})


def save_gif(frames: list[str | os.PathLike], path: str | os.PathLike, *, captions: list[str] | None = None,
             duration_ms: int = 120, hold_last_ms: int = 1500, max_frames: int = 60,
             max_width: int = 320) -> Path:
    """An animated GIF from PNG files (in order), at most ``max_frames`` of them (evenly
    spaced, first and last kept), each shown ``duration_ms`` and the last one longer.
    Pictures wider than ``max_width`` are shrunk by an integer factor (nearest
    neighbour, so a zoomed image grid returns to its own pixels).  ``captions`` (one per
    input frame) are written under the pictures."""
    from PIL import Image

    if not frames:
        raise ValueError("save_gif: no frames")
    keep = pick_frames(len(frames), max_frames)
    images = []
    for i in keep:
        with Image.open(frames[i]) as im:
            img = im.convert("L") if im.mode in ("L", "LA", "1") else im.convert("RGB")
        shrink = math.ceil(img.width / max_width)
        if shrink > 1:
            img = img.resize((img.width // shrink, img.height // shrink), Image.NEAREST)
        if captions is not None:
            img = _caption(img, captions[i])
        if img.mode == "RGB":
            img = img.quantize(colors=255)
        else:  # 32 grey levels: invisible on digits, half the LZW-compressed size
            img = img.point(lambda v: (v >> 3) * 255 // 31)
        images.append(img)
    durations = [duration_ms] * (len(images) - 1) + [hold_last_ms]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
    return Path(path)
