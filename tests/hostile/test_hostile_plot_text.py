"""Every figure builder shows data text as written: no markup, no link, no TeX from the data.

Each figure is built from hostile strings and its whole Plotly JSON is searched.  No string may
hold a tag or a ``$`` that came from the data, and decoding the few entities Plotly decodes
(``plotly_decoded`` below mirrors plotly.js's ``convertEntities``) gives the original text back,
so ``a<b`` still reads ``a<b``.  The browser test (tests/browser/test_plot_markup.py) checks the
same figures as Chromium draws them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import fmwidgets as fm
from fmwidgets.core.inside.attention import AttentionResult
from fmwidgets.core.inside.lens import LensResult
from fmwidgets.core.training.metrics import classification_metrics
from fmwidgets.core.training.result import FinetuneResult
from fmwidgets.render.text import plotly_text
from fmwidgets.plots.tokens import fill_mask_figure, token_probs_figure
from fmwidgets.records import RunRecord
from fmwidgets.testing import HOSTILE_LABELS, color_images

HOSTILE = [*HOSTILE_LABELS[:4], HOSTILE_LABELS[4] + " &amp; &#36;"]  # entities in the data stay text
LINK, BOLD, TEX, LESS, QUOTES = HOSTILE
_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
_NAMED = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "×", "plusmn": "±", "deg": "°"}


def plotly_decoded(text: str) -> str:
    """What plotly.js shows for a text node: its entities decoded once (svg_text_utils.convertEntities)."""
    def one(m):
        inner = m.group(1)
        if inner.startswith("#x"):
            return chr(int(inner[2:], 16))  # noqa: FURB166 (reads as the entity is written)
        if inner.startswith("#"):
            return chr(int(inner[1:]))
        return _NAMED.get(inner, m.group(0))
    return _ENTITY.sub(one, text)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("bdata", "source") for s in _strings(v)]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [s for v in value for s in _strings(v)]
    return []


def assert_no_markup_from_data(fig, must_show=()):
    strings = _strings(fig.to_plotly_json())
    joined = "\n".join(strings)
    assert "<a " not in joined.lower(), "a link tag from the data"
    assert BOLD not in joined and "<b>BOLD" not in joined, "a bold tag from the data"
    assert "$" not in joined, "a $ would let MathJax typeset the data"
    shown = "\n".join(plotly_decoded(s) for s in strings)
    for text in must_show:
        assert text in shown, f"{text!r} does not read back as written"


def test_plotly_text_round_trips_through_plotlys_decoding():
    for text in HOSTILE + ["plain", "5 > 3 & 2 < 4", "&lt;already escaped&gt;"]:
        assert plotly_decoded(plotly_text(text)) == text
        assert "<" not in plotly_text(text) and "$" not in plotly_text(text)
    assert plotly_text("x" * 10, limit=5) == "xxxx…"


def test_embedding_map_legend_hover_symbol_and_title():
    n = 10
    df = pd.DataFrame({LINK: [HOSTILE[i % 5] for i in range(n)], "s": [BOLD, LESS] * 5})
    fig = fm.plot_embeddings(np.random.default_rng(0).normal(size=(n, 2)), color=LINK, hover=[LINK, "s"],
                             symbol="s", title=TEX, data=df)
    assert_no_markup_from_data(fig, HOSTILE)
    assert plotly_decoded(fig.layout.legend.title.text) == LINK
    assert {plotly_decoded(t.name).split(", ")[0] for t in fig.data} == set(HOSTILE)


def test_explorer_legend_and_hover(bert):
    df = pd.DataFrame({"text": HOSTILE, "label": HOSTILE})
    explorer = fm.EmbeddingExplorer(df, text="text", color="label", title=LINK)
    explorer.search(LINK)
    assert_no_markup_from_data(explorer.figure, HOSTILE)


def test_clip_heatmap_and_map(clip):
    result = fm.clip_similarity(color_images(2), [LINK, TEX, QUOTES])
    assert_no_markup_from_data(fm.plot_clip_similarity(result), [LINK, TEX, QUOTES])
    assert_no_markup_from_data(fm.plot_clip_map(result), [LINK, TEX, QUOTES])


def test_confusion_matrix_class_names_and_loss_title():
    classes = [LINK, BOLD, LESS]
    y = [LINK, BOLD, LESS, LINK]
    full = classification_metrics([classes.index(v) for v in y], [0, 1, 2, 1], classes)
    result = FinetuneResult(
        name="m-ft", base="m", task="classification", task_reason="given", status="finished",
        metrics={"accuracy": full["accuracy"]}, before={}, history=[{"kind": "train", "step": 1, "loss": 1.0}],
        classes=classes, y_true=y, y_pred=y, eval_rows=4, record=RunRecord(kind="finetune"),
        per_class=full["per_class"], confusion=full["confusion"])
    fig = fm.plot_confusion_matrix(result)
    assert_no_markup_from_data(fig, classes)
    assert len(set(fig.data[0].x)) == 3  # distinct classes stay distinct categories
    assert_no_markup_from_data(fm.plot_loss_curve(result, title=TEX), [TEX])


def test_token_figures():
    fig = token_probs_figure(HOSTILE, [0.5] * 5, [[(t, 0.1)] for t in HOSTILE])
    assert_no_markup_from_data(fig, HOSTILE)
    frame = pd.DataFrame({"mask": [0] * 5, "token": HOSTILE, "probability": [0.1] * 5, "sequence": HOSTILE})
    assert_no_markup_from_data(fill_mask_figure(frame), HOSTILE)


def test_attention_and_logit_lens():
    n = len(HOSTILE)
    w = np.full((1, 1, n, n), 1 / n, dtype=np.float32)
    result = AttentionResult(tokens=HOSTILE, special=[False] * n, layers=list(w), record=RunRecord(kind="attention"))
    assert_no_markup_from_data(fm.plot_attention(result), HOSTILE)
    lens = LensResult(tokens=HOSTILE, layers=["embeddings", "layer 1"], guesses=[[[t] for t in HOSTILE]] * 2,
                      ids=np.zeros((2, n, 1), dtype=np.int64), probs=np.full((2, n, 1), 0.5, dtype=np.float32),
                      record=RunRecord(kind="logit_lens"))
    assert_no_markup_from_data(fm.plot_logit_lens(lens), HOSTILE)


def test_evaluation_bars_and_comparison():
    from types import SimpleNamespace

    from fmwidgets.plots.evaluation import plot_comparison, plot_evaluation

    summary = pd.DataFrame({"mean": [0.5] * 5, "ci_low": [0.4] * 5, "ci_high": [0.6] * 5, "n": [3] * 5},
                           index=HOSTILE)
    assert_no_markup_from_data(plot_evaluation(summary, title=TEX), HOSTILE)
    comparison = SimpleNamespace(counts=pd.Series([1, 2, 3], index=["improved", "regressed", "same"]),
                                 a=LINK, b=BOLD, evaluator=TEX, record=None)
    assert_no_markup_from_data(plot_comparison(comparison), [LINK, BOLD, TEX])
