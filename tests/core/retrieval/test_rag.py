"""fm.rag: the prompt as sent holds the retrieved passages and the question; sources; chat template;
fm.evaluate_retrieval on a labelled query set; bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.retrieval.rag import DEFAULT_PROMPT, numbered
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError

PASSAGES = pd.DataFrame({
    "text": ["it will rain tomorrow so take an umbrella", "the cat sat on the mat", "stocks fell sharply today",
             "our team won the match after a hard second half"],
    "doc": ["rain", "cat", "stocks", "match"],
})


@pytest.fixture
def docs(minilm):
    return fm.index(PASSAGES, text="text", name="docs")


def test_prompt_holds_numbered_sources_and_question(docs, gpt2):
    answer = fm.rag("Will it rain tomorrow?", index="docs", model=gpt2, k=2, max_new_tokens=4)
    assert answer.sources["doc"].tolist()[0] == "rain" and len(answer.sources) == 2
    assert answer.sources["score"].is_monotonic_decreasing
    expected = DEFAULT_PROMPT.replace("{context}", numbered(answer.sources["text"].tolist())).replace(
        "{question}", "Will it rain tomorrow?")
    assert answer.prompt == expected
    direct = fm.generate(expected, model=gpt2, max_new_tokens=4, greedy=True)
    assert answer.text == direct.text and answer.token_ids == direct.token_ids
    assert isinstance(answer, fm.Generation) and answer.record.kind == "rag"


def test_user_template_saved_version_and_chat_template(docs, chat_gpt2):
    template = "Q: {question}\nUse:\n{context}\nA:"
    answer = fm.rag("who won?", index=docs, model=chat_gpt2, k=1, prompt=template, max_new_tokens=2)
    body = "Q: who won?\nUse:\n[1] our team won the match after a hard second half\nA:"
    assert answer.prompt == chat_gpt2.tokenizer.apply_chat_template(
        [{"role": "user", "content": body}], add_generation_prompt=True, tokenize=False)
    version = fm.save_prompt("qa", template)
    again = fm.rag("who won?", index=docs, model=chat_gpt2, k=1, prompt=version.id, max_new_tokens=2)
    assert again.prompt == answer.prompt


def test_an_api_model_answers_from_the_same_passages(docs, api_model, served_local, proxy):
    seen: list[list[str]] = []
    answer = fm.rag("Will it rain tomorrow?", index="docs", model="srv", k=2, max_new_tokens=6, on_text=seen.append)
    here = fm.rag("Will it rain tomorrow?", index="docs", model="local", k=2, max_new_tokens=6, chat=True)
    assert answer.text == here.text and answer.text.strip() and seen[-1] == [answer.text]  # it streamed
    assert answer.sources["doc"].tolist() == here.sources["doc"].tolist() and answer.sources["doc"][0] == "rain"
    expected = DEFAULT_PROMPT.replace("{context}", numbered(answer.sources["text"].tolist())).replace(
        "{question}", "Will it rain tomorrow?")
    assert answer.prompt == expected  # the filled prompt went to the server as the user's message
    assert json.loads(proxy.log[-1][2])["messages"] == [{"role": "user", "content": expected}]
    assert proxy.count("/chat/completions") == 1
    record = answer.record
    assert record.kind == "rag" and record.family == "api" and record.params["k"] == 2
    assert record.endpoint["served_model"] == api_model.model_id and record.endpoint["host"] == api_model.host
    assert answer.usage["tokens_out"] == 6 and answer.usage["tokens_in"] > 6


def test_display_marks_shared_words_and_escapes(minilm, gpt2):
    idx = fm.index(pd.DataFrame({"text": ["<em>rain</em> tomorrow & wind"]}), text="text", model=minilm)
    answer = fm.rag("rain?", index=idx, model=gpt2, k=1, max_new_tokens=2)
    answer.text = "rain <i>maybe</i>"
    html = answer._repr_mimebundle_()[0]["text/html"]
    assert "<em>" not in html and "<i>" not in html and "&lt;i&gt;" in html
    assert "&lt;em&gt;<mark>rain</mark>&lt;/em&gt; tomorrow &amp; wind" in html


def test_evaluate_retrieval_metrics(docs):
    queries = pd.DataFrame({"query": ["umbrella weather", "a pet on a rug", "football result"],
                            "relevant": ["rain", "cat", ["match", "stocks"]]})
    result = fm.evaluate_retrieval(docs, queries, k=2, key="doc")
    table = result.table
    assert table["hit@1"].tolist() == [1.0, 1.0, 1.0]
    assert table["recall@2"].tolist()[:2] == [1.0, 1.0]
    assert table["mrr"].tolist() == [1.0, 1.0, 1.0]
    rows = {r[0]: r for r in table[["query", "output"]].itertuples(index=False)}
    third = rows["football result"][1]
    assert table["recall@2"].iloc[2] == len({"match", "stocks"} & set(third)) / 2
    assert list(result.summary.columns[:4]) == ["mean", "ci_low", "ci_high", "n"]
    assert list(result.summary.index) == ["hit@1", "hit@2", "recall@2", "mrr"]


def test_bad_input(docs, gpt2, minilm):
    with pytest.raises(DataError, match="question is empty"):
        fm.rag("  ", index=docs, model=gpt2)
    with pytest.raises(WrongFamilyError):
        fm.rag("rain?", index=docs, model=minilm)
    with pytest.raises(BadArgumentError, match="more rows than the index"):
        fm.rag("rain?", index=docs, model=gpt2, k=5)
    with pytest.raises(BadArgumentError, match="no index named"):
        fm.rag("rain?", index="nope", model=gpt2)
    with pytest.raises(BadArgumentError, match="no \\{context\\}"):
        fm.rag("rain?", index=docs, model=gpt2, prompt="just {question}")
    assert len(docs) == 4
