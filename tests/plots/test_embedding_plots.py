"""plot_embeddings (WebGL, float32 bytes per point, colour/hover/symbol/size, overflow) and CLIP plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import fmwidgets as fm
from fmwidgets.plots.embedding import HOVER_CHARS
from fmwidgets.plots.figure import RecordedFigure

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def _points(n: int, dims: int = 2) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, dims)).astype(np.float32)


def test_100k_points_are_one_webgl_trace_of_float32_at_under_12_bytes_per_point():
    n = 100_000
    fig = fm.plot_embeddings(_points(n))
    assert isinstance(fig, RecordedFigure)
    assert [type(t) for t in fig.data] == [go.Scattergl]
    trace = json.loads(fig.to_json())["data"][0]
    assert trace["x"]["dtype"] == "f4" and trace["y"]["dtype"] == "f4"  # base64 typed arrays
    data, meta = fig._repr_mimebundle_()
    assert PLOTLY_MIME not in data  # saved once, as the HTML that draws it
    notebook_bytes = len(data["text/html"].encode())
    assert notebook_bytes / n <= 12  # what the .ipynb stores and the browser receives
    assert meta["fmwidgets"]["params"]["points"] == n


def test_3d_points_use_scatter3d():
    fig = fm.plot_embeddings(_points(50, 3))
    assert [type(t) for t in fig.data] == [go.Scatter3d]
    assert json.loads(fig.to_json())["data"][0]["z"]["dtype"] == "f4"


def test_categorical_colour_and_symbol_split_traces_like_plotly_express():
    df = pd.DataFrame({"label": ["cat", "dog", "cat", "bird"] * 5, "kind": ["a", "b"] * 10})
    fig = fm.plot_embeddings(_points(20), color="label", symbol="kind", data=df)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    names = sorted(t.name for t in fig.data)
    assert names == ["bird, b", "cat, a", "dog, b"]
    assert sum(len(t.x) for t in fig.data) == 20
    assert fig.layout.legend.title.text == "label"


def test_numeric_colour_is_one_trace_with_a_colour_scale():
    fig = fm.plot_embeddings(_points(30), color=np.arange(30.0), size=np.arange(30.0))
    (trace,) = fig.data
    assert trace.marker.showscale and np.asarray(trace.marker.color).dtype == np.float32
    sizes = np.asarray(trace.marker.size)
    assert sizes.min() == 4 and sizes.max() == 16


def test_hover_text_is_truncated_and_escaped():
    df = pd.DataFrame({"text": ["<img src=x onerror=alert(1)> " + "word " * 100, "plain"],
                       "label": ["<b>x</b>", "y"]})
    fig = fm.plot_embeddings(_points(2), hover=["text", "label"], data=df)
    first = fig.data[0].text[0]
    assert "<img" not in first and "&lt;img" in first and "&lt;b&gt;x&lt;/b&gt;" in first
    text_part = first.split("<br>")[0]
    assert len(text_part) <= len("text: ") + HOVER_CHARS + 60  # escaping adds a few entities
    assert text_part.endswith("…")


def test_past_max_points_a_stated_sample_or_a_density_view():
    fig = fm.plot_embeddings(_points(5_000), max_points=1_000, title="big")
    assert len(fig.data[0].x) == 1_000
    assert "random sample of 1,000 of 5,000 points" in fig.layout.title.text
    density = fm.plot_embeddings(_points(5_000), max_points=1_000, overflow="density")
    assert isinstance(density.data[0], go.Heatmap) and "density of 5,000 points" in density.layout.title.text
    assert len(density.to_json()) < 400_000


def test_bad_points_and_columns():
    with pytest.raises(fm.DataError, match="project the vectors"):
        fm.plot_embeddings(np.zeros((5, 384)))
    with pytest.raises(fm.DataError, match="no column 'colour'"):
        fm.plot_embeddings(_points(3), color="colour", data=pd.DataFrame({"label": [1, 2, 3]}))
    with pytest.raises(fm.DataError, match="2 values for 3 points"):
        fm.plot_embeddings(_points(3), color=["a", "b"])
    with pytest.raises(fm.BadArgumentError, match="data="):
        fm.plot_embeddings(_points(3), color="label")


def test_clip_heatmap_and_joint_map(clip):
    from fmwidgets.testing import color_images

    result = fm.clip_similarity(color_images(3), ["red", "<i>green</i>"])
    heat = fm.plot_clip_similarity(result)
    assert isinstance(heat.data[0], go.Heatmap) and len(heat.layout.images) == 3
    assert "&lt;i&gt;green&lt;/i&gt;" in heat.data[0].x
    joint = fm.plot_clip_map(result)
    assert [t.name for t in joint.data] == ["images", "texts"]
    assert len(joint.data[0].x) == 3 and len(joint.data[1].x) == 2 and len(joint.layout.images) == 3
    assert joint.record.kind == "clip_similarity"


def test_clip_map_labels_do_not_overlap_each_other_or_the_points(clip):
    """The tiny CLIP's random text vectors crowd together: each label still gets a spot of its own."""
    from pathlib import Path

    from fmwidgets.plots.clip import CHAR_PX, LABEL_PX, MAP_HEIGHT, MAP_MARGIN, MAP_WIDTH
    from fmwidgets.testing import color_images

    labels = [f"a {c} square" for c in ("red", "green", "blue", "yellow", "black", "white", "grey", "pink")]
    fig = fm.plot_clip_map(fm.clip_similarity(color_images(6), labels))
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    assert (fig.layout.width, fig.layout.height) == (MAP_WIDTH, MAP_HEIGHT)

    def px(x, y):  # data -> pixels in the fixed-size figure, y down
        return (MAP_MARGIN + (x - x0) / (x1 - x0) * (MAP_WIDTH - 2 * MAP_MARGIN),
                MAP_HEIGHT - MAP_MARGIN - (y - y0) / (y1 - y0) * (MAP_HEIGHT - 2 * MAP_MARGIN))

    notes = fig.layout.annotations
    assert [a.text for a in notes] == labels
    boxes = []
    for a in notes:
        x, y = px(a.x, a.y)
        boxes.append((x + a.ax, y + a.ay, len(a.text) * CHAR_PX + 4, LABEL_PX))
    markers = [(*px(x, y), 12, 12) for trace in fig.data for x, y in zip(trace.x, trace.y)]

    def overlap(a, b):
        return abs(a[0] - b[0]) * 2 < a[2] + b[2] and abs(a[1] - b[1]) * 2 < a[3] + b[3]

    assert not [(i, j) for i in range(len(boxes)) for j in range(i) if overlap(boxes[i], boxes[j])]
    assert not [(i, m) for i, b in enumerate(boxes) for m in markers if overlap(b, m)]
    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if font_file.exists():  # the boxes are at least as wide as the labels drawn in 12 px type
        from PIL import ImageFont

        font = ImageFont.truetype(str(font_file), 12)
        assert all(font.getlength(t) <= len(t) * CHAR_PX for t in labels)
