"""API-served models against llama.cpp's llama-server (fixture ``llama``): the one real server here
that returns log-probabilities and speaks Anthropic's Messages API, so the anthropic backend and
the log-probability path are checked against a real implementation, not canned replies."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.models.remote.generation import reply_batch
from fmwidgets.core.prompting.sampling import Sampling


@pytest.fixture
def claude(llama, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fmtest-llama-0123456789")
    return fm.load(f"anthropic:{llama.model}", base_url=llama.url, as_="claude", max_retries=1)


def test_the_anthropic_backend_against_a_real_messages_api(claude, llama):
    assert claude.provider == "anthropic" and claude.host == f"127.0.0.1:{llama.port}"
    reply = fm.chat("hello there", model="claude", system="be brief", max_new_tokens=6, stream=False)
    assert reply.text and reply.usage["tokens_out"] == 6 and reply.stopped == "length"
    assert reply.usage["tokens_in"] > 6  # the system prompt and the message, templated by the server
    assert reply.record.endpoint["served_model"] == llama.model
    seen: list = []
    from fmwidgets.core.prompting.generate import generate_text

    streamed = generate_text("the cat", model="claude", max_new_tokens=5, on_text=seen.append)
    assert seen and seen[-1] == [streamed.text] and streamed.usage["tokens_out"] == 5
    table = fm.generate_df(
        pd.DataFrame({"q": ["one", "two", "three"]}), "Say {q}", model="claude", max_new_tokens=4
    )
    assert table["output"].str.len().gt(0).all() and list(table["tokens_out"]) == [4, 4, 4]
    with pytest.raises(fm.FMError, match="no-such-model"):
        fm.load("anthropic:no-such-model", base_url=llama.url, as_="nope")


def test_top_logprobs_through_the_server_equal_the_model_in_process(llama):
    """The first reply token's top log-probabilities that the server sends equal log_softmax of the
    same model's next-token logits on the same templated ids (the GGUF is an f32 copy of the
    weights; llama.cpp's kernels differ in rounding, hence 5e-3)."""
    handle = fm.load(llama.model, base_url=llama.base_url, as_="llama_oai")
    (row,) = reply_batch(
        handle,
        [[{"role": "user", "content": "hello there"}]],
        Sampling(max_new_tokens=1).resolve(handle),
        logprobs=5,
    )
    assert handle.can("token_logprobs") and handle.logprobs is True
    top = row.usage["top_logprobs"][0]
    local_model = fm.load(llama.folder, as_="llama_local")
    tok = local_model.tokenizer
    text = tok.apply_chat_template(
        [{"role": "user", "content": "hello there"}], tokenize=False, add_generation_prompt=True
    )
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        expected = local_model.model(ids).logits[0, -1].log_softmax(-1)
    values, indices = expected.topk(5)
    local = {tok.decode([int(i)]): float(v) for v, i in zip(values, indices)}
    assert list(top)[:3] == list(local)[:3]
    assert all(math.isclose(top[t], local[t], abs_tol=5e-3) for t in list(local)[:3])
