"""An API-served model as the judge: by parse on the real server (equal to the same model judged
in this process, greedy), by log-probabilities where the server returns them, criteria,
pairwise in both orders, the magic, and each refusal in one sentence.

``transformers serve`` returns no log-probabilities, so the log-prob judge is tested with the
FaultProxy answering as a server that does (``serving_logprobs``): each chat completion gets
``logprobs.content[0].top_logprobs`` in the shape llama.cpp's llama-server sends (checked by hand
against a real llama-server; OpenAI and vLLM send the same fields).  The expected scores are
worked out here from the probabilities put in the reply. The same path against the real
llama-server, checked against the model in-process: tests/core/models/test_llama_logprobs.py.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, WrongFamilyError
from fmwidgets.notices import FMWarning
from fmwidgets.testing_server import chat_body, model_list, serving_logprobs

LOGS = pd.DataFrame({
    "question": ["2+2?", "capital of France?", "colour of the sky?", "3*3?", "a word for big?"],
    "answer": ["4", "Paris", "blue", "9", "large"],
    "old": ["4", "Lyon", None, "Score: 5", "huge"],
    "new": ["four", "Paris", "blue", "9", None],
})

# The score distribution the "server" gives as the first reply token: rows whose answer block holds
# "Lyon" get GOOD's, the others SPREAD's.  Both hold spellings of one score twice and tokens that
# are no score at all.
SPREAD = {"3": 0.30, " 3": 0.10, "4": 0.20, "5\n": 0.05, "The": 0.25, "10": 0.10}
GOOD = {"5": 0.70, " 5": 0.10, "1": 0.05, "Score": 0.15}


def expected(probs, scale=range(1, 6)):
    """(score, mass) from a first-token distribution, worked out without the judge's code."""
    on_scale = {str(v): 0.0 for v in scale}
    for token, p in probs.items():
        if token.strip() in on_scale:
            on_scale[token.strip()] += p
    mass = sum(on_scale.values())
    return sum(int(v) * p for v, p in on_scale.items()) / mass, mass


def kept(column):
    """A table column as a list, None where it holds nothing (pandas may show that as NaN)."""
    return [None if pd.isna(v) else v for v in column]


def user_text(request):
    return request["messages"][-1]["content"]


def first_token(probs):
    return [(max(probs, key=probs.get), probs)]


@pytest.fixture
def lp_judge(served, proxy):
    """The proxy as a server that returns log-probabilities, loaded as 'lpj'."""
    proxy.reset(
        rule=serving_logprobs(
            served.model, lambda request: first_token(GOOD if "Lyon" in user_text(request) else SPREAD)
        )
    )
    handle = fm.load(served.model, base_url=proxy.base_url, as_="lpj", max_retries=0)
    proxy.reset(rule=proxy.rule)
    return handle


def test_the_logprob_judge_reads_the_first_reply_tokens_top_logprobs(lp_judge, proxy):
    with pytest.warns(FMWarning, match=r"The judge 'lpj' reads its score from the log-probabilities"):
        judge = fm.judge(model="lpj")
    assert proxy.count() == 1 and chat_body(proxy.log[0][2])["max_tokens"] == 1  # asked once
    assert lp_judge.logprobs is True
    run = fm.evaluate(LOGS, "{question}", output="old", reference="answer", evaluators=[judge], progress=False)
    table = run.table
    asked = [chat_body(body) for _, path, body, _ in proxy.log[1:] if path.endswith("/chat/completions")]
    assert len(asked) == 4  # one request per judged row (the missing output is not judged)
    assert all(a["max_tokens"] == 1 and a["logprobs"] and a["top_logprobs"] == 20 for a in asked)
    assert all(a["temperature"] == 0 for a in asked)
    for i, out in enumerate(LOGS["old"]):
        if pd.isna(out):
            assert math.isnan(table["judge"][i]) and pd.isna(table["judge_prompt"][i])
            continue
        score, mass = expected(GOOD if out == "Lyon" else SPREAD)
        assert table["judge"][i] == pytest.approx(score) and table["judge_mass"][i] == pytest.approx(mass)
        assert table["judge_prompt"][i] in [user_text(a) for a in asked]  # the prompt as the server got it
    assert "<answer>\nScore: 5\n</answer>" in table["judge_prompt"][3]
    assert table["judge"][3] == pytest.approx(expected(SPREAD)[0])  # "Score: 5" in the output is no score
    assert run.summary.loc["judge", "low_mass"] == 0
    # a re-run reads the judged rows from the cache: no request, the same scores
    sent = proxy.count()
    again = fm.evaluate(LOGS, "{question}", output="old", reference="answer", evaluators=[judge], progress=False)
    assert proxy.count() == sent
    pd.testing.assert_series_equal(again.table["judge"], table["judge"])
    pd.testing.assert_series_equal(again.table["judge_mass"], table["judge_mass"])


