"""Progress reporting for a training run: a live bar, plain log lines, or silence.

:func:`make_progress` picks one of three reporters with the same small interface::

    p.start(total_steps, initial_step)
    p.update(step, epoch, stats)     # after every step; stats has d_loss, g_loss, d_real, d_fake
    p.close()

* :class:`BarProgress` (stderr is a terminal): a tqdm bar whose postfix shows the
  latest d_loss, g_loss, D(x) and D(G(z)), refreshed a few times a second.
* :class:`LineProgress` (stderr is a file or a pipe, e.g. CI logs): one line per 10% of
  the run, and at least one every ``every_s`` seconds.
* :class:`NullProgress` (``--quiet``): nothing.
"""

from __future__ import annotations

import sys
import time


def format_stats(stats) -> str:
    return (f"d_loss {stats.d_loss:.4f}  g_loss {stats.g_loss:.4f}  "
            f"D(x) {stats.d_real:.3f}  D(G(z)) {stats.d_fake:.3f}")


class NullProgress:
    def start(self, total: int, initial: int = 0) -> None:
        pass

    def update(self, step: int, epoch: int, stats) -> None:
        pass

    def write(self, message: str) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress(NullProgress):
    """Plain lines on ``stream``: every 10% of the steps, and at least every ``every_s`` s."""

    def __init__(self, stream=None, every_s: float = 30.0):
        self.stream = stream if stream is not None else sys.stderr
        self.every_s = every_s

    def start(self, total: int, initial: int = 0) -> None:
        self.total = max(int(total), 1)
        self.t0 = self.last = time.perf_counter()
        self.next_fraction = (initial * 10 // self.total + 1) / 10

    def update(self, step: int, epoch: int, stats) -> None:
        now = time.perf_counter()
        if step / self.total + 1e-12 < self.next_fraction and now - self.last < self.every_s and step != self.total:
            return
        while self.next_fraction <= step / self.total + 1e-12:
            self.next_fraction += 0.1
        self.last = now
        self.write(f"step {step}/{self.total} ({100 * step / self.total:.0f}%)  epoch {epoch}  "
                   f"{format_stats(stats)}  [{now - self.t0:.0f} s]")

    def write(self, message: str) -> None:
        print(message, file=self.stream, flush=True)


class BarProgress(NullProgress):
    """A tqdm bar on stderr with the latest statistics as its postfix."""

    def __init__(self, refresh_s: float = 0.25):
        self.refresh_s = refresh_s

    def start(self, total: int, initial: int = 0) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=self.refresh_s)
        self.last = 0.0
        self.shown = initial

    def update(self, step: int, epoch: int, stats) -> None:
        now = time.perf_counter()
        if now - self.last < self.refresh_s and step != self.bar.total:
            return
        self.last = now
        self.bar.set_postfix_str(f"ep {epoch} {format_stats(stats)}", refresh=False)
        self.bar.update(step - self.shown)
        self.shown = step

    def write(self, message: str) -> None:
        self.bar.write(message, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


def make_progress(mode: str = "auto"):
    """``"auto"`` (bar if stderr is a terminal, else lines), ``"bar"``, ``"lines"`` or ``"none"``."""
    if mode == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        mode = "bar" if isatty is not None and isatty() else "lines"
    if mode == "bar":
        return BarProgress()
    if mode == "lines":
        return LineProgress()
    if mode == "none":
        return NullProgress()
    raise ValueError(f"make_progress: unknown mode {mode!r}")
