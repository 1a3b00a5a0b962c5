"""Every built-in evaluator equals its reference library on fixed strings."""

from __future__ import annotations

import math

import jiwer
import pandas as pd
import pytest
import sacrebleu
from rouge_score import rouge_scorer
from sklearn.metrics import accuracy_score, f1_score

from fmwidgets.core.evaluation.evaluators import NAMES, resolve, resolve_one
from fmwidgets.core.evaluation.judge import parse_score
from fmwidgets.errors import BadArgumentError

OUT = ["the cat sat on the mat", "a quick brown fox", '{"a": 1}', "The answer is 42.", None]
REF = ["the cat is on the mat", "the quick brown fox jumps", '{"a": 1}', "42", "x"]


def scores(spec, outputs=OUT, refs=REF):
    ev = resolve_one(spec)
    return ev.scores(outputs, pd.DataFrame({"reference": refs}))[ev.name]


def test_sacrebleu_rouge_jiwer_scores_equal_the_libraries():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    for got, out, ref in zip(scores("bleu"), OUT[:4], REF):
        assert got == pytest.approx(sacrebleu.sentence_bleu(out, [ref]).score)
    for got, out, ref in zip(scores("chrf"), OUT[:4], REF):
        assert got == pytest.approx(sacrebleu.sentence_chrf(out, [ref]).score)
    for got, out, ref in zip(scores("rouge_l"), OUT[:4], REF):
        assert got == pytest.approx(scorer.score(ref, out)["rougeL"].fmeasure)
    for got, out, ref in zip(scores("wer"), OUT[:4], REF):
        assert got == pytest.approx(jiwer.wer(ref, out))
    assert all(math.isnan(s(spec)[-1]) for s, spec in [(scores, "bleu"), (scores, "wer")])  # no output: NaN


def test_string_evaluators_on_fixed_strings():
    assert scores("exact_match")[:4] == [0, 0, 1, 0]
    assert scores("contains")[:4] == [0, 0, 1, 1]
    assert scores("json_valid")[:4] == [0, 0, 1, 0]
    assert scores("regex:\\d+")[:4] == [0, 0, 1, 1]
    assert scores("numeric")[:4] == [0, 0, 1, 1]
    assert scores("numeric:0.5", ["3.4", "x", "1e3"], ["3", "1", "1000"]) == [1, 0, 1]


def test_accuracy_and_f1_macro_summaries_are_sklearns():
    from fmwidgets.core.evaluation.summary import summarise

    outputs, refs = ["a", "b", "a", "c", "b", 1], ["a", "a", "a", "c", "b", 1]
    evs = resolve(["accuracy", "f1_macro"])
    table = pd.DataFrame({"output": outputs, "reference": refs})
    for ev in evs:
        table[ev.name] = ev.scores(outputs, table)[ev.name]
    summary = summarise(table, evs)
    strings = [str(r) for r in refs], [str(o) for o in outputs]
    assert summary.loc["accuracy", "mean"] == pytest.approx(accuracy_score(*strings))
    assert summary.loc["f1_macro", "mean"] == pytest.approx(f1_score(*strings, average="macro"))
    assert summary.loc["f1_macro", "ci_low"] <= summary.loc["f1_macro", "ci_high"]
    assert summary.loc["accuracy", "n"] == 6


def test_bootstrap_interval_of_a_mean_brackets_it():
    from fmwidgets.core.evaluation.summary import summarise

    evs = resolve(["exact_match"])
    table = pd.DataFrame({"output": ["a"] * 40, "reference": ["a"] * 30 + ["b"] * 10})
    table["exact_match"] = evs[0].scores(table["output"].tolist(), table)["exact_match"]
    row = summarise(table, evs).loc["exact_match"]
    assert row["mean"] == 0.75 and row["ci_low"] < 0.75 < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.5


def test_semantic_similarity_is_the_minilm_cosine(minilm):
    import numpy as np

    from fmwidgets.core.embedding.embed import encode

    got = scores("semantic_similarity", ["a cat sits on a mat", "stock prices fell"], ["a cat on a mat", "a cat on a mat"])
    vectors = encode(minilm, ["a cat sits on a mat", "stock prices fell", "a cat on a mat"], "text", normalize=True)
    want = [float(np.dot(vectors[0], vectors[2])), float(np.dot(vectors[1], vectors[2]))]
    assert got == pytest.approx(want, abs=1e-5) and got[0] > got[1]


def test_callables_are_named_by_their_name_and_must_return_numbers():
    def length(output, row):
        return len(output) + len(row["reference"])

    assert scores(length, ["ab"], ["xyz"]) == [5.0]
    with pytest.raises(BadArgumentError, match="returned 'no'"):
        scores(lambda o, r: "no", ["ab"], ["x"])


def test_unknown_names_list_the_known_ones():
    with pytest.raises(BadArgumentError) as info:
        resolve(["exact_match", "blue"])
    assert "'blue'" in str(info.value) and all(n in str(info.value) for n in NAMES)
    with pytest.raises(BadArgumentError, match="pattern"):
        resolve("regex:(")
    with pytest.raises(BadArgumentError, match="twice"):
        resolve(["bleu", "bleu"])


def test_judge_scores_parse_within_the_scale_or_are_nan():
    assert parse_score("Score: 4", 1, 5) == 4
    assert parse_score("I'd say 9, no, 3", 1, 5) == 3
    assert math.isnan(parse_score("excellent!", 1, 5)) and math.isnan(parse_score("7", 1, 5))
