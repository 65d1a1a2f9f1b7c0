"""A run bound to its directory: the training loop with progress, checkpoints and
pictures (:class:`Run`), and the entry points :func:`train` and :func:`resume`."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt
from ..errors import MiniganError
from ..threads import RUN_THREADS, blas_threads
from .config import (
    CHECKPOINT_MAX_S,
    CHECKPOINT_MIN_S,
    CHECKPOINT_NAME,
    METRIC_COLUMNS,
    OutputNotWritten,
    TrainConfig,
    TrainingDiverged,
    data_info,
    load_dataset,
    with_data_defaults,
)
from .files import _fmt, check_new_run_dir, default_out_dir, list_frames, make_writable_dir, write_metrics_csv
from .options import merge_overrides
from .rundir import open_run
from .trainer import Trainer

#: The training viewer's frames (kept across a resume) and its page, in the run directory.
VIEWER_NAME = "viewer.npz"
VIEWER_HTML = "training.html"


@dataclass
class RunResult:
    """What :func:`train` / :func:`resume` did: ``status`` is ``"finished"``,
    ``"interrupted"`` (SIGINT; checkpoint saved) or ``"already_done"``."""

    out_dir: Path
    status: str
    step: int
    total_steps: int
    steps_per_epoch: int
    seconds: float
    last: dict | None = None

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.step // self.steps_per_epoch

    @property
    def epochs(self) -> float:
        """Epochs trained, with the fraction of an unfinished one."""
        return self.step / self.steps_per_epoch

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME


class _StopFlag:
    """SIGINT sets ``requested``; a second SIGINT raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


