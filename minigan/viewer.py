"""A training viewer for 2-D data: an animation a reader can scrub, with no kernel.

In the spirit of GAN Lab (Kahng et al. 2018), offline.  During training a
:class:`TrainingRecorder` takes *snapshots*; afterwards :meth:`TrainingRecorder.to_jshtml`
turns them into matplotlib's JavaScript animation (``FuncAnimation(...).to_jshtml()``:
the frames as embedded PNGs, a slider, play/step buttons), and :func:`write_html` wraps
that in a self-contained HTML page.  Each frame shows

* the real points (black) and the generated points ``x_i = G(z_i)`` (gold) for one fixed
  noise batch ``z`` (n, z_dim), so a point moves only because G changed;
* ``D(x) = sigmoid(D's logit)``, "the probability that x is real", on a fixed
  R x R grid over ``bounds``, in ten colour bands (blue: real, red: fake; the palest
  blue and red meet at D = 1/2);
* an arrow on each generated point: the direction in which G's loss pushes it,
  :func:`generator_push`;
* the step, that step's two losses and the median arrow strength in the title.

The arrows
----------
With ``l_G(a)`` the per-sample generator loss of D's logit ``a`` (non-saturating:
``l_G = -log sigmoid(a)``; minimax: ``l_G = log(1 - sigmoid(a))``, see
:func:`minigan.losses.generator_loss`) and ``L_G = (1/n) sum_i l_G(D(x_i))`` over the
snapshot's n points, the arrow on ``x_i`` is::

    push_i = -n * dL_G / dx_i = -d l_G(D(x_i)) / dx_i             (n, 2)
           = -l_G'(a_i) * d a_i / d x_i

computed with D's own backward pass (the gradient G's update receives through D, before
it reaches G's weights).  So every arrow points up D's logit, scaled by ``-l_G'(a)``:
non-saturating ``1 - D(x)``, so arrows die where D already calls the fakes real; minimax
``D(x)``, so arrows die where D confidently rejects them (the saturation of article
section 3.4).

Display: every arrow is drawn with length ``c * |push_i|`` in data units, one constant
``c`` for the whole run (the 99th percentile of all ``|push|`` gets 12 % of the plot's
width), so an arrow that is short *is* a weak gradient; a reference arrow in the corner
gives the scale.  D's random layers (dropout, instance noise) are skipped: the viewer
shows the deterministic D of the pictures, and draws no random numbers.

Storage: float32 arrays, ``fake`` and ``push`` (F, n, 2), ``field`` (F, R, R) (row j is
``x2 = grid[j]``), ``step`` (F,) int64, ``d_loss``/``g_loss`` (F,) float64 (NaN before
training), plus ``real`` (M, 2), ``z`` (n, z_dim), ``bounds`` (2, 2).  :meth:`save` /
:meth:`load` use an atomic ``.npz`` read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from .losses import GENERATOR_LOSSES, generator_loss
from .nn import Dropout, InstanceNoise, Pack, RandomTranslate, Sequential
from .nn.activations import sigmoid
from .nn.module import backward

#: Defaults sized so that a page stays well under 5 MB (tests/test_viewer.py measures it).
DEFAULT_FRAMES = 50
DEFAULT_POINTS = 240  # a multiple of 1..6, 8, 10, 12: fits a packing D
DEFAULT_RESOLUTION = 48
MIN_SPACING = 10  # steps between frames, at least (short runs get fewer frames)
MAX_REAL_DRAWN = 800
ARROW_FRACTION = 0.12  # the 99th percentile of |push| is drawn this fraction of the plot width
#: Pixels per inch of the frames: 5.4 inches make 648 px, and the smallest text (7 pt) 11.7 px.
DPI = 120
FORMAT = "minigan-viewer"
_RANDOM_LAYERS = (Dropout, InstanceNoise, RandomTranslate)


def inference_view(D):
    """D without its random layers (dropout, instance noise, translation), sharing its
    live weights: the same function as ``D(x)`` but with ``forward``/``backward``, and
    drawing no random numbers.  A D without random layers is returned as it is."""
    if isinstance(D, Pack):
        inner = inference_view(D.module)
        return D if inner is D.module else Pack(inner, D.m)
    if isinstance(D, Sequential) and any(isinstance(m, _RANDOM_LAYERS) for m in D.modules):
        return Sequential(*(m for m in D.modules if not isinstance(m, _RANDOM_LAYERS)))
    return D


def generator_push(D, x: np.ndarray, loss: str = "non_saturating") -> np.ndarray:
    """``push = -n * dL_G/dx`` (n, d): the direction and strength with which G's loss moves
    each sample ``x`` (n, d) (see the module docstring); ``x``'s dtype is kept.

    ``L_G`` is :func:`minigan.losses.generator_loss` (``loss``) of D's logits on ``x``,
    a mean over the logits; for an unpacked D ``push[i] = -d l_G(D(x_i))/dx_i``.  A packing
    D needs n to be a multiple of its pack size.
    """
    if loss not in GENERATOR_LOSSES:
        raise ValueError(f"generator_push: unknown loss {loss!r}; expected one of {GENERATOR_LOSSES}")
    Di = inference_view(D)
    logits, cache = Di.forward(x)
    _, dlogits = generator_loss(logits, loss)
    dx, _ = backward(Di, dlogits, cache, need_grads=False)
    dx *= -logits.size  # undo the mean: the per-sample (per-pack) loss's gradient
    return dx


def grid_points(bounds, resolution: int) -> np.ndarray:
    """The (R*R, 2) float32 grid over ``bounds`` (2, 2): x1 varies fastest, so
    ``values.reshape(R, R)[j, i]`` is the value at ``(x1[i], x2[j])``."""
    b = np.asarray(bounds, dtype=np.float64)
    g1 = np.linspace(b[0, 0], b[0, 1], resolution)
    g2 = np.linspace(b[1, 0], b[1, 1], resolution)
    xx, yy = np.meshgrid(g1, g2)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def discriminator_field(D, bounds, resolution: int) -> np.ndarray:
    """D(x) on the grid of :func:`grid_points`, shape (R, R) float32.  A packing D judges
    packs of m copies of each grid point (as
    :func:`minigan.train.networks.discriminator_probability`)."""
    Di = inference_view(D)
    pts = grid_points(bounds, resolution).astype(_dtype(Di), copy=False)
    if isinstance(Di, Pack):
        pts = np.repeat(pts, Di.m, axis=0)
    return sigmoid(Di(pts)).astype(np.float32).reshape(resolution, resolution)


def frame_steps(total_steps: int, frames: int = DEFAULT_FRAMES, min_spacing: int = MIN_SPACING) -> np.ndarray:
    """The steps at which to take snapshots, int64: ``frames`` steps spread evenly over
    ``0..total_steps``, both ends included; fewer in a short run, so that frames are about
    ``min_spacing`` steps apart or more (a 50-step run gets 6 frames)."""
    if frames < 2:
        raise ValueError(f"frame_steps: frames must be >= 2, got {frames}")
    frames = max(2, min(frames, total_steps // max(1, min_spacing) + 1))
    return np.unique(np.round(np.linspace(0, total_steps, frames)).astype(np.int64))


class TrainingRecorder:
    """Snapshots of a 2-D GAN's training (see the module docstring for what a frame holds).

    ``real`` (M, 2): the real points to draw (at most :data:`MAX_REAL_DRAWN` are kept);
    ``z`` (n, z_dim): the fixed noise of the generated points; ``bounds`` (2, 2): the
    plot's range ``[[x1_lo, x1_hi], [x2_lo, x2_hi]]``; ``loss``: the generator loss whose
    gradient the arrows show.  :meth:`snapshot` adds a frame; nothing in it draws
    random numbers or changes G or D.
    """

    def __init__(self, real, z, bounds, *, loss: str = "non_saturating", resolution: int = DEFAULT_RESOLUTION):
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"TrainingRecorder: unknown loss {loss!r}; expected one of {GENERATOR_LOSSES}")
        real = np.asarray(real, dtype=np.float32)
        if real.ndim != 2 or real.shape[1] != 2:
            raise ValueError(f"TrainingRecorder: real points must have shape (M, 2), got {real.shape}")
        if len(real) > MAX_REAL_DRAWN:
            real = real[np.linspace(0, len(real) - 1, MAX_REAL_DRAWN).astype(np.int64)]
        self.real = np.ascontiguousarray(real)
        self.z = np.ascontiguousarray(z, dtype=np.float32)
        self.bounds = np.asarray(bounds, dtype=np.float64).reshape(2, 2)
        self.loss = loss
        self.resolution = int(resolution)
        self.steps: list[int] = []
        self.d_loss: list[float] = []
        self.g_loss: list[float] = []
        self.fake: list[np.ndarray] = []
        self.push: list[np.ndarray] = []
        self.field: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.steps)

    def snapshot(self, G, D, step: int, d_loss: float = math.nan, g_loss: float = math.nan) -> None:
        """Record frame ``step``: ``G(z)``, the arrows on it, and D(x) on the grid."""
        fake = np.asarray(G(self.z.astype(_dtype(G), copy=False)))
        if isinstance(inference_view(D), Pack):
            fake = fake[:len(fake) - len(fake) % inference_view(D).m]
        self.steps.append(int(step))
        self.d_loss.append(float(d_loss))
        self.g_loss.append(float(g_loss))
        self.fake.append(fake.astype(np.float32))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.push.append(generator_push(D, fake, self.loss).astype(np.float32))
            self.field.append(discriminator_field(D, self.bounds, self.resolution))

    def truncate(self, step: int) -> None:
        """Drop the frames after ``step`` (a resumed run redraws them)."""
        keep = sum(s <= step for s in self.steps)
        for name in ("steps", "d_loss", "g_loss", "fake", "push", "field"):
            del getattr(self, name)[keep:]

    # -- storage -------------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as plain arrays (see the module docstring)."""
        n, r = len(self.z), self.resolution
        return {
            "format": np.array(FORMAT), "loss": np.array(self.loss),
            "real": self.real, "z": self.z, "bounds": self.bounds,
            "step": np.array(self.steps, dtype=np.int64),
            "d_loss": np.array(self.d_loss, dtype=np.float64),
            "g_loss": np.array(self.g_loss, dtype=np.float64),
            "fake": np.array(self.fake, dtype=np.float32).reshape(-1, self.fake[0].shape[0] if self.fake else n, 2),
            "push": np.array(self.push, dtype=np.float32).reshape(-1, self.push[0].shape[0] if self.push else n, 2),
            "field": np.array(self.field, dtype=np.float32).reshape(-1, r, r),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> TrainingRecorder:
        if str(a["format"][()]) != FORMAT:
            raise ValueError("not a minigan viewer file")
        rec = cls(a["real"], a["z"], a["bounds"], loss=str(a["loss"][()]), resolution=a["field"].shape[-1])
        rec.steps = [int(s) for s in a["step"]]
        rec.d_loss = [float(v) for v in a["d_loss"]]
        rec.g_loss = [float(v) for v in a["g_loss"]]
        rec.fake = list(np.asarray(a["fake"], dtype=np.float32))
        rec.push = list(np.asarray(a["push"], dtype=np.float32))
        rec.field = list(np.asarray(a["field"], dtype=np.float32))
        if not (len(rec.steps) == len(rec.d_loss) == len(rec.g_loss) == len(rec.fake) == len(rec.push)
                == len(rec.field)):
            raise ValueError("viewer file: arrays of different lengths")
        return rec

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`arrays` to ``path`` atomically (:func:`minigan.checkpoint.atomic_write`)."""
        from .checkpoint import atomic_write

        arrays = self.arrays()
        atomic_write(Path(path), lambda f: np.savez(f, **arrays))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainingRecorder:
        """Read a file written by :meth:`save` (``allow_pickle=False``).  Raises
        ``ValueError`` (or ``OSError``) if it is unreadable or not a viewer file."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except Exception as exc:  # zipfile.BadZipFile, EOFError, ...
            raise ValueError(f"cannot read viewer file {path}: {exc}") from None
        try:
            return cls.from_arrays(arrays)
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"viewer file {path} is incomplete: {exc}") from None

    # -- drawing ---------------------------------------------------------------------------------

    def arrow_scale(self) -> float:
        """``c``: data units of arrow length per unit of ``|push|`` (one constant per run)."""
        mags = np.concatenate([np.hypot(p[:, 0], p[:, 1]) for p in self.push]) if self.push else np.zeros(0)
        mags = mags[np.isfinite(mags)]
        ref = float(np.quantile(mags, 0.99)) if mags.size else 0.0
        width = float(self.bounds[0, 1] - self.bounds[0, 0])
        return ARROW_FRACTION * width / ref if ref > 0 else 1.0

    def animation(self, *, max_frames: int | None = None, figsize=(5.4, 4.4), dpi: int = DPI, interval: int = 200,
                  title: str = ""):
        """A :class:`matplotlib.animation.FuncAnimation` of (at most ``max_frames``, evenly
        picked) frames, on a pyplot-free figure (nothing is shown)."""
        from matplotlib import colormaps
        from matplotlib.animation import FuncAnimation
        from matplotlib.figure import Figure

        if not self.steps:
            raise ValueError("TrainingRecorder: no frames recorded")
        idx = list(range(len(self.steps)))
        if max_frames is not None and len(idx) > max_frames:
            idx = sorted(set(np.round(np.linspace(0, len(idx) - 1, max_frames)).astype(int).tolist()))
        c = self.arrow_scale()
        b = self.bounds
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        _StillCanvas(fig)
        ax = fig.subplots()
        # Ten colour bands (as the sample pictures' contours): flat colours keep each PNG small.
        cmap = colormaps["RdBu"].resampled(10)
        im = ax.imshow(self.field[idx[0]], origin="lower", extent=(b[0, 0], b[0, 1], b[1, 0], b[1, 1]),
                       cmap=cmap, vmin=0.0, vmax=1.0, alpha=0.75, interpolation="bilinear", aspect="equal")
        fig.colorbar(im, ax=ax, label="D(x), probability real", ticks=[0, 0.5, 1], shrink=0.9)
        ax.scatter(self.real[:, 0], self.real[:, 1], s=2, c="black", alpha=0.5, linewidths=0, label="real")
        f0, p0 = self.fake[idx[0]], self.push[idx[0]] * c
        fake_pts = ax.scatter(f0[:, 0], f0[:, 1], s=9, c="gold", edgecolors="0.15", linewidths=0.4,
                              label="generated G(z)", zorder=3)
        arrows = ax.quiver(f0[:, 0], f0[:, 1], p0[:, 0], p0[:, 1], angles="xy", scale_units="xy", scale=1.0,
                           color="0.1", width=0.004, headwidth=3.5, headlength=4, zorder=4)
        ref = _round_nice(ARROW_FRACTION * float(b[0, 1] - b[0, 0]) / c)
        ax.quiverkey(arrows, 0.80, 0.04, ref * c, f"|push| = {ref:g}", labelpos="W", coordinates="axes",
                     fontproperties={"size": 7})
        ax.set_xlim(b[0, 0], b[0, 1])
        ax.set_ylim(b[1, 0], b[1, 1])
        ax.locator_params(nbins=4)
        ax.tick_params(labelsize=7)
        ax.legend(loc="upper right", fontsize=7, markerscale=1.5, framealpha=0.8)
        heading = ax.set_title("", fontsize=8)

        def draw(k):
            i = idx[k]
            im.set_data(self.field[i])
            fake, push = self.fake[i], self.push[i] * c
            fake_pts.set_offsets(fake)
            arrows.set_offsets(fake)
            arrows.set_UVC(push[:, 0], push[:, 1])
            heading.set_text(_frame_title(title, self.steps[i], self.d_loss[i], self.g_loss[i], self.push[i]))
            return ()

        draw(0)
        # Lay the figure out once: every frame has the same boxes, and without a layout
        # engine savefig draws each frame once instead of twice.
        fig.canvas.draw()
        fig.set_layout_engine(None)
        return FuncAnimation(fig, draw, frames=len(idx), interval=interval, blit=False, repeat=False)

    def to_jshtml(self, *, max_frames: int | None = DEFAULT_FRAMES, **kw) -> str:
        """The animation as matplotlib's JavaScript player (an HTML fragment with a slider
        and play/step buttons; frames embedded as PNG): for ``IPython.display.HTML``."""
        anim = self.animation(max_frames=max_frames, **kw)
        return offline_player(palette_frames(anim.to_jshtml(default_mode="once")))


