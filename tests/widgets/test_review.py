"""fm.Review without a browser: rating by message lands in the store and the human column."""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.evaluation.run import run_evaluation
from fmwidgets.errors import BadArgumentError

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def run(gpt2):
    df = pd.DataFrame({"q": ["a", HOSTILE, "c"], "a": ["1", "2", "3"]})
    return run_evaluation(df, "Q: {q}\nA:", reference="a", name="rev", greedy=True, max_new_tokens=3)


def test_rating_by_message_moves_on_and_is_stored(run):
    view = fm.Review("rev")
    assert view.total == 3 and view.index == 0 and [f for f, _ in view.row] == ["prompt", "output", "reference", ]
    view._handle(view, {"action": "rate", "value": 1, "comment": "good <b>"}, None)
    assert view.index == 1 and view.rated == 1
    view._handle(view, {"action": "go", "delta": -1}, None)
    assert view.rating == 1.0 and view.comment == "good <b>"
    view._handle(view, {"action": "go", "delta": 1}, None)
    view.rate(0)
    assert view.ratings.tolist()[:2] == [1.0, 0.0]
    again = fm.load_evaluation("rev")
    assert again.table["human"].tolist()[:2] == [1.0, 0.0] and again.table["human_comment"][0] == "good <b>"


def test_scales_and_bad_ratings(run):
    view = fm.Review(run, scale="1-5")
    view.rate(4)
    assert run.table["human"][0] == 4.0  # the evaluation object itself gets the column
    with pytest.raises(BadArgumentError, match="from 1 to 5"):
        view.rate(9)
    with pytest.raises(BadArgumentError, match="thumbs"):
        fm.Review(run, scale="stars")


def test_static_picture_escapes_the_row(run):
    view = fm.Review(run, start=1)
    html = view.static_picture()["text/html"]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert view.static_record().kind == "evaluate"