class Run:
    """A trainer bound to its output directory: the loop, the files, the progress."""

    def __init__(self, trainer: Trainer, out_dir: Path, *, progress="auto", handle_sigint: bool = True,
                 recorder=None, viewer_frames: int | None = None):
        from ..progress import make_progress
        from ..viewer import DEFAULT_FRAMES, frame_steps

        self.trainer = trainer
        self.out = Path(out_dir)
        self.progress = make_progress(progress) if isinstance(progress, str) else progress
        self.handle_sigint = handle_sigint
        self.stop = _StopFlag()
        self.last_checkpoint_step = None
        # The training viewer (2-D data only): a minigan.viewer.TrainingRecorder, or None.
        self.recorder = recorder
        self.viewer_frames = viewer_frames or DEFAULT_FRAMES
        self.viewer_steps = set(frame_steps(trainer.total_steps, self.viewer_frames).tolist())
        self.viewer_saved = len(recorder) if recorder is not None else 0

    # -- files ------------------------------------------------------------------------------

    def config_json(self) -> dict:
        from .. import __version__

        t = self.trainer
        return {
            "minigan_version": __version__,
            "config": t.config.to_dict(),
            "data": data_info(t.dataset),
            "steps_per_epoch": t.spe,
            "total_steps": t.total_steps,
        }

    @contextlib.contextmanager
    def writing(self, path: Path):
        """Turn an ``OSError`` while writing ``path`` (disk full, read-only directory,
        quota) into :class:`OutputNotWritten`: one line naming the file and what is intact."""
        try:
            yield
        except OSError as exc:
            raise OutputNotWritten(self.write_failure(path, exc)) from None

    def write_failure(self, path: Path, exc: OSError) -> str:
        reason = exc.strerror or str(exc) or type(exc).__name__
        checkpoint = self.out / CHECKPOINT_NAME
        if self.last_checkpoint_step is not None and checkpoint.exists():
            kept = (f"the checkpoint of step {self.last_checkpoint_step} ({checkpoint}) is intact; free space "
                    f"and continue with: minigan train --resume {self.out}")
        else:
            kept = "no checkpoint was written yet; free space and start again"
        return f"could not write {path}: {reason}; {kept}"

    def save_checkpoint(self) -> None:
        # The viewer's frames first: a crash between the two files leaves frames beyond the
        # checkpoint, which a resume drops, never a gap.
        if self.recorder is not None and len(self.recorder) != self.viewer_saved:
            with self.writing(self.out / VIEWER_NAME):
                self.recorder.save(self.out / VIEWER_NAME)
            self.viewer_saved = len(self.recorder)
        with self.writing(self.out / CHECKPOINT_NAME):  # atomic: a failed write leaves the old one
            ckpt.save(self.out / CHECKPOINT_NAME, self.trainer.state_arrays(), config=self.config_json())
        self.last_checkpoint_step = self.trainer.step
        self.last_checkpoint_time = time.perf_counter()

    def picture(self, name: str, title: str) -> None:
        path = self.out / "samples" / name
        with self.writing(path):
            drawn = self.trainer.picture(path, title)
        if drawn is not None:
            import shutil

            with self.writing(self.out / "samples.png"):
                shutil.copyfile(path, self.out / "samples.png")

    def epoch_picture(self) -> None:
        t = self.trainer
        e = t.epoch
        self.picture(f"epoch_{e:04d}.png", f"epoch {e} (step {t.step})")

    def snapshot(self) -> None:
        """Add the viewer's frame for the current step: the generator being trained (not
        its moving average) and D, with this step's losses.  Draws no random numbers."""
        t, m = self.trainer, self.trainer.metrics
        t.sync()
        last = (m["d_loss"][-1], m["g_loss"][-1]) if m["step"] and m["step"][-1] == t.step else (math.nan, math.nan)
        self.recorder.snapshot(t.gan.G, t.gan.D, t.step, *last)

    def finish_pictures(self) -> None:
        """losses.png, training.gif and (with the viewer) training.html from what is on
        disk and in memory."""
        from .. import viz

        t = self.trainer
        if t.metrics["step"]:
            cfg = t.config
            with self.writing(self.out / "losses.png"):
                viz.plot_losses({c: np.asarray(v) for c, v in t.metrics.items()}, self.out / "losses.png",
                                title=f"{t.dataset.name}: losses (dotted: equilibrium for real label "
                                      f"{cfg.real_label:g})", real_label=cfg.real_label, loss=cfg.loss)
        frames = list_frames(self.out / "samples", t.spe)
        frames = [f for f in frames if f[0] <= t.step]
        if frames:
            with self.writing(self.out / "training.gif"):
                viz.save_gif([f[1] for f in frames], self.out / "training.gif",
                             captions=[f[2] for f in frames] if t.kind == "image" else None)
        if self.recorder is not None and len(self.recorder):
            from ..viewer import write_html

            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), self.writing(self.out / VIEWER_HTML):
                write_html(self.recorder, self.out / VIEWER_HTML, title=f"{t.dataset.name} ({t.config.loss} loss)",
                           max_frames=self.viewer_frames)

    # -- the loop -------------------------------------------------------------------------------

    def _checkpoint_due(self) -> bool:
        t, every = self.trainer, self.trainer.config.checkpoint_every
        if every is not None:
            return t.step % every == 0
        waited = time.perf_counter() - self.last_checkpoint_time
        return waited >= CHECKPOINT_MAX_S or (t.step % t.spe == 0 and waited >= CHECKPOINT_MIN_S)

    def _one_step(self, csv_file, writer, t0: float, base: float) -> None:
        """Train one step, then record, check, report, draw and checkpoint as due."""
        t, cfg, total = self.trainer, self.trainer.config, self.trainer.total_steps
        stats = t.train_step()
        t.elapsed = base + (time.perf_counter() - t0)
        row = t.record(stats, t.elapsed)
        writer.writerow([_fmt(v) for v in row])
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            value = getattr(stats, name)
            if not math.isfinite(value):
                csv_file.flush()
                raise TrainingDiverged(
                    f"training diverged: {name} is {value} at step {t.step} (epoch {row[1]}); "
                    f"the last good checkpoint is {self.out / CHECKPOINT_NAME} (step "
                    f"{self.last_checkpoint_step}); try a smaller --lr"
                )
        self.progress.update(t.step, row[1], stats)
        if self.recorder is not None and t.step in self.viewer_steps:
            self.snapshot()
        if t.step % t.spe == 0:
            csv_file.flush()
            if t.epoch % cfg.sample_every == 0 or t.step == total:
                self.epoch_picture()
        if self._checkpoint_due() or t.step == total:
            csv_file.flush()
            self.save_checkpoint()

    def loop(self, csv_file) -> str:
        """Train up to ``total_steps``; returns ``"finished"`` or ``"interrupted"``."""
        t = self.trainer
        total = t.total_steps
        writer = csv.writer(csv_file, lineterminator="\n")
        t0, base = time.perf_counter(), t.elapsed
        self.progress.start(total, t.step)
        try:
            # Overflow warnings would only repeat what the NaN/inf check below reports.
            threads = RUN_THREADS.get(t.config.arch) if t.config.engine == "numpy" else None
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), blas_threads(threads):
                while t.step < total:
                    if self.stop.requested:
                        return "interrupted"
                    self._one_step(csv_file, writer, t0, base)
        finally:
            self.progress.close()
        return "finished"

    def run(self) -> RunResult:
        t = self.trainer
        out = self.out
        self.last_checkpoint_time = time.perf_counter()
        if self.recorder is not None and not len(self.recorder):
            self.snapshot()  # the first frame: before training, or where a viewer-less run resumes
        if t.step == 0:
            self.picture("epoch_0000.png", "epoch 0 (before training)")
            self.save_checkpoint()
        elif self.last_checkpoint_step is None:
            self.last_checkpoint_step = t.step
        started = time.perf_counter()
        status = "finished"
        previous = None
        if self.handle_sigint and threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self.stop)
        try:
            with self.writing(out / "metrics.csv"), open(out / "metrics.csv", "a", newline="") as f:
                try:
                    status = self.loop(f)
                except TrainingDiverged:
                    f.flush()
                    self.finish_pictures()
                    raise
            if self.last_checkpoint_step != t.step:
                self.save_checkpoint()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if status == "finished" and t.step % t.spe != 0:
            self.picture(f"step_{t.step:07d}.png", f"step {t.step} (in epoch {t.epoch + 1})")
        self.finish_pictures()
        m = t.metrics
        last = {c: m[c][-1] for c in METRIC_COLUMNS} if m["step"] else None
        return RunResult(out, status, t.step, t.total_steps, t.spe, time.perf_counter() - started, last)


