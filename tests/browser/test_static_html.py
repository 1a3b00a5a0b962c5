"""A notebook exported to HTML draws its fmwidgets figures in Chromium with the network cut off."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def open_export_offline(browser, cells: list[str], tmp_path: Path, figures: int):
    """Run ``cells`` in a kernel, export to HTML, open it in Chromium with the network cut off and
    wait for ``figures`` plotly figures; (context, page, blocked URLs, page errors)."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3",
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
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}",
                           timeout=30_000)
    return context, page, blocked, errors


def drawn_traces(page) -> list[str]:
    """The first trace type of every figure plotly.js drew on the page."""
    return page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(gd => gd._fullData[0].type)")


def test_exported_figures_draw_offline(browser, tmp_path):
    context, page, blocked, errors = open_export_offline(browser, [
        "%load_ext fmwidgets\nimport fmwidgets as fm, numpy as np",
        ("fm.plot_embeddings(np.array([[0, 0], [1, 1], [2, 0.5]], dtype='float32'),\n"
         "                   hover=['first point', 'second point', 'third point'])"),
        ("import plotly.graph_objects as go\n"
         "from fmwidgets.plots.figure import with_record\n"
         "with_record(go.Figure(go.Bar(x=['a', 'b'], y=[1, 2])), None)"),
    ], tmp_path, figures=2)
    traces = drawn_traces(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "static-export-offline.png"), full_page=True)
    context.close()
    assert traces == ["scattergl", "bar"]
    assert not [u for u in blocked if "plot.ly" in u], "the export asked the plotly CDN for plotly.js"
    assert not errors, errors


VIEW_CELLS = [
    ("%load_ext fmwidgets\nimport fmwidgets as fm, pandas as pd\n"
     "from fmwidgets.testing import CORPUS, tiny_bert, tiny_gpt2\n"
     "fm.load(str(tiny_bert()), as_='bert'); fm.load(str(tiny_gpt2()), as_='gpt2')"),
    "fm.EmbeddingExplorer(CORPUS[:12], model='bert')",
    ("df = pd.DataFrame({'text': CORPUS, 'label': ['pos', 'neg'] * (len(CORPUS) // 2)})\n"
     "run = fm.finetune(df, model='bert', label='label', epochs=1, batch_size=8, max_length=16)"),
    ("pg = fm.Playground(models=['gpt2'], prompt='the cat'); pg.max_new_tokens.value = 4\n"
     "pg.greedy.value = True; pg\n"),
    "pg.generate(); pg.wait(60)",
    "fm.AttentionView(fm.attention('the cat sat', model='bert'), view='heatmap')",
]


def test_every_view_draws_its_static_picture_offline(browser, tmp_path):
    """Explorer map, training curve and confusion matrix, playground history, attention PNG."""
    context, page, _, errors = open_export_offline(browser, VIEW_CELLS, tmp_path, figures=3)
    traces = drawn_traces(page)
    history_rows = page.evaluate("document.querySelectorAll('table.fm-history tr').length")
    pictures = page.evaluate("[...document.querySelectorAll('.fm-attention-static img')]"
                             ".filter(img => img.complete && img.naturalWidth > 0).length")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "static-views-offline.png"), full_page=True)
    context.close()
    # the explorer's map, then the training loss curve and confusion matrix: each drawn once
    assert traces == ["scattergl", "scatter", "heatmap"], traces
    assert history_rows == 2 and pictures == 1
    assert not errors, errors
