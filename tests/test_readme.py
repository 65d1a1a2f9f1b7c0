"""The README's promises: two Quick start lines, the CI runs the test line, the example runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_lines():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_has_exactly_two_command_lines():
    lines = quick_start_lines()
    assert len(lines) == 2
    assert "minigan train" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_lines()[1] in ci.splitlines()


def test_five_line_example_prints_what_the_readme_shows():
    section = README.split("## Five lines", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"prints\n\n```\n(.*?)\n```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) == 5
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    # Same fields, same numbers up to float32 rounding (BLAS may sum in another order).
    number = r"[-+]?\d+\.\d+(?:e[-+]?\d+)?"
    assert re.sub(number, "#", out.stdout.strip()) == re.sub(number, "#", shown.strip())
    got = [float(v) for v in re.findall(number, out.stdout)]
    want = [float(v) for v in re.findall(number, shown)]
    assert len(got) == 4 and got == pytest.approx(want, rel=1e-4)
