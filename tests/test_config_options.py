"""One source for configuration (issue 22): each TrainConfig field is declared once, and
``minigan train``'s options, validation, resume rules and error messages follow from it;
one reader of run directories serves --resume, sample, eval and export alike."""

import argparse
import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan.cli import build_parser, main
from minigan.errors import MiniganError
from minigan.train import TrainConfig, merge_overrides
from minigan.train import config as config_module
from minigan.train.options import Option, add_options, declare

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
#: ``minigan train``'s options that are not configuration fields.
NOT_FIELDS = {"help", "preset", "out", "resume", "viewer", "viewer_frames", "quiet"}


def train_parser() -> argparse.ArgumentParser:
    return next(a for a in build_parser()._subparsers._group_actions).choices["train"]


def actions_by_dest():
    found = {}
    for action in train_parser()._actions:
        found.setdefault(action.dest, []).append(action)
    return found


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def run_cli(capsys, *argv):
    """``minigan *argv`` in process: (exit code, stderr lines)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err.splitlines()


def test_every_field_is_declared_once_and_is_one_option():
    actions = actions_by_dest()
    for name, f in FIELDS.items():
        assert isinstance(f.metadata.get("option"), Option), f"{name} is not declared with declare(...)"
        assert len(actions.get(name, [])) == 1, f"{name}: {len(actions.get(name, []))} command-line options"
        assert flag_of(name) in actions[name][0].option_strings
        assert actions[name][0].default is None  # so --resume can tell what was given
    assert set(actions) - set(FIELDS) == NOT_FIELDS


@pytest.mark.parametrize("flag, shown", [
    ("--batch-size", "default 64"), ("--hidden", "default 128,128,128"), ("--beta2", "default 0.999"),
    ("--optimizer", "default adam"), ("--lr-decay-start", "default 0.5"), ("--dataset", "default mnist5k"),
    ("--lr", "0.0004 for images"), ("--ema", "0.999 for images"), ("--batchnorm", "yes with --arch dcgan_g"),
])
def test_help_shows_the_default(flag, shown):
    action = next(a for a in train_parser()._actions if flag in a.option_strings)
    assert shown in " ".join(action.help.split())


def test_help_default_follows_the_field():
    """A changed default changes the help: nothing restates it."""

    @dataclasses.dataclass
    class Tiny:
        width: int = declare(7, "a width", "model", int, low=1)
        rate: float | None = declare(None, "a rate", "optimisation", float)

    parser = argparse.ArgumentParser()
    add_options(parser, Tiny, {"for images": {"rate": 0.25}, "for toy sets": {"rate": 0.5}})
    helps = {a.dest: a.help for a in parser._actions}
    assert "default 7" in helps["width"]
    assert "0.25 for images" in helps["rate"] and "0.5 for toy sets" in helps["rate"]
    assert parser.parse_args(["--width", "3"]).width == 3


def test_every_field_checks_its_type():
    for name in FIELDS:
        with pytest.raises(MiniganError, match=f"^{flag_of(name)} "):
            TrainConfig(**{name: object()}).validate()


def out_of_range(o: Option):
    """Values the declaration ``o`` refuses, with the command line's spelling."""
    bad = [(float("nan"), "nan")] if o.kind is float else []
    if o.choices is not None:
        bad.append(("no-such-choice", "no-such-choice"))
    if o.low is not None:
        low = o.low if o.low_open else o.low - 1
        value = int(low) if o.kind in (int, tuple) else float(low)
        bad.append(((value,) if o.kind is tuple else value, str(value)))
    if o.high is not None:
        high = o.high if o.high_open else o.high + 1
        bad.append((float(high), str(float(high))))
    return bad


RANGED = [(name, value, text) for name, f in FIELDS.items()
          for value, text in out_of_range(f.metadata["option"])]


def test_the_ranges_that_must_be_declared_are():
    ranged = {name for name, _, _ in RANGED}
    assert {"n", "epochs", "steps", "batch_size", "lr", "g_lr", "beta1", "beta2", "momentum", "weight_decay", "l1",
            "d_steps", "real_label", "pack", "z_dim", "hidden", "channels", "alpha", "seed", "dropout", "translate",
            "instance_noise", "ema", "lr_decay_start", "lr_decay_end", "sample_every", "checkpoint_every",
            "optimizer", "loss", "order", "arch", "noise", "output", "dtype", "engine", "device",
            "lr_decay"} <= ranged


@pytest.mark.parametrize("name, value, text", RANGED, ids=[f"{n}={t}" for n, _, t in RANGED])
def test_out_of_range_names_its_option(capsys, tmp_path, name, value, text):
    with pytest.raises(MiniganError, match=f"^{flag_of(name)} "):
        TrainConfig(**{name: value}).validate()
    length = [] if name in ("steps", "epochs") else ["--steps", "2"]  # were the value taken, a short run
    code, err = run_cli(capsys, "train", "--dataset", "ring", *length, flag_of(name), text,
                        "--out", str(tmp_path / "run"), "-q")
    assert code == 2 and len(err) == 1 and err[0].startswith("minigan: error:"), err
    assert flag_of(name) in err[0]
    assert not (tmp_path / "run").exists()


