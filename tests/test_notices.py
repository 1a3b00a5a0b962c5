"""FMWarnings print as one clean line; other warnings keep Python's format with the source path."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import warnings
import fmwidgets
from fmwidgets.notices import FMWarning
warnings.warn("3 empty rows were skipped.", FMWarning)
warnings.warn("plain user warning", UserWarning)
"""


def test_fm_warning_is_one_line_and_others_keep_their_source():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    lines = proc.stderr.splitlines()
    assert lines[0] == "FMWarning: 3 empty rows were skipped."
    assert "UserWarning: plain user warning" in lines[1] and lines[1].startswith("<string>:")


def test_install_twice_wraps_once():
    import warnings

    from fmwidgets import notices

    notices.install()
    first = warnings.formatwarning
    notices.install()
    assert warnings.formatwarning is first
