"""Shared test settings: headless matplotlib, a CI hypothesis profile, small helpers, and
the fast selection: tests marked ``slow`` (notebooks, the book in a browser, training the
judges, long end-to-end runs) run only with ``--run-slow`` or in CI (``CI`` set)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("stress", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (CI, with CI set, always runs them)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CI") or config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: python -m pytest --run-slow runs it (CI always does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def require(module: str, why: str):
    """Import ``module`` for a test.  In CI (``CI`` set) a missing module is an error, so
    nothing is silently skipped there; on a learner's machine the test skips with ``why``."""
    import importlib

    import pytest

    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=why)


@pytest.fixture
def torch_one_thread():
    """PyTorch on one thread for the test (tiny tensors: its thread pool only costs time
    and fights other jobs); the previous count is restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def fast_sample(rows, group, ids, keep=1):
    """``rows`` (argument tuples) as pytest params: the first ``keep`` of each ``group(row)`` run in the fast
    selection, the others are marked slow (the whole table runs with ``--run-slow`` and in CI)."""
    seen: dict = {}
    params = []
    for row, name in zip(rows, ids):
        seen[group(row)] = seen.get(group(row), 0) + 1
        params.append(pytest.param(*row, id=name, marks=() if seen[group(row)] <= keep else pytest.mark.slow))
    return params