def _still_canvas_class():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    class StillCanvas(FigureCanvasAgg):
        """An Agg canvas whose ``draw_idle`` does nothing: an animation being saved draws
        each frame in ``savefig`` only, not a second time after updating it."""

        def draw_idle(self, *args, **kwargs):
            pass

    return StillCanvas


def _StillCanvas(fig):  # noqa: N802 (a class, made on first use so that importing is cheap)
    global _StillCanvas
    cls = _still_canvas_class()
    _StillCanvas = cls
    return cls(fig)


#: Font Awesome classes of matplotlib's player buttons -> text that needs no icon font.
_BUTTON_TEXT = {"fa-minus": "\u2212", "fa-fast-backward": "|\u25c0", "fa-step-backward": "\u2039",
                "fa-play fa-flip-horizontal": "\u25c0", "fa-pause": "\u275a\u275a", "fa-play": "\u25b6",
                "fa-step-forward": "\u203a", "fa-fast-forward": "\u25b6|", "fa-plus": "+"}
#: The player's English tooltips and mode labels -> the Chinese a reader of the book sees.
_CONTROL_TEXT = {"Decrease speed": "减速", "First frame": "第一帧", "Previous frame": "上一帧",
                 "Play backwards": "倒放", "Pause": "暂停", "Play": "播放", "Next frame": "下一帧",
                 "Last frame": "最后一帧", "Increase speed": "加速", "Once": "放一遍", "Loop": "循环",
                 "Reflect": "往返"}