def test_a_huge_batch_names_batch_size(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "minigan", "train", "--batch-size", "1000000000", "--out", "x"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("minigan: error: --batch-size 1000000000") and "--hidden" not in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_batch_larger_than_the_data_is_one_line_without_steps(capsys, tmp_path):
    """Without --steps the default length divided by the steps per epoch (0): a traceback before."""
    code, err = run_cli(capsys, "train", "--dataset", "ring", "--n", "320", "--batch-size", "1000",
                        "--out", str(tmp_path / "run"), "-q")
    assert code == 2 and len(err) == 1 and "--batch-size 1000" in err[0] and "320" in err[0], err


def test_memory_message_blames_what_drives_the_estimate(monkeypatch):
    monkeypatch.setattr(config_module, "available_memory", lambda: 2**30)
    with pytest.raises(MiniganError, match="choose a smaller --batch-size") as info:
        config_module.check_memory(TrainConfig(batch_size=10_000_000, hidden=(16,)), 2)
    assert str(info.value).startswith("--batch-size 10000000 with --hidden 16 ")
    with pytest.raises(MiniganError, match="choose smaller --hidden widths") as info:
        config_module.check_memory(TrainConfig(batch_size=8, hidden=(40_000, 40_000)), 2)
    assert "--hidden 40000,40000" in str(info.value)
    config_module.check_memory(TrainConfig(batch_size=8, hidden=(16,)), 2)  # small: fine


def test_rules_between_fields_name_both_options():
    for options, words in [
        (dict(batch_size=10, pack=3), ("--batch-size", "--pack 3")),
        (dict(lr_decay="geometric", lr_decay_end=0.0), ("--lr-decay-end", "geometric")),
        (dict(channels=16), ("--channels", "--arch")),
        (dict(batchnorm=True), ("--batchnorm", "--arch")),
        (dict(device="cuda"), ("--device cuda", "--engine torch")),
    ]:
        with pytest.raises(MiniganError) as info:
            TrainConfig(**options).validate()
        assert all(w in str(info.value) for w in words), (options, str(info.value))


def test_resume_may_change_only_the_declared_fields():
    config = TrainConfig(dataset="ring", steps=10, hidden=(8, 8))
    assert merge_overrides(config, {"steps": 20, "hidden": [8, 8]}).steps == 20
    grown = merge_overrides(TrainConfig(epochs=3), {"steps": 50})
    assert (grown.epochs, grown.steps) == (None, 50)
    assert merge_overrides(TrainConfig(steps=3), {"epochs": 5}).steps is None
    with pytest.raises(MiniganError, match=r"^--hidden 16,16 conflicts .*\(hidden = 8,8\)"):
        merge_overrides(config, {"hidden": (16, 16)})
    with pytest.raises(MiniganError, match="^--steps must be an integer >= 1"):
        merge_overrides(config, {"steps": 0})
    assert set(TrainConfig.RESUMABLE) == {"epochs", "steps", "sample_every", "checkpoint_every", "data_dir",
                                          "engine", "device"}


def test_preset_with_options():
    assert config_module.preset_options("article", lr=0.001)["g_lr"] == 0.001
    config = config_module.config_from_preset("article")
    assert (config.lr, config.g_lr, config.real_label) == (2e-4, 2e-4, 1.0)
    with pytest.raises(MiniganError, match="^--preset"):
        config_module.config_from_preset("fancy")


def test_saved_options_round_trip():
    config = TrainConfig(dataset="ring", hidden=(8, 4), batchnorm=None, lr=0.01, steps=5)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["hidden"] == [8, 4]


# -- the one reader of run directories ---------------------------------------------------------


class _Bomb:
    """Unpickling it makes a directory: a reader that used pickle would leave a trace."""

    def __reduce__(self):
        return (os.mkdir, ("unpickled",))


def bad_runs(base):
    """name -> a path that is no usable run."""
    (base / "empty").mkdir()
    (base / "garbage").mkdir()
    (base / "garbage" / "checkpoint.npz").write_bytes(b"not a zip file\n" * 20)
    np.savez(base / "pickled.npz", format=np.array("minigan-checkpoint"), format_version=np.array(1),
             config=np.array([_Bomb()], dtype=object))
    return {"missing": "nowhere", "empty": "empty", "garbage": "garbage", "pickled": "pickled.npz"}


COMMANDS = {
    "--resume": lambda path: ["train", "--resume", path],
    "--checkpoint": lambda path: ["sample", "--checkpoint", path, "-o", "x.png"],
    "eval": lambda path: ["eval", "--checkpoint", path],
    "export": lambda path: ["export", "--checkpoint", path, "-o", "x.pt"],
}


def test_every_command_reads_a_bad_run_the_same_way(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for kind, path in bad_runs(tmp_path).items():
        rests = set()
        for command, argv in COMMANDS.items():
            code, err = run_cli(capsys, *argv(path))
            assert code == 2 and len(err) == 1 and err[0].startswith("minigan: error:"), (kind, command, err)
            option = "--resume" if command == "--resume" else "--checkpoint"
            head = f"minigan: error: {option} {path}: "
            assert err[0].startswith(head), (kind, command, err[0])
            rests.add(err[0][len(head):])
        assert len(rests) == 1, (kind, rests)  # one reader, one message
    assert not (tmp_path / "unpickled").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "garbage", "pickled.npz"]
