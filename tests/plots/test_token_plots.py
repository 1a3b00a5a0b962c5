"""plots.tokens: pure data -> Figure, with model text escaped."""

import math

import pandas as pd

from fmwidgets.plots.tokens import fill_mask_figure, token_probs_figure


def test_token_probs_figure_wraps_colours_and_hovers():
    tokens = [f"t{i}" for i in range(14)] + ["<script>"]
    probs = [math.nan] + [i / 14 for i in range(1, 15)]
    alts = [[]] + [[("a<b", 0.5), ("c", 0.25)]] * 14
    fig = token_probs_figure(tokens, probs, alts, generated=[False] * 3 + [True] * 12, per_row=12)
    heat = fig.data[0]
    assert len(heat.z) == 2 and len(heat.z[0]) == 12  # 15 tokens wrap onto two rows
    assert heat.z[0][0] is None and heat.z[1][2] == probs[14]
    assert heat.text[0][0] == "<i>t0</i>" and heat.text[0][3] == "t3"  # prompt tokens in italics
    assert heat.text[1][2] == "&lt;script&gt;"
    assert "a&lt;b  0.500" in heat.customdata[0][1] and "n/a" in heat.customdata[0][0]


def test_fill_mask_figure_one_bar_trace_per_mask():
    df = pd.DataFrame({"mask": [0, 0, 1], "rank": [1, 2, 1], "token": ["cat", "<b>", "dog"],
                       "probability": [0.6, 0.3, 0.9], "sequence": ["a cat", "a <b>", "a dog"]})
    fig = fill_mask_figure(df)
    assert [t.name for t in fig.data] == ["mask 0", "mask 1"]
    assert list(fig.data[0].x) == [0.3, 0.6]  # sorted so the best bar is on top
    assert fig.data[0].y == ("[0] &lt;b&gt; ", "[0] cat ") and fig.data[1].customdata == ("a dog",)
    assert fig.layout.xaxis.range == (0, 1) and fig.layout.showlegend
