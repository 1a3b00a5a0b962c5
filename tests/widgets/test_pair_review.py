"""fm.Review on two outputs without a browser: keys by message map through the row's shown order to
a / b / tie, a reopened review keeps each reviewed pair's order, the static picture escapes text;
%fm eval review A B and %fm eval preferences."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.core.evaluation.preferences import PreferenceData
from fmwidgets.widgets.pair_review import PairReview

HOSTILE = "<img src=x onerror=alert(1)>"
PAIRS = pd.DataFrame({"q": ["one", HOSTILE, "three", "four"], "x": ["a1", "a2", HOSTILE, "a4"],
                      "y": ["b1", "b2", "b3", "b4"], "ref": ["a1", "b2", "b3", "b4"]})


def test_keys_map_through_the_shown_order_and_move_on():
    view = fm.Review(PAIRS, a="x", b="y", input="q", seed=3)
    assert isinstance(view, PairReview) and view.total == 4 and view.reviewed == 0
    first = view.orders[0]
    assert (view.left, view.right) == (("a1", "b1") if first == "ab" else ("b1", "a1"))
    view._handle(view, {"action": "choose", "value": "2", "comment": "right <b>"}, None)
    assert view.index == 1 and view.reviewed == 1
    assert view.table["human"][0] == first[1] and view.table["human_comment"][0] == "right <b>"
    view._handle(view, {"action": "choose", "value": "=", "comment": ""}, None)
    assert view.table["human"][1] == "tie" and view.index == 2
    view._handle(view, {"action": "go", "delta": -2}, None)
    assert view.index == 0 and view.choice == "2" and view.comment == "right <b>"
    view.prefer(3, "a")  # from code: the row on screen stays
    assert view.index == 0 and view.table["human"].tolist() == [first[1], "tie", None, "a"]
    with pytest.raises(fm.BadArgumentError, match="not '3'"):
        view.choose("3")


def test_a_reopened_review_shows_each_reviewed_pair_as_it_was():
    view = fm.Review(PAIRS, a="x", b="y", input="q", seed=0)
    for _ in range(4):
        view.choose("1")
    for seed in (1, 2, 5):  # other seeds draw other orders, but reviewed pairs keep theirs
        again = fm.Review(PAIRS, a="x", b="y", input="q", seed=seed)
        assert again.orders == view.orders and again.reviewed == 4
        assert again.choice == "1" and again.table["human"].tolist() == view.table["human"].tolist()


def test_static_picture_escapes_the_pair():
    view = fm.Review(PAIRS, a="x", b="y", input="q", start=1)
    html = view.static_picture()["text/html"]
    assert "<img" not in html and "&lt;img src=x" in html and "pair 2 of 4, 0 reviewed" in html
    assert html.startswith("<div class=\"tex2jax_ignore mathjax_ignore\">")  # TeX in data stays text


def test_magics_review_two_runs_and_read_the_preferences(ip):
    ip.user_ns["logs"] = PAIRS
    ip.run_line_magic("fm", 'eval logs --output x --prompt "Q: {q}" --reference ref --as v1')
    ip.run_line_magic("fm", 'eval logs --output y --prompt "Q: {q}" --reference ref --as v2')
    view = ip.run_line_magic("fm", "eval review v1 v2 --seed 4")
    assert isinstance(view, PairReview) and view.name == "v1 vs v2"
    view.prefer(0, "b")
    prefs = ip.run_line_magic("fm", 'eval preferences "v1 vs v2" --prompt-from b --out prefs')
    assert isinstance(prefs, PreferenceData) and ip.user_ns["prefs"] is prefs
    assert prefs.to_dict("list") == {"prompt": ["Q: one"], "chosen": ["b1"], "rejected": ["a1"]}
    with pytest.raises(UsageError, match="one run name .* or two"):
        ip.run_line_magic("fm", "eval review v1 v2 v3")
