"""fm.LabelReview: least confident first, accept / pick by message (as the buttons and keys send),
filters, .result, decisions kept in the store and restored."""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, DataError
from fmwidgets.store import store

LABELLED = pd.DataFrame({
    "text": ["great film", "<b>broken</b> on arrival", "it was fine i guess", "awful"],
    "score_pos": [0.9, 0.2, 0.55, 0.1],
    "score_neg": [0.1, 0.8, 0.45, 0.9],
    "label": ["pos", "neg", "pos", "neg"],
    "confidence": [0.9, 0.8, 0.55, 0.9],
})


def test_least_confident_first_accept_and_correct():
    view = fm.LabelReview(LABELLED, text="text", name="t1")
    assert view.text == "it was fine i guess" and view.predicted == "pos" and view.labels == ["pos", "neg"]
    assert view.scores == [["pos", 0.55], ["neg", 0.45]]
    view._handle(view, {"action": "decide", "label": "neg"}, None)  # the "2 neg" button or key 2
    assert view.text == "<b>broken</b> on arrival" and view.done == 1
    view._handle(view, {"action": "decide"}, None)  # accept
    result = view.result
    assert result["reviewed"].tolist() == [False, True, True, False]
    assert result["label_reviewed"].tolist() == ["pos", "neg", "neg", "neg"]
    assert store().items("label_review/t1") == {"2": "neg", "1": "neg"}
    again = fm.LabelReview(LABELLED, text="text", name="t1")  # a new kernel would see the same
    assert again.result["label_reviewed"].tolist() == result["label_reviewed"].tolist()
    with pytest.raises(BadArgumentError, match="not one of the labels"):
        view.decide("maybe")


def test_filters_and_navigation():
    view = fm.LabelReview(LABELLED, text="text", name="t2")
    view.show = "neg"
    assert view.count == 2 and view.text == "<b>broken</b> on arrival"
    view.go(1)
    assert view.text == "awful"
    view.go(5)
    assert view.position == 1
    view.show = "unreviewed"
    view.decide()
    assert view.count == 3 and view.done == 1
    html = view.static_picture()["text/html"]
    assert "<b>broken" not in html


def test_bad_input():
    with pytest.raises(DataError):
        fm.LabelReview(LABELLED.iloc[:0], text="text")
    with pytest.raises(DataError):
        fm.LabelReview(LABELLED.drop(columns=["confidence"]), text="text")
    with pytest.raises(DataError, match="score_"):
        fm.LabelReview(LABELLED.drop(columns=["score_pos", "score_neg"]), text="text")


def test_a_row_the_model_gave_no_label_comes_first_and_must_be_picked():
    # what fm.label(method="prompt") on an API model gives a row whose reply named no label
    unlabelled = pd.concat(
        [LABELLED, pd.DataFrame({"text": ["hmm"], "score_pos": [0.5], "score_neg": [0.5], "label": [None], "confidence": [0.5]})],
        ignore_index=True,
    )
    view = fm.LabelReview(unlabelled, text="text", name="t-none")
    assert view.text == "hmm" and view.predicted == ""
    with pytest.raises(BadArgumentError, match="The model gave this row no label; pick one of pos, neg"):
        view.decide()
    view.decide("neg")
    assert view.result["label_reviewed"].tolist()[-1] == "neg"
