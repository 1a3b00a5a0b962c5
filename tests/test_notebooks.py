"""The tour notebooks run top to bottom, re-run to the same results, and export to static HTML.

Each ``notebooks/*.ipynb`` present is executed in a real kernel (nbclient, HF_HUB_OFFLINE=1) in
a temporary copy of the folder, so CI proves the tour works on the embedded MiniLM and the tiny
local models.  Executed notebooks and their HTML are kept under ``test-artifacts/notebooks``.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ARTIFACTS = REPO / "test-artifacts" / "notebooks"
CELL_TIMEOUT = 300
PLOTLY = "application/vnd.plotly.v1+json"
FIGURE = 'class="plotly-graph-div"'
QUICKSTART_MAX_BYTES = 6 * 2**20  # plotly.js is about 4.7 MB of it
EMBEDDINGS_MAX_BYTES = 7 * 2**20  # 04-embeddings saved with its widget state: plotly.js once, not per explorer
# A line of plotly.js found once in each copy of it (plotly.min.js, and the FigureWidget's bundle).
PLOTLY_JS_COPY = re.compile(r"Plotly\.register\.")
WIDGET = "application/vnd.jupyter.widget-view+json"
# The notebook whose re-run is compared: generated text, projections and metrics all matter.
RERUN_PREFERENCE = ("02-prompting", "04-embeddings", "03-finetune", "05-attention", "01-quickstart")


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel started in ``cwd``; raises on the first error."""
    nb = copy.deepcopy(nb)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false"))
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def to_html(nb: nbformat.NotebookNode) -> str:
    html, _ = HTMLExporter().from_notebook_node(nb)
    return html