def _recorder(trainer: Trainer, out: Path, viewer: bool | None, resuming: bool):
    """The run's training viewer (:class:`minigan.viewer.TrainingRecorder`) or None.

    Only for 2-D data.  ``viewer``: True (on), False (off) or None (on if the run
    directory already holds the viewer's frames).  A resumed run continues the stored
    frames (those after the checkpoint's step are dropped); without them, or if they cannot
    be read, its viewer starts at the resume step.
    """
    from ..viewer import DEFAULT_POINTS, TrainingRecorder

    path = out / VIEWER_NAME
    if trainer.kind != "2d" or viewer is False or (viewer is None and not (resuming and path.exists())):
        return None
    if resuming and path.exists():
        try:
            rec = TrainingRecorder.load(path)
            rec.truncate(trainer.step)
            return rec
        except (OSError, ValueError):
            pass
    return TrainingRecorder(trainer.real_view, trainer.fixed_z[:DEFAULT_POINTS], trainer.bounds,
                            loss=trainer.config.loss)


def train(config: TrainConfig, out_dir: str | os.PathLike | None = None, *, progress="auto",
          handle_sigint: bool = True, data=None, viewer: bool = False, viewer_frames: int | None = None) -> RunResult:
    """Start a new run of ``config`` in ``out_dir`` (default: :func:`default_out_dir`).

    ``out_dir`` must not exist yet or be empty.  ``progress``: ``"auto"``, ``"bar"``,
    ``"lines"``, ``"none"`` or a reporter object.  ``data``: an already loaded
    :class:`~minigan.data.Dataset` to train on instead of loading ``config.dataset``.
    ``viewer=True`` (the ``minigan train`` default) records, for 2-D data, about
    ``viewer_frames`` (default 50) snapshots spread over the run and writes
    ``training.html``, the scrubbable animation of :mod:`minigan.viewer`; its frames are
    kept in ``viewer.npz`` next to the checkpoint.  It draws no training random numbers.
    Raises :class:`MiniganError` for bad input (before anything is written) and
    :class:`TrainingDiverged` for a NaN/inf loss.
    """
    config = with_data_defaults(config.validate())
    ds = data if data is not None else load_dataset(config)
    config = config.resolve(ds).validate()
    trainer = Trainer(config, ds)
    out = Path(out_dir) if out_dir is not None else default_out_dir(config.dataset)
    check_new_run_dir(out)
    make_writable_dir(out)
    run = Run(trainer, out, progress=progress, handle_sigint=handle_sigint,
              recorder=_recorder(trainer, out, viewer, resuming=False), viewer_frames=viewer_frames)
    with run.writing(out / "config.json"):
        ckpt.atomic_write_bytes(out / "config.json", (json.dumps(run.config_json(), indent=2) + "\n").encode())
    with run.writing(out / "metrics.csv"):
        write_metrics_csv(out / "metrics.csv", trainer.metrics)
    return run.run()


