"""The results tables in two languages (minigan.words, ``minigan reproduce --render``): every
committed table is what its JSON renders to, in English and in Chinese, and the Chinese
tables a reader of the book sees have Chinese headers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.commands.reproduce import render
from minigan.words import ZH, translator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
TABLES = [(RESULTS, w) for w in ("ring", "grid", "parzen", "scores", "study", "time", "structure")] + [
    (RESULTS / "length", "study")]
CJK = re.compile(r"[\u4e00-\u9fff]")


def body(path: Path) -> str:
    """A table file without its provenance lines (the comment, and in Chinese the line after it)."""
    text = path.read_text(encoding="utf-8")
    text = text[text.index("-->") + 3:].lstrip("\n") if text.startswith("<!--") else text
    return text[text.index("\n\n") + 2:] if text.startswith("本表的来源") else text


@pytest.mark.parametrize("folder,what", TABLES, ids=[f"{f.name}/{w}" for f, w in TABLES])
def test_committed_tables_are_what_their_data_renders_to(folder, what):
    raw = json.loads((folder / f"{what}.json").read_text(encoding="utf-8"))
    assert body(folder / f"{what}.md") == render(what, raw, "en") + "\n"
    assert body(folder / f"{what}.zh.md") == render(what, raw, "zh") + "\n"


@pytest.mark.parametrize("folder,what", TABLES, ids=[f"{f.name}/{w}" for f, w in TABLES])
def test_chinese_tables_have_chinese_headers_and_notes(folder, what):
    text = body(folder / f"{what}.zh.md")
    lines = text.splitlines()
    headers = [lines[i - 1] for i, line in enumerate(lines) if re.fullmatch(r"(\|---)+\|", line)]
    assert headers
    for header in headers:
        cells = [c.strip() for c in header.strip("|").split("|")]
        english = [c for c in cells if not CJK.search(c) and c not in ("σ",)]
        assert not english, f"{what}: header cells without Chinese: {english}"
    prose = [line for line in lines if line and not line.startswith(("|", "#", "- **"))]
    assert prose and all(CJK.search(line) for line in prose), [p for p in prose if not CJK.search(p)]
    assert "machine named above" not in text


def test_translator_formats_both_languages_and_refuses_unknown_text():
    assert translator("en")("{n} seeds, all {total} modes in {all_modes}".replace("{n}", "{seeds}"),
                            seeds=3, total=8, all_modes=2) == "3 seeds, all 8 modes in 2"
    assert translator("zh")("{seeds} seeds, all {total} modes in {all_modes}", seeds=3, total=8,
                            all_modes=2) == "3 个种子，2 个覆盖全部 8 个模式"
    with pytest.raises(KeyError, match="no Chinese"):
        translator("zh")("a sentence nobody translated")
    with pytest.raises(ValueError, match="unknown language"):
        translator("fr")


def test_every_chinese_entry_keeps_the_fields_of_its_english():
    fields = re.compile(r"\{(\w*)\}")
    for english, chinese in ZH.items():
        assert sorted(fields.findall(english)) == sorted(fields.findall(chinese)), english


def minigan(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_render_rewrites_both_tables_from_the_json_and_keeps_the_header(tmp_path):
    for suffix in (".json", ".md"):
        shutil.copy(RESULTS / f"grid{suffix}", tmp_path / f"grid{suffix}")
    r = minigan("reproduce", "grid", "--render", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "grid.md").read_text(encoding="utf-8") == (RESULTS / "grid.md").read_text(encoding="utf-8")
    zh = (tmp_path / "grid.zh.md").read_text(encoding="utf-8")
    assert zh.startswith("<!-- written by `minigan reproduce grid`")
    assert "本表的来源：命令 `minigan reproduce grid`" in zh


def test_render_without_data_is_one_line_and_exit_2(tmp_path):
    r = minigan("reproduce", "scores", "--render", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "scores.json" in r.stderr
    (tmp_path / "scores.json").write_text(json.dumps({"runs": []}), encoding="utf-8")
    r = minigan("reproduce", "scores", "--render", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "not a scores results file" in r.stderr and "Traceback" not in r.stderr
