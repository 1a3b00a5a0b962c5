"""%fm index and %%fm rag: one API call each; the index is found by name."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

import fmwidgets as fm


def test_index_then_rag_by_name(ip, minilm, gpt2, tmp_path):
    ip.user_ns["passages"] = pd.DataFrame({"text": ["it will rain tomorrow", "the cat sat on the mat"]})
    folder = tmp_path / "idx"
    ip.run_line_magic("fm", f"index passages --text text --as docs --path {folder} --model {minilm.name}")
    assert isinstance(ip.user_ns["docs"], fm.Index) and len(ip.user_ns["docs"]) == 2
    assert (folder / "fmwidgets-index.json").exists()
    answer = ip.run_cell_magic("fm", "rag --index docs --k 1 --model gpt2 --max-new-tokens 3 --no-stream --out ans",
                               "Will it rain?\n")
    assert answer.sources["text"].tolist() == ["it will rain tomorrow"]
    assert "Question: Will it rain?" in answer.prompt and ip.user_ns["ans"] is answer


def test_usage_errors(ip, minilm):
    ip.user_ns["passages"] = pd.DataFrame({"text": ["a"]})
    with pytest.raises(UsageError):
        ip.run_line_magic("fm", "index passages --text text --as not-a-name")
    with pytest.raises(UsageError):
        ip.run_cell_magic("fm", "rag --index docs", "\n")


def test_label_magic(ip, minilm):
    ip.user_ns["reviews"] = pd.DataFrame({"review": ["I loved it, wonderful", "terrible, it broke"]})
    out = ip.run_line_magic("fm", "label reviews --text review --labels 'good review, bad review' --out labelled")
    assert ip.user_ns["labelled"] is out
    assert out["label"].tolist() == ["good review", "bad review"]
    assert {"score_good review", "score_bad review", "confidence"} <= set(out.columns)
