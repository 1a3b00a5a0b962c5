"""JupyterLab in Chromium: notebooks run clean, and hostile DataFrame text runs no script."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

QUICKSTART = [
    "%load_ext fmwidgets\nimport fmwidgets as fm",
    "%fm load",
    "%fm info",
    "%fm env",
]


def test_quickstart_runs_clean(notebook):
    nb = notebook(QUICKSTART, "quickstart.ipynb")
    nb.run_all()
    nb.screenshot("after-run")
    nb.assert_clean()
    card = nb.cell_output(2)
    assert "all-MiniLM-L6-v2" in card.inner_text()
    assert "transformers" in nb.cell_output(3).inner_text()
