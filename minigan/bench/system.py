"""What the numbers were measured on: BLAS library, its kernel and thread count."""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np

#: environment variables that change which BLAS kernel or how many threads run
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_info() -> dict:
    """NumPy's BLAS: name, version, threads, kernel (``threadpoolctl`` if installed).

    Without threadpoolctl the thread count is OpenBLAS's rule: ``OPENBLAS_NUM_THREADS``,
    else ``OMP_NUM_THREADS``, else the number of CPUs; ``"source"`` says which applied.
    """
    info: dict = {"library": None, "version": None, "threads": None, "kernel": None, "source": None}
    try:
        build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["library"], info["version"] = build.get("name"), build.get("version")
    except Exception:  # noqa: BLE001 - older NumPy: no machine-readable config
        pass
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                info.update(library=pool.get("internal_api"), version=pool.get("version"),
                            threads=pool.get("num_threads"), kernel=pool.get("architecture"),
                            source="threadpoolctl")
                return info
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            info.update(threads=int(os.environ[var]), source=var)
            return info
    info.update(threads=os.cpu_count(), source="CPU count (OpenBLAS default; threadpoolctl not installed)")
    return info


def machine_info() -> dict:
    """CPU count, Python, NumPy, platform, and the BLAS-related environment variables that are set."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas_env": {k: os.environ[k] for k in BLAS_ENV if k in os.environ},
    }


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB (``getrusage``), or None on Windows."""
    try:
        import resource
    except ImportError:
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


class OtherLoad:
    """Context manager: how many CPUs other processes kept busy meanwhile (Linux only).

    Busy time of the whole machine (``/proc/stat``) minus this process's own CPU time
    (``os.times``), divided by the wall time.  A benchmark on a shared machine is only
    trustworthy when this is near 0; ``cpus`` is None where ``/proc/stat`` does not exist.
    """

    def __enter__(self):
        self.cpus = None
        self._start = (_machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter())
        return self

    def __exit__(self, *exc):
        busy, own, wall = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
        if busy is not None and self._start[0] is not None:
            self.cpus = max(0.0, ((busy - self._start[0]) - (own - self._start[1])) / (wall - self._start[2]))
        return False


def _machine_busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system

