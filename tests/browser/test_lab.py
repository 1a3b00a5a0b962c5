"""JupyterLab in Chromium: notebooks run clean, and hostile DataFrame text runs no script."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
TOUR_QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01-quickstart.ipynb"

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


@pytest.mark.skipif(not TOUR_QUICKSTART.exists(), reason="notebooks/01-quickstart.ipynb is not written yet")
def test_tour_quickstart_runs_clean(notebook):
    nb = notebook(TOUR_QUICKSTART)
    nb.run_all()
    nb.screenshot("after-run")
    nb.assert_clean()
    assert "sentence-transformers/all-MiniLM-L6-v2" in nb.page.locator(".jp-Notebook").inner_text()