def resume(run_dir: str | os.PathLike, *, progress="auto", handle_sigint: bool = True, data=None,
           viewer: bool | None = None, viewer_frames: int | None = None, **overrides) -> RunResult:
    """Continue the run in ``run_dir`` from its checkpoint, exactly where it stopped.

    ``viewer``: see :func:`train`; None (default) continues the viewer if the run has
    one.  Its stored frames up to the checkpoint's step are kept; a run that had none
    gets a viewer that starts at the resume step.

    ``overrides`` may change only :attr:`TrainConfig.RESUMABLE` fields (e.g. a larger
    ``steps`` or ``epochs`` target); any other value that differs from the run's own
    raises :class:`MiniganError`.
    """
    saved = open_run(run_dir, "--resume")
    out, arrays = saved.directory, saved.arrays
    config = merge_overrides(saved.config, overrides)
    ds = data if data is not None else load_dataset(config)
    config = config.resolve(ds).validate()
    stored = saved.data
    if stored and (stored.get("size"), stored.get("dim")) != (len(ds), ds.dim):
        raise MiniganError(
            f"data set {config.dataset} now has {len(ds)} rows of {ds.dim} values; the run was trained on "
            f"{stored.get('size')} rows of {stored.get('dim')}"
        )
    trainer = Trainer(config, ds)
    trainer.load_state(arrays)
    if trainer.step > trainer.total_steps:
        raise MiniganError(
            f"the run is already at step {trainer.step}, past the requested {trainer.total_steps}; "
            "ask for more --steps or --epochs"
        )
    make_writable_dir(out)
    ckpt.remove_stale_temporaries(out)
    run = Run(trainer, out, progress=progress, handle_sigint=handle_sigint,
              recorder=_recorder(trainer, out, viewer, resuming=True), viewer_frames=viewer_frames)
    run.last_checkpoint_step = trainer.step
    with run.writing(out / "config.json"):
        ckpt.atomic_write_bytes(out / "config.json", (json.dumps(run.config_json(), indent=2) + "\n").encode())
    with run.writing(out / "metrics.csv"):
        write_metrics_csv(out / "metrics.csv", trainer.metrics)
    if trainer.step == trainer.total_steps:
        run.finish_pictures()
        return RunResult(out, "already_done", trainer.step, trainer.total_steps, trainer.spe, 0.0, None)
    # Pictures from after the checkpoint (a killed run went on a little) are redrawn.
    for step, path, _ in list_frames(out / "samples", trainer.spe):
        if step > trainer.step:
            path.unlink()
    return run.run()
