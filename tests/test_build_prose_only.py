"""``notebooks/build.py --prose-only``: markdown edits reach the committed notebook without
re-executing it, and anything more than a markdown edit is refused (exit status 2)."""

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "notebooks" / "build.py"

SOURCE = '''
from _cells import code, md

TITLE = "99_demo"

CELLS = [
    md("# Demo\\n\\n{title}"),
    code("x = 6 * 7\\nprint(x)"),
    md("Between the cells."),
    code({second!r}),
]
'''


@pytest.fixture(scope="module")
def build_module():
    require("nbformat", "needs nbformat: pip install -e '.[dev]'")
    spec = importlib.util.spec_from_file_location("notebooks_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_source(path: Path, title="First version.", second="print('hello')") -> Path:
    path.write_text(SOURCE.format(title=title, second=second), encoding="utf-8")
    return path


def committed_notebook(build_module, source: Path, out_dir: Path) -> Path:
    """The notebook as a full run would commit it: built, with outputs filled in by hand."""
    import nbformat

    nb, out = build_module.build(source, out_dir)
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output {n}\n")]
    nbformat.write(nb, out)
    return out


def test_markdown_edit_keeps_code_cells_and_outputs(build_module, tmp_path):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    before = json.loads(out.read_text(encoding="utf-8"))

    write_source(source, title="Second version, with **new** prose.")
    path, changed = build_module.prose_only(source, tmp_path)

    assert path == out and changed == 1
    after = json.loads(out.read_text(encoding="utf-8"))
    assert "".join(after["cells"][0]["source"]) == "# Demo\n\nSecond version, with **new** prose."
    # Everything but that one markdown cell is byte-for-byte what was committed.
    assert after["cells"][1:] == before["cells"][1:]
    assert after["cells"][0]["id"] == before["cells"][0]["id"]
    assert after["metadata"] == before["metadata"]
    assert [c.get("outputs") for c in after["cells"]] == [c.get("outputs") for c in before["cells"]]


def test_display_tags_are_copied_but_a_run_tag_is_a_code_change(build_module, tmp_path):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    before = json.loads(out.read_text(encoding="utf-8"))
    original = source.read_text(encoding="utf-8")
    cell = 'code("x = 6 * 7\\nprint(x)"'
    source.write_text(original.replace(cell + ")", cell + ', tag="hide-input")'), encoding="utf-8")
    assert build_module.prose_only(source, tmp_path) == (out, 1)
    after = json.loads(out.read_text(encoding="utf-8"))
    assert after["cells"][1]["metadata"]["tags"] == ["hide-input"]  # how the book shows it
    assert after["cells"][1]["outputs"] == before["cells"][1]["outputs"]  # outputs kept
    source.write_text(original.replace(cell + ")", cell + ', tag="parameters")'), encoding="utf-8")
    with pytest.raises(build_module.ProseOnlyError, match="code cell 1"):  # papermill would run it otherwise
        build_module.prose_only(source, tmp_path)


def test_unchanged_source_writes_nothing(build_module, tmp_path):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    text = out.read_text(encoding="utf-8")
    assert build_module.prose_only(source, tmp_path) == (out, 0)
    assert out.read_text(encoding="utf-8") == text


def test_code_change_is_refused(build_module, tmp_path):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    text = out.read_text(encoding="utf-8")
    write_source(source, title="New prose too.", second="print('hello, world')")
    with pytest.raises(build_module.ProseOnlyError, match="code cell 3"):
        build_module.prose_only(source, tmp_path)
    assert out.read_text(encoding="utf-8") == text      # not even the prose was written


def test_added_removed_or_reordered_cells_are_refused(build_module, tmp_path):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    text = out.read_text(encoding="utf-8")
    original = source.read_text(encoding="utf-8")

    added = original.replace('    md("Between the cells."),\n', '    md("Between the cells."),\n    md("New."),\n')
    removed = original.replace('    md("Between the cells."),\n', "")
    swapped = original.replace('    code("x = 6 * 7\\nprint(x)"),\n    md("Between the cells."),\n',
                               '    md("Between the cells."),\n    code("x = 6 * 7\\nprint(x)"),\n')
    for variant, message in ((added, "added or removed"), (removed, "added or removed"), (swapped, "reordered")):
        assert variant != original
        source.write_text(variant, encoding="utf-8")
        with pytest.raises(build_module.ProseOnlyError, match=message):
            build_module.prose_only(source, tmp_path)
        assert out.read_text(encoding="utf-8") == text


def test_command_line_refusal_is_one_line_and_exit_status_2(build_module, tmp_path, monkeypatch, capsys):
    source = write_source(tmp_path / "ch99.py")
    out = committed_notebook(build_module, source, tmp_path)
    text = out.read_text(encoding="utf-8")
    monkeypatch.setattr(build_module, "chapter_sources", lambda: {"99": source})
    monkeypatch.setattr(build_module, "HERE", tmp_path)

    write_source(source, title="Only prose changed.")
    assert build_module.main(["--prose-only", "99"]) == 0
    assert "1 cell(s) updated (markdown, display tags)" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")

    write_source(source, title="Prose and code changed.", second="print('changed')")
    assert build_module.main(["--prose-only", "99"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("99_demo.ipynb: --prose-only refused: code cell 3")
    assert "python notebooks/build.py 99" in err
    assert out.read_text(encoding="utf-8") == text


def test_prose_only_cannot_be_combined_with_running_options(build_module):
    with pytest.raises(SystemExit) as exc:
        build_module.main(["--prose-only", "--fast", "01"])
    assert exc.value.code == 2
