"""Big embedding maps with hover text stay small: text is cut, and per-point text stops at HOVER_POINTS.

1,000,000 points with hover text once wrote 133 MB of JSON and took 1.6 GB of memory.  Past
``HOVER_POINTS`` shown points the map carries no per-point text (the title says so) and stays
within the ~12 bytes a point the README promises; the explorer then reads the selected rows' text
in its status line instead.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import fmwidgets as fm
from fmwidgets.plots import embedding as plots_embedding
from fmwidgets.plots.embedding import HOVER_CHARS, HOVER_POINTS
from fmwidgets.testing import CORPUS


def _bytes_per_point(fig, n):
    from _plotly_utils.utils import PlotlyJSONEncoder

    return len(json.dumps(fig.to_plotly_json(), cls=PlotlyJSONEncoder, separators=(",", ":"))) / n


def test_hover_text_stops_past_hover_points_and_the_map_stays_small():
    n = HOVER_POINTS + 1
    points = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    hover = ["a fairly ordinary review of a film, about fifty chars"] * n
    big = fm.plot_embeddings(points, hover=hover, color=["x", "y"] * (n // 2) + ["x"])
    assert all(t.text is None for t in big.data)
    assert f"no hover text past {HOVER_POINTS:,} points" in big.layout.title.text
    assert _bytes_per_point(big, n) <= 12

    small = fm.plot_embeddings(points[:HOVER_POINTS], hover=hover[:HOVER_POINTS])
    assert len(small.data[0].text) == HOVER_POINTS and small.layout.title.text is None


def test_a_missing_hover_column_is_still_an_error_on_a_big_map():
    import pytest

    from fmwidgets.errors import DataError

    n = HOVER_POINTS + 1
    with pytest.raises(DataError, match="no column 'nope'"):
        fm.plot_embeddings(np.zeros((n, 2), dtype=np.float32), hover="nope", data=pd.DataFrame({"a": range(n)}))


def test_each_hover_column_is_cut_at_hover_chars():
    fig = fm.plot_embeddings(np.zeros((2, 2), dtype=np.float32), hover=["x" * 100_000, "short"])
    assert len(fig.data[0].text[0]) == HOVER_CHARS and fig.data[0].text[0].endswith("…")


def test_the_explorer_reads_selected_rows_when_the_map_has_no_hover_text(bert, monkeypatch):
    monkeypatch.setattr(plots_embedding, "HOVER_POINTS", 5)
    monkeypatch.setattr("fmwidgets.widgets.embedding.HOVER_POINTS", 5)
    df = pd.DataFrame({"sentence": CORPUS})
    explorer = fm.EmbeddingExplorer(df, text="sentence")
    assert explorer.figure.data[0].text is None
    explorer.map.selection = [[0, 1], [0, 4]]  # what the front end sends after a lasso
    status = explorer.status.value
    assert status.startswith("2 rows selected")
    assert CORPUS[1][:40] in status and CORPUS[4][:40] in status