def save_artifacts(name: str, nb: nbformat.NotebookNode, html: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
    (ARTIFACTS / f"{name}.html").write_text(html, encoding="utf-8")


def figures(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The outputs that are plotly figures (a div that plotly.js draws)."""
    return [o for o in outputs(nb) if FIGURE in o.get("data", {}).get("text/html", "")]


def assert_static_pictures(nb: nbformat.NotebookNode, html: str) -> None:
    """Every plotly figure is saved once and draws from the HTML alone: plotly.js embedded once."""
    assert not [o for o in outputs(nb) if PLOTLY in o.get("data", {})], \
        "a figure is saved twice (plotly JSON beside its HTML)"
    for fig in figures(nb):
        div = re.search(r'<div id="([0-9a-f-]{36})"', fig["data"]["text/html"]).group(1)
        assert f'document.getElementById("{div}")' in html, "a figure's drawing script is not in the HTML"
    if figures(nb):
        assert len(re.findall(r"\* plotly\.js v\d", html)) == 1, "plotly.js must be embedded exactly once"
        assert not re.search(r"<script[^>]+src=\"[^\"]*cdn\.plot\.ly", html), "a figure needs the plotly CDN"
    dropped = [o for o in outputs(nb) if WIDGET in o.get("data", {}) and "text/html" in o["data"]]
    assert not dropped, "a widget's text/html beside its widget-view is dropped by nbconvert: show it apart"
    if any(WIDGET in o.get("data", {}) for o in outputs(nb)):
        state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
        assert state.get("state"), "widgets are shown but their state was not saved in the notebook"


REVIEW_CELLS = [
    "import pandas as pd\n"
    "import fmwidgets as fm\n"
    "pairs = pd.DataFrame({'q': ['first <b>q</b>', 'second q'], 'x': ['left-a', 'x2'], 'y': ['right-b', 'y2']})\n"
    "review = fm.Review(pairs, a='x', b='y', input='q', seed=0, name='static-review')\n"
    "review",
    "review.prefer(0, 'a')",
    "labelled = pd.DataFrame({'text': ['<i>great</i> tool'], 'label': ['pos'], 'confidence': [0.75],\n"
    "                         'score_pos': [0.75], 'score_neg': [0.25]})\n"
    "fm.LabelReview(labelled, text='text', name='static-labels')",
]


def test_review_views_read_in_static_html(tmp_path):
    """nbconvert draws a widget-view output and drops the text/html beside it: the review views
    put their row in a plain output of its own, escaped, kept current as verdicts come in."""
    nb = execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in REVIEW_CELLS]), tmp_path)
    html = to_html(nb)
    save_artifacts("static-reviews", nb, html)
    shown = [o["data"]["text/plain"] for o in nb.cells[0].outputs
             if "fm-review-static" in o.get("data", {}).get("text/html", "")]
    assert shown == ["Review of static-review: pair 1 of 2, 1 reviewed"]  # updated in place by the next cell
    assert "first &lt;b&gt;q&lt;/b&gt;" in html and "left-a" in html and "right-b" in html
    assert "&lt;i&gt;great&lt;/i&gt; tool" in html and "Label review: 0 of 1 rows reviewed" in html
    assert "<b>q</b>" not in html and "<i>great</i>" not in html


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    """A copy of notebooks/ (with any data files next to them) to run in."""
    target = tmp_path_factory.mktemp("tour") / "notebooks"
    shutil.copytree(REPO / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


_executed: dict[str, nbformat.NotebookNode] = {}


def executed(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Each tour notebook runs once per test session; later tests reuse that run."""
    if path.stem not in _executed:
        _executed[path.stem] = execute(nbformat.read(path, as_version=4), workdir)
    return _executed[path.stem]


# ---------------------------------------------------------------------------------------------
# A small purpose-made notebook: fmwidgets figures export without a kernel or a CDN

FIGURE_CELLS = [
    "%load_ext fmwidgets",
    "import plotly.graph_objects as go\n"
    "from fmwidgets.plots.figure import with_record\n"
    "from fmwidgets.records import RunRecord\n"
    "fig = with_record(go.Figure(go.Scatter(x=[1, 2, 3], y=[4.5, 5.5, 6.5], name='fm-trace-a')),\n"
    "                  RunRecord(kind='demo', params={'points': 3}, seed=7))\n"
    "fig",
    "with_record(go.Figure(go.Bar(x=['a', 'b'], y=[1, 2], name='fm-trace-b')), RunRecord(kind='demo'))",
]


def test_fmwidgets_figures_render_in_static_html_without_a_cdn(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in FIGURE_CELLS])
    nb = execute(nb, tmp_path)
    html = to_html(nb)
    save_artifacts("static-figures", nb, html)
    shown = figures(nb)
    assert len(shown) == 2
    assert shown[0]["metadata"]["fmwidgets"]["kind"] == "demo"
    assert shown[0]["metadata"]["fmwidgets"]["seed"] == 7
    assert shown[0]["data"]["text/plain"] == "<Figure: 1 traces>"
    assert "fm-trace-a" in html and "fm-trace-b" in html
    assert_static_pictures(nb, html)


# ---------------------------------------------------------------------------------------------
# The tour


def test_the_tour_is_there():
    """CI runs the tour; an empty notebooks/ folder must not pass silently."""
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


# Notebooks that compare with an API-served model: they use the test session's `transformers serve`
# (the `served` fixture) through these variables instead of starting a server of their own.
SERVED_NOTEBOOKS = ("09-api-models",)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tour_notebook_runs_records_and_exports(path, workdir, request, monkeypatch):
    if path.stem in SERVED_NOTEBOOKS:
        served = request.getfixturevalue("served")
        monkeypatch.setenv("FM_SERVED_BASE_URL", served.base_url)
        monkeypatch.setenv("FM_SERVED_MODEL", served.model)
    nb = executed(path, workdir)
    outs = outputs(nb)
    errors = [o for o in outs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}" if errors else ""
    assert not [o for o in outs if o.output_type == "stream" and o.name == "stderr"
                and "Traceback" in o.text], f"{path.name} printed a traceback"
    unrecorded = [o for o in figures(nb) if "fmwidgets" not in o.get("metadata", {})]
    assert not unrecorded, f"{path.name}: {len(unrecorded)} figure(s) carry no RunRecord in the output metadata"
    for out in [o for o in outs if "fmwidgets" in o.get("metadata", {})]:
        record = out["metadata"]["fmwidgets"]
        assert record["kind"] and record["versions"]["transformers"]
    for cell in nb.cells:  # the live view ends with the summary; with --out, Out[] does not repeat it
        if cell.cell_type == "code" and re.search(r"^%fm finetune .*--out ", cell.source, re.MULTILINE):
            shown = [o for o in cell.outputs if "class='fm-finetune'" in o.get("data", {}).get("text/html", "")]
            assert len(shown) == 1, f"{path.name}: a %fm finetune cell shows its summary {len(shown)} times"
    html = to_html(nb)
    save_artifacts(path.stem, nb, html)
    assert_static_pictures(nb, html)
    if path.stem == "01-quickstart":
        assert len(html.encode()) <= QUICKSTART_MAX_BYTES, f"the quickstart exports to {len(html.encode())} bytes"
    saved = nbformat.writes(nb)  # as nbclient saves it: outputs and widget state
    copies = len(PLOTLY_JS_COPY.findall(saved))
    assert copies <= 1, f"{path.name} saves plotly.js {copies} times (a FigureWidget saves one per view)"
    if path.stem == "04-embeddings":
        assert len(saved.encode()) <= EMBEDDINGS_MAX_BYTES, f"04-embeddings saves as {len(saved.encode())} bytes"


_TIMING = re.compile(r"\d+(\.\d+)?\s*(s|ms|sec|seconds|it/s|s/it|tokens/s|tok/s|samples/s)\b")
_FLOAT = re.compile(r"-?\d+\.\d+(e-?\d+)?")


def comparable(nb: nbformat.NotebookNode) -> list[list[str]]:
    """Each code cell's text outputs and figure data, without timings, ids and float noise."""

    def clean(text: str) -> str:
        text = _TIMING.sub("<time>", text)
        text = re.sub(r"0x[0-9a-f]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)?", "<when>", text)
        return _FLOAT.sub(lambda m: f"{float(m.group()):.4g}", text)

    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        seen = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout":
                seen.append(clean(out.text))
            data = out.get("data", {})
            if FIGURE in data.get("text/html", ""):
                seen.append(clean(data["text/html"]))
            elif "text/plain" in data and WIDGET not in data:
                seen.append(clean(data["text/plain"]))
        cells.append(seen)
    return cells


@pytest.mark.slow
@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ holds no .ipynb files")
def test_a_rerun_gives_the_same_results(workdir):
    by_stem = {p.stem: p for p in NOTEBOOKS}
    stem = next((s for s in RERUN_PREFERENCE if s in by_stem), NOTEBOOKS[0].stem)
    first = executed(by_stem[stem], workdir)
    second = execute(nbformat.read(by_stem[stem], as_version=4), workdir)
    for i, (a, b) in enumerate(zip(comparable(first), comparable(second))):
        assert a == b, f"{stem}: code cell {i} gave different outputs on a re-run"