def offline_player(html: str) -> str:
    """matplotlib's ``to_jshtml`` output made to work offline and read in Chinese: its
    buttons' icons come from Font Awesome on a CDN (a ``<link>`` to maxcdn.bootstrapcdn.com);
    drop the link and give each button a text label instead (``|◀ ‹ ◀ ❚❚ ▶ › ▶|``, and ``−`` /
    ``+`` for the speed), and its tooltips and mode labels in Chinese (:data:`_CONTROL_TEXT`)."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">\s*', "", html)
    html = re.sub(r'<i class="fa ([^"]+)"></i>', lambda m: _BUTTON_TEXT.get(m.group(1), "\u00b7"), html)
    html = re.sub(r'(title|aria-label)="([^"]+)"',
                  lambda m: f'{m.group(1)}="{_CONTROL_TEXT.get(m.group(2), m.group(2))}"', html)
    return re.sub(r'(<label for="_anim_radio\d_[^"]*">)(\w+)',
                  lambda m: m.group(1) + _CONTROL_TEXT.get(m.group(2), m.group(2)), html)


#: Colours per frame after :func:`palette_frames` (ten colour bands, two kinds of points,
#: arrows, text and their anti-aliased edges fit easily).
FRAME_COLOURS = 128


def palette_frames(html: str, colours: int = FRAME_COLOURS) -> str:
    """Every embedded PNG frame of ``html`` re-encoded with a palette of ``colours`` colours
    (no dithering): about 3x smaller than matplotlib's RGBA frames, so the frames can be
    twice as wide and the page still stays small."""
    import base64
    import io

    from PIL import Image

    def compact(match):
        # matplotlib writes the base64 text as a JavaScript string split by "\\" + newline.
        frame = Image.open(io.BytesIO(base64.b64decode(match.group(1).replace("\\\n", "")))).convert("RGB")
        out = io.BytesIO()
        frame.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True)
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")

    return re.sub(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", compact, html)


def _dtype(module) -> np.dtype:
    params = module.params()
    return next(iter(params.values())).dtype if params else np.dtype(np.float32)


def _round_nice(x: float) -> float:
    """1, 2 or 5 times a power of ten, at most ``x`` (a readable reference arrow)."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def _frame_title(title: str, step: int, d_loss: float, g_loss: float, push: np.ndarray) -> str:
    head = f"{title}: " if title else ""
    median = float(np.median(np.hypot(push[:, 0], push[:, 1])))
    if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
        return f"{head}step {step} (before training)   median |push| {median:.3g}"
    return f"{head}step {step}   D loss {d_loss:.3f}   G loss {g_loss:.3f}   median |push| {median:.3g}"


PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{ font-family: sans-serif; margin: 1.5em; }} p {{ max-width: 46em; color: #333; }}</style>
</head>
<body>
<h1 style="font-size: 1.2em">{title}</h1>
<p>拖动滑块或点按钮，在训练过程中前后移动。黑点：真实样本；金色点：一批固定噪声的 G(z)；
底色：D(x)，即 D 认为 x 是真实样本的概率（蓝：真，红：假，最浅的蓝与红交界处 D = 1/2）；
箭头：生成器的 {loss} 损失推动每个生成点的方向（损失对该点梯度的相反方向），
所有帧用同一个长度比例，短箭头就是弱梯度。</p>
{body}
</body>
</html>
"""


def write_html(recorder: TrainingRecorder, path: str | os.PathLike, *, title: str = "GAN training",
               max_frames: int | None = DEFAULT_FRAMES, **kw) -> Path:
    """Write a self-contained HTML page with the recorder's animation (no network, no
    kernel: open it from disk); atomically.  Returns the path."""
    from html import escape

    from .checkpoint import atomic_write_bytes

    body = recorder.to_jshtml(max_frames=max_frames, title=title, **kw)
    page = PAGE.format(title=escape(title), loss=recorder.loss.replace("_", "-"), body=body)
    atomic_write_bytes(Path(path), page.encode("utf-8"))
    return Path(path)
