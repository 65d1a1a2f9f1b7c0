"""``minigan eval`` end to end on short runs, and its bad input."""

import json
import subprocess
import sys

import pytest


def minigan(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, extra in (("ring", ["--steps", "300"]), ("digits", ["--steps", "60"])):
        run_dir = root / name
        done = minigan("train", "--dataset", name, *extra, "--out", str(run_dir), "--quiet")
        assert done.returncode == 0, done.stderr
        out[name] = run_dir
    return out


@pytest.mark.slow
def test_eval_ring_reports_mode_coverage(runs):
    done = minigan("eval", "--checkpoint", str(runs["ring"]), "--json", "--quick")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    cov = result["mode_coverage"]
    assert result["samples"] == 2500 and cov["total_modes"] == 8
    assert 0 <= cov["modes"] <= 8 and 0 <= cov["high_quality"] <= 1
    assert sum(cov["counts"]) == round(cov["high_quality"] * 2500)
    assert 0 <= result["detection_accuracy"] <= 1
    assert "parzen" not in result and "class_scores" not in result


@pytest.mark.slow
def test_eval_digits_reports_image_metrics_as_a_table(runs):
    done = minigan("eval", "--checkpoint", str(runs["digits"]), "-n", "500", "--quick")
    assert done.returncode == 0, done.stderr
    for key in ("classifier_accuracy", "class_scores.confidence_score", "class_scores.frechet",
                "memorisation.near_copy_fraction", "parzen.mean", "detection_accuracy"):
        assert key in done.stdout
    as_json = json.loads(minigan("eval", "--checkpoint", str(runs["digits"]), "-n", "500", "--quick",
                                 "--json").stdout)
    assert as_json["classifier_accuracy"] > 0.7  # a real classifier of the 8x8 digits
    assert 1 <= as_json["class_scores"]["confidence_score"] <= 10
    assert min(abs(as_json["parzen"]["sigma"] - 0.1 * 10 ** (k / 9)) for k in range(10)) < 1e-9


@pytest.mark.parametrize("args, words", [
    (["--checkpoint", "/nonexistent/run"], "not found"),
    (["--checkpoint", "x", "-n", "5"], "-n"),
])
def test_eval_bad_input(args, words):
    done = minigan("eval", *args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_eval_mnist5k_reports_both_judges(tmp_path):
    run_dir = tmp_path / "mnist"
    done = minigan("train", "--steps", "20", "--out", str(run_dir), "--quiet")
    assert done.returncode == 0, done.stderr
    done = minigan("eval", "--checkpoint", str(run_dir), "-n", "300", "--quick", "--json", timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    first, second = result["class_scores"], result["strided_judge"]
    assert "pooled" in result["classifier"] and result["classifier_accuracy"] >= 0.96
    assert second["classifier_accuracy"] >= 0.96
    # Twenty steps make blobs: both judges put them far from the held-out digits, each in
    # its own feature space (the two distances differ).
    assert first["frechet"] > 50 and second["frechet"] > 50 and first["frechet"] != second["frechet"]
    assert sum(second["histogram"]) == 300