def test_criteria_on_an_api_judge_give_one_column_each(served, proxy):
    by_rubric = {"Is it correct?": {"2": 0.6, " 4": 0.2, "x": 0.2}, "Is it polite?": {"5": 0.5, "1": 0.5}}

    def reply(request):
        text = user_text(request)
        return first_token(next((p for rubric, p in by_rubric.items() if rubric in text), {"Hi": 1.0}))

    proxy.reset(rule=serving_logprobs(served.model, reply))
    fm.load(served.model, base_url=proxy.base_url, as_="lpj2", max_retries=0)
    judge = fm.judge(model="lpj2", method="logprobs", criteria={"correct": "Is it correct?", "polite": "Is it polite?"})
    run = fm.evaluate(LOGS, "{question}", output="old", evaluators=[judge], progress=False)
    for column, rubric in (("judge_correct", "Is it correct?"), ("judge_polite", "Is it polite?")):
        score, mass = expected(by_rubric[rubric])
        assert run.table[column].dropna().tolist() == pytest.approx([score] * 4)
        assert run.table[f"{column}_mass"].dropna().tolist() == pytest.approx([mass] * 4)
    assert list(run.summary.index) == ["judge_correct", "judge_polite"]


def test_the_parse_judge_through_the_server_equals_the_model_judged_in_this_process(api_model, served_local):
    with pytest.warns(FMWarning, match=r"The judge 'srv' parses its score.*returns no log-probabilities"):
        served_judge = fm.judge(model="srv", max_new_tokens=6)
    local_judge = fm.judge(model="local", method="parse", max_new_tokens=6)
    runs = [
        fm.evaluate(LOGS, "{question}", output="old", evaluators=[judge], progress=False, name=name)
        for judge, name in ((served_judge, "by-api"), (local_judge, "by-local"))
    ]
    api_table, local_table = (run.table for run in runs)
    assert "judge_reason" in api_table and "judge_mass" not in api_table
    assert api_table["judge_reason"].tolist() == local_table["judge_reason"].tolist()
    pd.testing.assert_series_equal(api_table["judge"], local_table["judge"])
    assert api_table["judge_prompt"][0].startswith("You are grading an answer.")


def test_pairwise_with_an_api_judge_asks_both_orders_as_the_local_model_does(api_model, served_local):
    fm.evaluate(LOGS, "{question}", output="old", reference="answer", name="old", progress=False)
    fm.evaluate(LOGS, "{question}", output="new", reference="answer", name="new", progress=False)
    with pytest.warns(FMWarning, match="parses its verdict"):
        served_judge = fm.judge(model="srv", pairwise=True, max_new_tokens=4)
    by_api = fm.compare_evaluations("old", "new", judge=served_judge).table
    by_local = fm.compare_evaluations("old", "new", judge=fm.judge(model="local", pairwise=True, method="parse", max_new_tokens=4)).table
    for column in ("judge_ab", "judge_ba", "judge_preference", "judge_consistent"):
        assert kept(by_api[column]) == kept(by_local[column])
    both = by_api["judge_prompt_ab"].notna()
    assert both.tolist() == [True, True, False, True, False]
    assert "<answer A>\nLyon\n</answer A>" in by_api["judge_prompt_ab"][1]
    assert "<answer B>\nLyon\n</answer B>" in by_api["judge_prompt_ba"][1]


