"""Attention and logit-lens figures: real Plotly figures from real (tiny) model outputs."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

import fmwidgets as fm
from fmwidgets.core.inside.attention import AttentionResult
from fmwidgets.errors import BadArgumentError
from fmwidgets.plots.figure import RecordedFigure
from fmwidgets.records import RunRecord

HOSTILE = "<img src=x onerror=alert(1)>"


def _fake_result(tokens, layers=2, heads=3, seed=0):
    """An AttentionResult with random row-stochastic weights (for label/escaping checks)."""
    rng = np.random.default_rng(seed)
    n = len(tokens)
    w = rng.random((layers, heads, n, n)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    return AttentionResult(tokens=list(tokens), special=[False] * n, layers=list(w),
                           record=RunRecord(kind="attention"))


def test_heatmap_of_one_head_and_of_the_mean(gpt2):
    result = fm.attention("the cat sat on the mat", model="gpt2")
    fig = fm.plot_attention(result, layer=1, head=0)
    assert isinstance(fig, RecordedFigure) and fig.record is result.record
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(heat.z), result.weights[1, 0])
    # repeated tokens ("the") keep their own rows: numeric axes with token tick labels
    assert list(fig.layout.yaxis.ticktext) == result.tokens
    assert len(heat.y) == len(result.tokens)
    mean = fm.plot_attention(result, layer=0)
    np.testing.assert_allclose(np.asarray(mean.data[0].z), result.weights[0].mean(0), rtol=1e-6)
    assert "mean of heads" in mean.layout.title.text
    with pytest.raises(BadArgumentError):
        fm.plot_attention(result, layer=7)


def test_heatmap_sends_float32_binary_not_json_lists():
    result = _fake_result([f"t{i}" for i in range(200)])
    payload = json.loads(fm.plot_attention(result).to_json())
    z = payload["data"][0]["z"]
    assert z["dtype"] == "f4" and "bdata" in z
    assert "customdata" not in payload["data"][0]  # no per-cell labels at 200 tokens


def test_hostile_tokens_are_escaped_in_labels_and_hover():
    result = _fake_result(["[CLS]", HOSTILE, "b"])
    fig = fm.plot_attention(result)
    text = fig.to_json()
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in list(fig.layout.xaxis.ticktext)
    assert np.asarray(fig.data[0].customdata)[1, 0, 0] == "&lt;img src=x onerror=alert(1)&gt;"


def test_model_view_grid_has_every_head():
    result = _fake_result([f"t{i}" for i in range(40)], layers=3, heads=4)
    fig = fm.plot_attention_grid(result, size=8)
    assert len(fig.data) == 12
    thumbs = result.thumbnails(8)
    assert thumbs.shape == (3, 4, 8, 8) and thumbs.dtype == np.uint8
    np.testing.assert_allclose(np.asarray(fig.data[5].z), thumbs[1, 1] / 255, rtol=1e-6)
    # max pooling: each thumbnail pixel is the largest weight of its block
    edges = np.linspace(0, 40, 9).astype(int)
    block = result.weights[1, 1][edges[2]:edges[3], edges[4]:edges[5]]
    assert thumbs[1, 1, 2, 4] == round(block.max() * 255)


def test_lens_heatmap(gpt2):
    lens = fm.logit_lens("<b>the</b> cat", top_k=3)
    fig = fm.plot_logit_lens(lens)
    heat = fig.data[0]
    np.testing.assert_allclose(np.asarray(heat.z), lens.probs[..., 0])
    assert list(heat.y) == lens.layers
    assert "<b>" not in json.dumps(list(fig.layout.xaxis.ticktext))
    hover = np.asarray(heat.customdata)
    assert hover.shape == (len(lens.layers), len(lens.tokens))
    assert hover[-1][0].count("<br>") == 2  # three guesses per cell
    assert fig.record is lens.record
