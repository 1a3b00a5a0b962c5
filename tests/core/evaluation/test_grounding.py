"""faithfulness / context_recall / context_precision: mechanics on a tiny NLI model built from a config.

Weights are random, so the verdicts mean nothing; the scores must still equal what the model's own
entailment probabilities (premise = passage, hypothesis = sentence) give when counted by hand.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets import testing
from fmwidgets.core.evaluation.grounding import sentences
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError

PASSAGES = [
    ["the cat sat on the mat", "a dog ran across the park", "it will rain tomorrow"],
    ["stocks fell sharply", "the train leaves at nine"],
    [],
    "the soup tastes good",
]
ANSWERS = ["The cat sat on the mat. A dog ran! It rains?", "Stocks fell. The train left at nine.",
           "Nothing here.", None]
REFERENCES = ["the cat sat on the mat. it will rain", "stocks fell sharply", "nothing", "the soup is good"]


@pytest.fixture(scope="module")
def nli_path(tmp_path_factory):
    # a wide random initialisation whose verdicts on these texts are mixed (not all 0 or all 1)
    return testing.tiny_nli(tmp_path_factory.mktemp("nli"), seed=2, initializer_range=0.5)


@pytest.fixture
def nli(nli_path):
    return fm.load(str(nli_path), as_="nli")


def entails(handle, premise, hypothesis):
    encoded = handle.tokenizer(premise, hypothesis, return_tensors="pt")
    with torch.inference_mode():
        logits = handle.model(**encoded).logits[0]
    ids = handle.model.config.label2id
    pair = torch.softmax(logits[[ids["contradiction"], ids["entailment"]]], dim=-1)
    return pair[1].item() > 0.5


def by_hand(handle, answer, contexts, reference):
    contexts = [contexts] if isinstance(contexts, str) else contexts
    said, wanted = sentences(answer), sentences(reference)
    faithful = sum(any(entails(handle, p, s) for p in contexts) for s in said) / len(said) if said else math.nan
    recall = sum(any(entails(handle, p, s) for p in contexts) for s in wanted) / len(wanted)
    relevant = [any(entails(handle, p, s) for s in wanted) for p in contexts]
    hits, total = 0, 0.0
    for k, r in enumerate(relevant, 1):
        hits += r
        total += hits / k if r else 0.0
    return faithful, recall, total / sum(relevant) if any(relevant) else 0.0


def test_rag_evaluators_equal_the_nli_models_own_entailment_counted_by_hand(nli):
    data = pd.DataFrame({"question": ["q1", "q2", "q3", "q4"], "answer": ANSWERS, "contexts": PASSAGES,
                         "reference": REFERENCES})
    assert sentences(ANSWERS[0]) == ["The cat sat on the mat.", "A dog ran!", "It rains?"]
    run = fm.evaluate(data, output="answer", reference="reference", progress=False,
                      evaluators=["faithfulness", "context_recall:nli", "context_precision"])
    for i in range(3):
        faithful, recall, precision = by_hand(nli, ANSWERS[i], PASSAGES[i], REFERENCES[i])
        got = run.table.loc[i, ["faithfulness", "context_recall:nli", "context_precision"]].tolist()
        assert got == pytest.approx([faithful, recall, precision], nan_ok=True)
    assert 0 < run.table.loc[0, "faithfulness"] < 1 and 0 < run.table.loc[0, "context_precision"] < 1
    assert run.table.loc[1, "faithfulness"] == 0.5
    assert run.table.loc[2, ["faithfulness", "context_recall:nli"]].tolist() == [0.0, 0.0]  # nothing retrieved
    assert math.isnan(run.table.loc[3, "faithfulness"])  # no answer
    assert run.table.loc[3, "context_recall:nli"] == pytest.approx(by_hand(nli, "x", PASSAGES[3], REFERENCES[3])[1])


def test_rag_evaluators_refuse_without_an_nli_model_or_the_contexts_column(nli, bert):
    data = pd.DataFrame({"answer": ["A cat."], "contexts": [["a cat"]], "reference": ["a cat"]})
    with pytest.raises(WrongFamilyError, match="'bert' has no 'entailment' label.*as_='nli'"):
        fm.evaluate(data, output="answer", evaluators=["faithfulness:bert"], progress=False)
    with pytest.raises(DataError, match="reads the column 'contexts'"):
        fm.evaluate(data.drop(columns="contexts"), output="answer", evaluators=["faithfulness"], progress=False)
    with pytest.raises(DataError, match="compares with a reference"):
        fm.evaluate(data, output="answer", evaluators=["context_recall"], progress=False)
    fm.unload("nli")
    with pytest.raises(BadArgumentError, match="needs one NLI model and none is loaded"):
        fm.evaluate(data, output="answer", evaluators=["faithfulness"], progress=False)
