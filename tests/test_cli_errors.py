"""Every bad input: exit code 2, exactly one line on stderr starting "minigan: error:", no
traceback, and nothing created or overwritten."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import checkpoint as ckpt

SMALL = ["--dataset", "ring", "--n", "320", "--hidden", "8,8", "--z-dim", "2", "-q"]


def minigan(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``root``."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_one_line_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("minigan: error:"), lines[0]
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory holding one finished small run ("run") and its architecture twin ("wide")."""
    base = tmp_path_factory.mktemp("errors")
    assert minigan("train", *SMALL, "--steps", "20", "--out", "run", cwd=base).returncode == 0
    assert minigan("train", *SMALL[:-5], "--hidden", "12,12", "--z-dim", "2", "--steps", "5", "--out", "wide",
                   "-q", cwd=base).returncode == 0
    return base


BAD_TRAIN_ARGS = [
    (["--dataset", "no-such-set"], "unknown data set"),
    (["--loss", "wasserstein"], "--loss"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--order", "sideways"], "--order"),
    (["--noise", "pink"], "--noise"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "fast"], "--lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "-64"], "--batch-size"),
    (["--epochs", "0"], "--epochs"),
    (["--steps", "0"], "--steps"),
    (["--steps", "-3"], "--steps"),
    (["--steps", "10", "--epochs", "2"], "not allowed with"),
    (["--d-steps", "0"], "--d-steps"),
    (["--z-dim", "0"], "--z-dim"),
    (["--hidden", "0,8"], "--hidden"),
    (["--hidden", "eight"], "--hidden"),
    (["--beta1", "1.0"], "--beta1"),
    (["--momentum", "-0.5"], "--momentum"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--seed", "-1"], "--seed"),
    (["--n", "0"], "--n"),
    (["--sample-every", "0"], "--sample-every"),
    (["--batch-size", "100000"], "training examples"),
    (["--no-such-flag"], "unrecognized"),
]


@pytest.mark.parametrize("args, fragment", BAD_TRAIN_ARGS, ids=[" ".join(a) for a, _ in BAD_TRAIN_ARGS])
def test_bad_train_options(tmp_path, args, fragment):
    base = ["train", "--dataset", "ring", "--n", "320", "--steps", "5", "--out", "out", "-q"]
    r = minigan(*base, *args, cwd=tmp_path)
    assert_one_line_error(r, fragment)
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.slow
def test_out_dir_holding_a_run_is_refused_untouched(workdir):
    before = snapshot(workdir / "run")
    r = minigan("train", *SMALL, "--steps", "20", "--out", "run", cwd=workdir)
    assert_one_line_error(r, "already holds a run", "--resume")
    assert snapshot(workdir / "run") == before


def test_non_empty_out_dir_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    r = minigan("train", *SMALL, "--steps", "3", "--out", "mine", cwd=tmp_path)
    assert_one_line_error(r, "not empty")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_unwritable_out_dir_under_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = minigan("train", *SMALL, "--steps", "3", "--out", "afile/run", cwd=tmp_path)
    assert_one_line_error(r, "afile")
    assert (tmp_path / "afile").read_text() == "x"
    r = minigan("train", *SMALL, "--steps", "3", "--out", "afile", cwd=tmp_path)
    assert_one_line_error(r, "not a directory")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_dir_permissions(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        r = minigan("train", *SMALL, "--steps", "3", "--out", "locked/run", cwd=tmp_path)
        assert_one_line_error(r, "cannot")
    finally:
        locked.chmod(0o700)


def test_resume_missing(tmp_path):
    assert_one_line_error(minigan("train", "--resume", "nowhere", cwd=tmp_path), "nowhere")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(minigan("train", "--resume", "empty", cwd=tmp_path), "checkpoint")
    assert list((tmp_path / "empty").iterdir()) == []


def copy_run(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_resume_damaged_checkpoint(workdir, tmp_path, damage):
    run = copy_run(workdir / "run", tmp_path / "run")
    path = run / "checkpoint.npz"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) * 2 // 3]
    elif damage == "flip":
        mid = len(data) // 2
        data[mid:mid + 64] = bytes(b ^ 0x5A for b in data[mid:mid + 64])
    elif damage == "garbage":
        data = bytearray(b"this is not a checkpoint\n" * 10)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    before = snapshot(run)
    r = minigan("train", "--resume", str(run), "--steps", "40", cwd=tmp_path)
    assert_one_line_error(r, "checkpoint")
    assert snapshot(run) == before
    r = minigan("sample", "--checkpoint", str(path), "-o", "x.png", cwd=tmp_path)
    assert_one_line_error(r, "checkpoint")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--hidden", "16,16"], "--hidden 16,16 conflicts"),
    (["--z-dim", "3"], "--z-dim 3 conflicts"),
    (["--lr", "0.1"], "--lr 0.1 conflicts"),
    (["--dataset", "grid"], "--dataset grid conflicts"),
    (["--batch-size", "32"], "--batch-size 32 conflicts"),
    (["--steps", "10"], "past the requested 10"),
    (["--out", "elsewhere"], "--out and --resume"),
])
def test_resume_with_conflicting_options(workdir, tmp_path, args, fragment):
    run = copy_run(workdir / "run", tmp_path / "run")
    before = snapshot(run)
    r = minigan("train", "--resume", str(run), *args, cwd=tmp_path)
    assert_one_line_error(r, fragment)
    assert snapshot(run) == before


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_resume_with_equal_options_is_fine(workdir, tmp_path):
    run = copy_run(workdir / "run", tmp_path / "run")
    r = minigan("train", "--resume", str(run), "--hidden", "8,8", "--z-dim", "2", "--steps", "25", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def graft_weights(src: Path, dst: Path) -> None:
    """Put the weights of run ``src`` into the checkpoint of run ``dst`` (keeping dst's config)."""
    a = ckpt.load(dst / "checkpoint.npz")
    b = ckpt.load(src / "checkpoint.npz")
    for k in list(a):
        if k.startswith(("G/", "D/")):
            a[k] = b[k]
    config = ckpt.load_config(a)
    arrays = {k: v for k, v in a.items() if k not in ("format", "format_version", "minigan_version", "config")}
    ckpt.save(dst / "checkpoint.npz", arrays, config=config)


def test_weights_of_another_architecture(workdir, tmp_path):
    run = copy_run(workdir / "run", tmp_path / "run")
    graft_weights(workdir / "wide", run)
    before = snapshot(run)
    r = minigan("train", "--resume", str(run), "--steps", "40", cwd=tmp_path)
    assert_one_line_error(r, "different architecture")
    assert snapshot(run) == before
    r = minigan("sample", "--checkpoint", str(run), "-o", "x.png", cwd=tmp_path)
    assert_one_line_error(r, "different architecture")
    assert not (tmp_path / "x.png").exists()


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    r = minigan("sample", "--checkpoint", "plain.npz", cwd=tmp_path)
    assert_one_line_error(r, "not a minigan checkpoint")


@pytest.mark.parametrize("args, fragment", [
    (["-n", "0"], "-n"),
    (["--seed", "-2"], "--seed"),
    (["-o", "grid.jpg"], ".png"),
    (["-o", "no/such/dir/grid.png"], "cannot write"),
])
def test_bad_sample_options(workdir, tmp_path, args, fragment):
    r = minigan("sample", "--checkpoint", str(workdir / "run"), *args, cwd=tmp_path)
    assert_one_line_error(r, fragment)
    assert list(tmp_path.iterdir()) == []


def test_sample_needs_a_checkpoint(tmp_path):
    assert_one_line_error(minigan("sample", cwd=tmp_path), "--checkpoint")
    assert_one_line_error(minigan("sample", "--checkpoint", "missing.npz", cwd=tmp_path), "not found")


def test_bad_data_commands(tmp_path):
    assert_one_line_error(minigan("data", "download", "imagenet", cwd=tmp_path), "unknown data set")
    assert_one_line_error(minigan("data", cwd=tmp_path), "data list")
    assert_one_line_error(minigan("data", "explode", cwd=tmp_path), "invalid choice")


def test_every_help_page_prints(capsys):
    """``minigan --help`` and each ``minigan COMMAND --help`` print and exit 0: argparse
    %-formats help strings, so a bare "%" in one of them crashes the top-level page."""
    from minigan.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._subparsers._group_actions).choices
    for argv in [["--help"], *[[name, "--help"] for name in commands]]:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(argv)
        assert exit_info.value.code == 0, argv
        assert capsys.readouterr().out.startswith("usage: minigan"), argv


def test_gradcheck_command_lists_every_layer_and_refuses_a_bad_tolerance(tmp_path):
    """``minigan gradcheck``: the table covers the new layers and G through D, exit 0; a
    tolerance that is not positive is one line and exit 2."""
    r = minigan("gradcheck", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "Dense", "DCGAN D on real + fake"):
        assert name in r.stdout, name
    assert "all passed" in r.stdout and " fail" not in r.stdout
    assert_one_line_error(minigan("gradcheck", "--tol", "0", cwd=tmp_path), "--tol")
