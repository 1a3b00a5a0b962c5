"""A notebook exported to HTML draws its fmwidgets figures in Chromium with the network cut off."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def test_exported_figures_draw_offline(browser, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [
        "%load_ext fmwidgets\nimport fmwidgets as fm, numpy as np",
        "fm.plot_embeddings(np.array([[0, 0], [1, 1], [2, 0.5]], dtype='float32'),\n"
        "                   hover=['first point', 'second point', 'third point'])",
        "import plotly.graph_objects as go\n"
        "from fmwidgets.plots.figure import with_record\n"
        "with_record(go.Figure(go.Bar(x=['a', 'b'], y=[1, 2])), None)",
    ]])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    page_file = tmp_path / "export.html"
    page_file.write_text(HTMLExporter().from_notebook_node(nb)[0], encoding="utf-8")

    context = browser.new_context(offline=True)
    page = context.new_page()
    blocked: list[str] = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=30_000)
    traces = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(gd => gd._fullData[0].type)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "static-export-offline.png"), full_page=True)
    context.close()
    assert traces == ["scattergl", "bar"]
    assert not [u for u in blocked if "plot.ly" in u], "the export asked the plotly CDN for plotly.js"
    assert not errors, errors
