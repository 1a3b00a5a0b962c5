"""%fm eval, %fm eval list / diff / review, %%fm prompt --save in a real IPython shell."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

from fmwidgets.core.evaluation.compare import EvaluationComparison
from fmwidgets.core.evaluation.stored import Evaluation
from fmwidgets.core.prompting.versions import PromptVersion
from fmwidgets.errors import BadArgumentError
from fmwidgets.provenance.history import entries as history
from fmwidgets.widgets.review import Review


@pytest.fixture
def qa(ip):
    ip.user_ns["qa"] = pd.DataFrame({"q": ["one", "two", "three"], "a": ["1", "2", "3"]})
    return ip.user_ns["qa"]


def test_eval_list_diff_review(gpt2, ip, qa):
    first = ip.run_line_magic("fm", 'eval qa --prompt "Q: {q}\\nA:" --reference a --evaluator chrf '
                                    "--evaluator exact_match --as v1 --greedy --max-new-tokens 3 --out e1")
    assert isinstance(first, Evaluation) and ip.user_ns["e1"] is first and first.name == "v1"
    assert first.table["prompt"][0] == "Q: one\nA:" and first.evaluators == ["chrf", "exact_match"]
    assert history[-1].code.startswith("%fm eval qa")
    second = ip.run_cell_magic("fm", "eval qa --reference a --evaluator chrf --as v2 --greedy --max-new-tokens 3",
                               "Question: {q}\nAnswer:\n")
    assert second.table["prompt"][0] == "Question: one\nAnswer:"
    assert ip.run_line_magic("fm", "eval list")["name"].tolist() == ["v1", "v2"]
    diff = ip.run_line_magic("fm", "eval diff v1 v2")
    assert isinstance(diff, EvaluationComparison) and diff.evaluator == "chrf"
    assert isinstance(ip.run_line_magic("fm", "eval review v1"), Review)


def test_prompt_save_then_eval_by_id(gpt2, ip, qa):
    version = ip.run_cell_magic("fm", "prompt --save qa --max-new-tokens 3 --greedy", "Q: {q}\nA:\n")
    assert isinstance(version, PromptVersion) and version.id == "qa@1" and version.template == "Q: {q}\nA:"
    assert ip.run_cell_magic("fm", "prompt --save qa --max-new-tokens 3 --greedy", "Q: {q}\nA:\n").id == "qa@1"
    result = ip.run_line_magic("fm", "eval qa --prompt qa@1 --reference a")
    assert result.prompt == "qa@1" and result.record.params["max_new_tokens"] == 3


def test_wrong_lines_are_one_line_errors(gpt2, ip, qa):
    with pytest.raises(UsageError, match="two run names"):
        ip.run_line_magic("fm", "eval diff v1")
    with pytest.raises(UsageError, match="one DATA"):
        ip.run_line_magic("fm", "eval qa extra --prompt x")
    with pytest.raises(BadArgumentError, match="no evaluator named 'blue'"):
        ip.run_line_magic("fm", 'eval qa --prompt "{q}" --reference a --evaluator blue')


def test_eval_outputs_already_given_and_diff_with_a_pairwise_judge(judge_gpt2, ip):
    ip.user_ns["logs"] = pd.DataFrame({"q": ["a", "b", "c", "d", "e"], "ref": ["1", "2", "3", "4", "5"],
                                       "old": ["1", "x", "3", "x", "x"], "new": ["1", "2", "3", "4", "x"]})
    old = ip.run_line_magic("fm", "eval logs --output old --reference ref --as old")
    assert old.model is None and old.summary.loc["exact_match", "mean"] == pytest.approx(0.4)
    ip.run_line_magic("fm", 'eval logs --output new --prompt "Q: {q}" --reference ref --as new')
    diff = ip.run_line_magic("fm", "eval diff old new --judge judge-lm --pairwise")
    assert diff.judge == "judge" and diff.table["judge_preference"].notna().all()
    shown = diff._repr_mimebundle_()[0]["text/plain"].splitlines()
    assert shown[0].startswith("No clear difference between old and new on exact_match: +0.4")
    with pytest.raises(UsageError, match="--pairwise and --judge-method go with --judge MODEL"):
        ip.run_line_magic("fm", "eval diff old new --pairwise")
    with pytest.raises(BadArgumentError, match="generates nothing"):
        ip.run_line_magic("fm", "eval logs --output old --max-new-tokens 3")
