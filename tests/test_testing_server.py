"""The served tiny chat model and the fault proxy that the API-model tests stand on."""

from __future__ import annotations

import openai


def test_server_answers_chat_greedy_like_model_generate(served):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    client = openai.OpenAI(base_url=served.base_url, api_key="none", max_retries=0)
    assert [m.id for m in client.models.list().data] == [served.model]
    messages = [{"role": "user", "content": "the cat sat"}]
    reply = client.chat.completions.create(model=served.model, messages=messages, max_tokens=8, temperature=0)
    tok = AutoTokenizer.from_pretrained(served.folder)
    net = AutoModelForCausalLM.from_pretrained(served.folder)
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
    out = net.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False)
    assert reply.choices[0].message.content == tok.decode(out[0, len(ids) :], skip_special_tokens=True)
    assert reply.usage.prompt_tokens == len(ids) and reply.usage.completion_tokens == 8


def test_proxy_counts_and_the_sdk_retries_its_faults(proxy, served):
    client = openai.OpenAI(base_url=proxy.base_url, api_key="none", max_retries=3)
    proxy.reset({1: 429, 2: 503, 3: "drop"})
    raw = client.chat.completions.with_raw_response.create(
        model=served.model, messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    # a 429, a 503, a dropped connection, then the forwarded answer
    assert [answer for *_, answer in proxy.log] == ["429", "503", "drop", "forwarded"]
    assert raw.retries_taken == 3 and proxy.requests == 4
    assert raw.parse().choices[0].message.content is not None
    proxy.reset({1: (401, {"error": {"message": "bad key"}})})
    try:
        client.models.list()
    except openai.AuthenticationError as exc:
        assert exc.status_code == 401 and proxy.requests == 1
    else:
        raise AssertionError("a 401 must reach the client")


def test_a_slow_fault_streams_the_same_reply_one_event_at_a_time(proxy, served):
    import time

    from fmwidgets.testing_server import SLOW_PAUSE

    client = openai.OpenAI(base_url=proxy.base_url, api_key="none", max_retries=0)
    asked = dict(model=served.model, messages=[{"role": "user", "content": "the cat sat"}], max_tokens=20,
                 temperature=0)
    fast = client.chat.completions.create(**asked).choices[0].message.content
    proxy.reset({1: "slow"})
    start, arrivals = time.perf_counter(), []
    for chunk in client.chat.completions.create(**asked, stream=True):
        arrivals.append((time.perf_counter() - start, chunk.choices[0].delta.content if chunk.choices else None))
    assert "".join(text or "" for _, text in arrivals) == fast and proxy.log[0][3] == "slow"
    assert arrivals[-1][0] >= SLOW_PAUSE * 20  # at least one pause per token
    assert arrivals[-1][0] - arrivals[1][0] >= SLOW_PAUSE * 18  # the events came apart, not at once
