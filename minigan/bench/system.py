"""What the numbers were measured on: BLAS library, its kernel and thread count."""

from __future__ import annotations

import os
import platform
import sys

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
