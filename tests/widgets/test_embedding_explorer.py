"""EmbeddingExplorer without a browser: selections arrive as the front end sends them (the map
widget's ``selection`` trait: [trace, point] pairs), the search box and colour picker are driven through
their widget values, and the results are read back as DataFrames."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import fmwidgets as fm
from fmwidgets.testing import CORPUS


@pytest.fixture
def df():
    return pd.DataFrame({"sentence": CORPUS, "topic": ["even", "odd"] * 12, "n": range(len(CORPUS))})


def _select(explorer, trace_indexes, point_indexes):
    """What the front end sends after a lasso selection: one [trace, point] pair per point."""
    explorer.map.selection = [[t, p] for t, p in zip(trace_indexes, point_indexes)]


def test_selection_comes_back_as_a_dataframe(minilm, df):
    picked = []
    explorer = fm.EmbeddingExplorer(df, text="sentence", color="topic", on_select=picked.append)
    assert [t.name for t in explorer.figure.data] == ["even", "odd"]
    assert all(isinstance(t, go.Scattergl) for t in explorer.figure.data)
    assert explorer.selected.empty
    _select(explorer, [0, 0, 1], [0, 2, 1])
    chosen = explorer.selected
    # trace "even" holds rows 0, 2, 4...; trace "odd" rows 1, 3, 5...
    assert chosen["n"].tolist() == [0, 3, 4]
    assert chosen["topic"].tolist() == ["even", "odd", "even"]
    assert picked[-1].equals(chosen)
    assert "3 rows selected" in explorer.status.value
    explorer.map.selection = []  # plotly_deselect (a double click)
    assert explorer.selected.empty and picked[-1].empty
    # a redraw (new colour) clears the selection, and on_select hears of it
    _select(explorer, [0], [0])
    explorer.color_picker.value = "(none)"
    assert explorer.selected.empty and picked[-1].empty and explorer.map.selection == []


def test_the_map_is_drawn_by_the_pages_plotly_js_not_a_figure_widget(minilm, df):
    """No FigureWidget (its front end saves 5 MB of plotly.js per explorer in a notebook): the map
    widget gets the figure as plotly JSON, points as base64 float32, and a tiny front end."""
    explorer = fm.EmbeddingExplorer(df, text="sentence", color="topic")
    assert not any(isinstance(c, go.FigureWidget) for c in explorer.children)
    assert isinstance(explorer.figure, go.Figure) and explorer.map in explorer.children
    sent = json.loads(explorer.map.figure)
    assert [t["name"] for t in sent["data"]] == ["even", "odd"]
    x = sent["data"][0]["x"]
    assert x["dtype"] == "f4"
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(x["bdata"]), "<f4"),
                                  explorer.points[0::2, 0])
    assert len(explorer.map._esm) < 10_000  # the front end holds no plotly.js
    assert explorer.map.fallback_id == explorer.plain.css_class


def test_search_lights_up_the_nearest_rows(minilm, df):
    explorer = fm.EmbeddingExplorer(df, text="sentence", k=3)
    explorer.search_box.value = "Will it rain? Bring an umbrella."
    assert explorer.matches.iloc[0]["sentence"] == "it will rain tomorrow so take an umbrella with you"
    highlight = explorer.figure.data[-1]
    assert highlight.name == "search: nearest" and len(highlight.x) == 3
    np.testing.assert_allclose(highlight.x, explorer.points[explorer._match_rows, 0])
    # the highlighted points can be selected too, and map back to their rows
    _select(explorer, [len(explorer.figure.data) - 1], [0])
    assert explorer.selected["sentence"].tolist() == [explorer.matches.iloc[0]["sentence"]]
    explorer.search_box.value = ""
    assert explorer.matches.empty and explorer.figure.data[-1].name != "search: nearest"


def test_colour_picker_recolours_by_any_column(minilm, df):
    explorer = fm.EmbeddingExplorer(df, text="sentence")
    assert explorer.color_picker.options == ("(none)", "sentence", "topic", "n")
    assert len(explorer.figure.data) == 1
    explorer.color_picker.value = "topic"
    assert [t.name for t in explorer.figure.data] == ["even", "odd"]
    explorer.color_picker.value = "n"
    (trace,) = explorer.figure.data
    assert trace.marker.showscale


def test_hover_is_escaped_and_record_is_in_the_output_metadata(bert):
    texts = ["<script>alert(1)</script> a dog", "the cat", "a bird sings"]
    explorer = fm.EmbeddingExplorer(texts)
    assert "<script>" not in explorer.figure.data[0].text[0]
    data, meta = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert meta["fmwidgets"]["kind"] == "embedding_explorer" and meta["fmwidgets"]["model_name"] == "bert"


def test_errors_in_callbacks_show_in_the_status_line(bert):
    explorer = fm.EmbeddingExplorer(["a dog", "the cat", "a bird"], k=2)
    explorer.k = 0
    explorer.search_box.value = "dog"
    assert explorer.status.value.startswith("BadArgumentError: k must be at least 1")


def test_bad_source_fails_before_any_widget(bert):
    with pytest.raises(fm.DataError, match="no column 'text'"):
        fm.EmbeddingExplorer(pd.DataFrame({"sentence": ["a", "b"], "x": [1, 2]}), text="text")
    with pytest.raises(fm.DataError, match="say which holds the text"):
        fm.EmbeddingExplorer(pd.DataFrame({"sentence": ["a", "b"], "x": [1, 2]}))
    with pytest.raises(fm.DataError, match="Cannot project 2 points onto 3"):
        fm.EmbeddingExplorer(["a dog", "the cat"], dims=3)