def test_pairwise_by_logprobs_reads_a_and_b_from_the_first_reply_token(served, proxy):
    # the "judge" prefers whichever answer is "Paris", with these probabilities, wherever it stands
    def block(text, name):  # the answer between its markers ("" in the one-token probe)
        return text.partition(f"<answer {name}>\n")[2].partition(f"\n</answer {name}>")[0]

    def reply(request):
        text = user_text(request)
        if block(text, "A") == "Paris":
            return first_token({"A": 0.6, " B": 0.3, "tie": 0.1})
        if block(text, "B") == "Paris":
            return first_token({" A": 0.2, "B": 0.5, "B\n": 0.2, "C": 0.1})
        if "Score: 5" in text and block(text, "A") == "9":
            return first_token({"The": 0.7, "x": 0.3})  # neither A nor B among the top tokens
        return first_token({"A": 0.5, "B": 0.4, "x": 0.1})  # position bias: A whatever comes first

    proxy.reset(rule=serving_logprobs(served.model, reply))
    fm.load(served.model, base_url=proxy.base_url, as_="lpj3", max_retries=0)
    fm.evaluate(LOGS, "{question}", output="old", reference="answer", name="old", progress=False)
    fm.evaluate(LOGS, "{question}", output="new", reference="answer", name="new", progress=False)
    diff = fm.compare_evaluations("old", "new", judge=fm.judge(model="lpj3", pairwise=True, method="logprobs"))
    table = diff.table
    # row 1: new is "Paris" -> b in both orders; row 0: A always wins -> inconsistent; row 3: no
    # probability on A or B with b first -> no verdict there, so none for the row
    assert kept(table["judge_ab"]) == ["a", "b", None, "a", None]
    assert kept(table["judge_ba"]) == ["b", "b", None, None, None]
    assert kept(table["judge_preference"]) == ["tie", "b", None, None, None]
    assert kept(table["judge_consistent"]) == [False, True, None, None, None]
    assert diff.counts["inconsistent_rate"] == pytest.approx(1 / 2)
    assert diff.record.params["judge_method"] == "logprobs"


def test_eval_diff_magic_takes_an_api_judge(ip, api_model):
    fm.evaluate(LOGS, "{question}", output="old", reference="answer", name="old", progress=False)
    fm.evaluate(LOGS, "{question}", output="new", reference="answer", name="new", progress=False)
    with pytest.warns(FMWarning, match="parses its score"):
        diff = ip.run_line_magic("fm", "eval diff old new --judge srv")
    assert diff.evaluator == "judge" and "judge" in diff.significance.index
    assert diff.record.params["judge_model"] == "srv" and diff.record.params["judge_method"] == "parse"
    with pytest.warns(FMWarning, match="parses its verdict"):
        paired = ip.run_line_magic("fm", "eval diff old new --judge srv --pairwise")
    assert paired.table["judge_prompt_ba"].notna().tolist() == [True, True, False, True, False]
    assert {"judge_preference", "judge_consistent"} <= set(paired.table.columns)


def test_an_api_judge_that_cannot_read_logprobs_is_one_sentence_before_rows_are_sent(api_model, served, proxy):
    with pytest.raises(WrongFamilyError, match=r"served at 127\.0\.0\.1:\d+, which returns no log-prob.*method='parse'"):
        fm.judge(model="srv", method="logprobs")
    with pytest.raises(BadArgumentError, match="whole-number ends"):
        fm.judge(model="srv", method="logprobs", scale=(0, 0.5))
    assert proxy.requests == 0
    # a server not known to drop them is asked once; its reply has "logprobs": null
    proxy.reset(rule=lambda n, path, body: (200, model_list(served.model)) if path.endswith("/models") else None)
    quiet = fm.load(served.model, base_url=proxy.base_url, as_="quiet")
    proxy.reset(rule=proxy.rule)
    with pytest.raises(WrongFamilyError, match="returns no log-probabilities.*method='parse'"):
        fm.judge(model="quiet", method="logprobs")
    assert proxy.count() == 1 and quiet.logprobs is False
    with pytest.raises(WrongFamilyError, match="method='parse'"):
        fm.evaluate(LOGS, output="old", evaluators=[fm.judge(method="logprobs")], model="quiet", progress=False)
    assert proxy.count() == 1


def test_a_reply_with_no_tokens_is_no_score_not_a_server_without_logprobs(served, proxy):
    # an end-of-text at once: "logprobs": {"content": []}, which is not "logprobs": null
    proxy.reset(
        rule=serving_logprobs(served.model, lambda request: [] if "Lyon" in user_text(request) else first_token(SPREAD))
    )
    handle = fm.load(served.model, base_url=proxy.base_url, as_="eos", max_retries=0)
    run = fm.evaluate(LOGS, output="old", evaluators=[fm.judge(model="eos", method="logprobs")], progress=False)
    assert math.isnan(run.table["judge"][1]) and run.table["judge_mass"][1] == 0
    assert run.table["judge"][0] == pytest.approx(expected(SPREAD)[0])
    assert run.summary.loc["judge", "low_mass"] == 1 and handle.logprobs is True
