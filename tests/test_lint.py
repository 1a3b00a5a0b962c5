"""Lint, format and types: `ruff check` passes on fmwidgets/ and bench/, `ruff format --check`
and mypy on fmwidgets/.

The lint rules (pyproject.toml) are chosen to catch bugs (undefined names, unused imports,
mutable defaults, silent `except Exception`, wrong types); the formatter keeps one layout, so
diffs show changes, not style.  Run `.venv/bin/ruff format fmwidgets` before committing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    exe = BIN / tool
    if not exe.exists():
        pytest.skip(f"{tool} is not installed in this environment (pip install -e .[dev])")
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_check_passes():
    proc = _run("ruff", "check", "fmwidgets", "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_applied():
    proc = _run("ruff", "format", "--check", "fmwidgets")
    assert proc.returncode == 0, "run `.venv/bin/ruff format fmwidgets`:\n" + proc.stdout + proc.stderr


def test_mypy_passes():
    proc = _run("mypy")  # files and options from [tool.mypy] in pyproject.toml
    assert proc.returncode == 0, proc.stdout + proc.stderr
