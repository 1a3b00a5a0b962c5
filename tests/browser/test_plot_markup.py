"""Figures built from hostile data, drawn by Chromium: no link, no bold and no TeX from the data.

A plain page (plotly.js inline, network cut off) holds one figure per builder in fmwidgets/plots
(embedding map, explorer, CLIP heatmap and map, confusion matrix, loss curve, token
probabilities, masked-LM bars, attention, logit lens, evaluation bars), each fed the same hostile strings as
legend names, class names, tick labels, titles and hover text.  Plotly turns ``<a href>`` into an
SVG ``<a>`` and ``<b>`` into a bold ``tspan``; neither may appear from the data, and each hostile
string must still be read as written (``a<b`` as ``a<b``), in the figure and in its hover label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.inside.attention import AttentionResult
from fmwidgets.core.inside.lens import LensResult
from fmwidgets.core.training.metrics import classification_metrics
from fmwidgets.core.training.result import FinetuneResult
from fmwidgets.plots.tokens import fill_mask_figure, token_probs_figure
from fmwidgets.records import RunRecord
from fmwidgets.testing import HOSTILE_LABELS, color_images

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

HOSTILE = list(HOSTILE_LABELS)
LINK, BOLD, TEX, LESS, QUOTES = HOSTILE


def _figures(bert, clip) -> dict[str, object]:
    n = len(HOSTILE)
    df = pd.DataFrame({LINK: HOSTILE * 2, "text": HOSTILE * 2})
    classes = [LINK, BOLD, LESS]
    y = [LINK, BOLD, LESS, LINK]
    full = classification_metrics([classes.index(v) for v in y], [0, 1, 2, 1], classes)
    tuned = FinetuneResult(
        name="m-ft", base="m", task="classification", task_reason="given", status="finished",
        metrics={"accuracy": full["accuracy"]}, before={},
        history=[{"kind": "train", "step": 1, "loss": 1.0}, {"kind": "train", "step": 2, "loss": 0.5}],
        classes=classes, y_true=y, y_pred=y, eval_rows=4, record=RunRecord(kind="finetune"),
        per_class=full["per_class"], confusion=full["confusion"])
    weights = np.full((1, 1, n, n), 1 / n, dtype=np.float32)
    attention = AttentionResult(tokens=HOSTILE, special=[False] * n, layers=list(weights),
                                record=RunRecord(kind="attention"))
    lens = LensResult(tokens=HOSTILE, layers=["embeddings", "layer 1"], guesses=[[[t] for t in HOSTILE]] * 2,
                      ids=np.zeros((2, n, 1), dtype=np.int64), probs=np.full((2, n, 1), 0.5, dtype=np.float32),
                      record=RunRecord(kind="logit_lens"))
    masks = pd.DataFrame({"mask": [0] * n, "token": HOSTILE, "probability": [0.1] * n, "sequence": HOSTILE})
    clip_result = fm.clip_similarity(color_images(2), [LINK, TEX, QUOTES])
    import plotly.graph_objects as go

    control = go.Figure(go.Bar(x=[LINK, BOLD], y=[1, 2], hovertext=[LINK, BOLD]), layout={"title": LINK})
    return {
        "control": control,  # plain Plotly, unescaped: shows that the checks below can see markup
        "embeddings": fm.plot_embeddings(np.random.default_rng(0).normal(size=(2 * n, 2)), color=LINK,
                                         hover="text", title=TEX, data=df),
        "explorer": fm.EmbeddingExplorer(df, text="text", color=LINK, title=LINK).figure,
        "clip": fm.plot_clip_similarity(clip_result),
        "clip_map": fm.plot_clip_map(clip_result),
        "confusion": fm.plot_confusion_matrix(tuned),
        "loss": fm.plot_loss_curve(tuned, title=LINK),
        "token_probs": token_probs_figure(HOSTILE, [0.5] * n, [[(t, 0.1)] for t in HOSTILE]),
        "fill_mask": fill_mask_figure(masks),
        "attention": fm.plot_attention(attention),
        "lens": fm.plot_logit_lens(lens),
        "evaluation": fm.plot_evaluation(pd.DataFrame(
            {"mean": [0.5] * n, "ci_low": [0.4] * n, "ci_high": [0.6] * n, "n": [3] * n}, index=HOSTILE), title=LINK),
    }


def _page(figures: dict[str, object], path: Path) -> Path:
    import plotly.io as pio

    parts = [f'<div id="{name}">' + pio.to_html(fig, full_html=False, include_plotlyjs=(i == 0)) + "</div>"
             for i, (name, fig) in enumerate(figures.items())]
    path.write_text('<html><head><meta charset="utf-8"></head><body>' + "".join(parts) + "</body></html>",
                    encoding="utf-8")
    return path


# Where the first point (or cell) of the first hoverable trace is drawn, in page pixels.
_FIRST_POINT = """
(root) => {
  const gd = root.querySelector('.js-plotly-plot');
  const fl = gd._fullLayout, r = gd.getBoundingClientRect();
  const tr = gd._fullData.find(t => t.hoverinfo !== 'skip' && t.visible === true);
  const xa = fl[tr.xaxis.replace('x', 'xaxis')], ya = fl[tr.yaxis.replace('y', 'yaxis')];
  let x = tr.x ? tr.x[0] : 0, y = tr.y ? tr.y[0] : 0;
  if (tr.type === 'bar') { if (tr.orientation === 'h') x = x / 2; else y = y / 2; }  // inside the bar
  return [r.left + xa._offset + xa.d2p(x), r.top + ya._offset + ya.d2p(y)];
}
"""
# What the plot shows: SVG links, bold runs, all text, and the hover label.
_READ = """
(root) => {
  const gd = root.querySelector('.js-plotly-plot');
  const bold = [...gd.querySelectorAll('tspan, text')].filter(
      e => /bold/.test(e.getAttribute('style') || '') || e.getAttribute('font-weight') === 'bold'
  ).map(e => e.textContent);
  return {
    links: gd.querySelectorAll('svg a').length,  // the modebar's logo link is HTML, outside the SVG
    bold: bold,
    text: [...gd.querySelectorAll('.main-svg text')].filter(e => !e.closest('.hoverlayer'))
        .map(e => e.textContent).join('\\n'),
    hover: [...gd.querySelectorAll('.hoverlayer text')].map(e => e.textContent).join(' | '),
  };
}
"""


def _hover_and_read(page, name: str) -> dict:
    root = page.locator(f"#{name}")
    root.scroll_into_view_if_needed()
    x, y = root.evaluate(_FIRST_POINT)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        root.locator(".hoverlayer .hovertext").first.wait_for(timeout=15_000)
    except PlaywrightTimeout:  # no label: the assertion that names the figure reports it
        return {**root.evaluate(_READ), "hover": ""}
    return root.evaluate(_READ)


def test_hostile_text_draws_as_text_in_every_figure(browser, bert, clip, tmp_path):
    from fmwidgets.display import static_plotly

    static_plotly()
    figures = _figures(bert, clip)
    page_file = _page(figures, tmp_path / "hostile-figures.html")
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.route("http*://**", lambda route: route.abort())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri(), wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(figures)}",
                           timeout=120_000)
    seen = {name: _hover_and_read(page, name) for name in figures}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "hostile-plot-text.png"), full_page=True)
    context.close()
    assert not errors, errors
    control = seen.pop("control")
    assert control["links"] >= 1 and "BOLD" in control["bold"], "the page does not show Plotly's markup"
    for name, shown in seen.items():
        assert shown["links"] == 0, f"{name}: a link from the data"
        assert "BOLD" not in shown["bold"], f"{name}: bold text from the data"
        everything = shown["text"] + "\n" + shown["hover"]
        assert "&lt;" not in everything and "&amp;" not in everything and "&#36;" not in everything, \
            f"{name}: an escape shows as text"
        assert shown["hover"].strip(), f"{name}: no hover label was drawn"
    # each hostile string reads as written where the figure shows it
    assert LINK in seen["embeddings"]["text"] and TEX in seen["embeddings"]["text"]
    assert LESS in seen["confusion"]["text"] and LINK in seen["loss"]["text"]
    assert LINK in seen["token_probs"]["hover"] and LINK in seen["attention"]["hover"]
    assert seen["embeddings"]["hover"] in HOSTILE
    assert QUOTES in seen["clip"]["text"] and LESS in seen["attention"]["text"]
    assert TEX in seen["evaluation"]["text"] and LINK in seen["evaluation"]["hover"]
