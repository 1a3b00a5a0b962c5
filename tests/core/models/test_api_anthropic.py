"""The Anthropic backend over real HTTP: the official SDK talks to a local endpoint of our own (the
FaultProxy answering as the Messages API would, with canned replies), so what is checked is how
fmwidgets writes a request and reads a reply, stream and error; not Anthropic's service itself."""

from __future__ import annotations

import json

import pytest

import fmwidgets as fm
from fmwidgets.core.models.remote.anthropic import takes_sampling
from fmwidgets.errors import BadArgumentError
from fmwidgets.testing_server import FaultProxy

MODELS = {
    "data": [{"id": "claude-x", "type": "model", "display_name": "X", "created_at": "2025-01-01T00:00:00Z"}],
    "has_more": False,
    "first_id": "claude-x",
    "last_id": "claude-x",
}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x-20250101",
    "content": [{"type": "text", "text": "Hello there. STOP and more"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 11,
        "output_tokens": 5,
        "cache_read_input_tokens": 4,
        "cache_creation_input_tokens": 0,
    },
}
# The same reply streamed (a single reply always streams on the wire, so Stop keeps its text).
EVENTS = [
    (
        "message_start",
        {
            "type": "message_start",
            "message": {
                **MESSAGE,
                "content": [],
                "stop_reason": None,
                "usage": {**MESSAGE["usage"], "input_tokens": 11, "output_tokens": 1},
            },
        },
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    *(
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
        )
        for piece in ("Hel", "lo", " there. STOP and more")
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
    ),
    ("message_stop", {"type": "message_stop"}),
]
SSE = "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in EVENTS)


def _messages_api(n, path, body):
    if path.endswith("/v1/models"):
        return (200, MODELS)
    if path.endswith("/v1/messages"):
        return (200, SSE, "text/event-stream") if json.loads(body).get("stream") else (200, MESSAGE)
    return (404, {"type": "error", "error": {"type": "not_found_error", "message": "no such path"}})


@pytest.fixture
def claude(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fmtest-0123456789")
    with FaultProxy("http://127.0.0.1:9", rule=_messages_api) as endpoint:
        yield endpoint, fm.load("anthropic:claude-x", base_url=endpoint.url, as_="claude", max_retries=1)


def test_requests_and_replies_in_the_messages_api_shape(claude):
    endpoint, handle = claude
    assert handle.provider == "anthropic" and not handle.can("token_logprobs")
    reply = fm.chat("hi", model="claude", system="be brief", stop=["STOP"], max_new_tokens=7, stream=False)
    sent = json.loads(endpoint.log[-1][2])
    assert sent["system"] == "be brief" and sent["messages"] == [{"role": "user", "content": "hi"}]
    assert (sent["max_tokens"], sent["stop_sequences"]) == (7, ["STOP"])
    assert sent.get("temperature", 0.0) == 0.0  # greedy where the SDK takes a temperature, else unset
    headers = endpoint.headers[-1]  # the SDK sends the key as x-api-key (1.x) or a bearer token (2.x)
    assert "sk-ant-fmtest-0123456789" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    assert reply.text == "Hello there. " and reply.stopped == "stop"  # trimmed at the stop string
    assert (reply.usage["tokens_in"], reply.usage["cached_tokens"], reply.usage["tokens_out"]) == (15, 4, 5)
    assert reply.record.endpoint["served_model"] == "claude-x-20250101"
    if takes_sampling():
        sampled = fm.generate("hi", model="claude", temperature=0.5, top_k=3, max_new_tokens=4, stream=False)
        body = json.loads(endpoint.log[-1][2])
        assert (body["temperature"], body["top_k"]) == (0.5, 3) and "seed" not in body and sampled.text
    else:  # anthropic 2.x: messages.create has no sampling settings; refused before anything is sent
        sent_so_far = endpoint.requests
        with pytest.raises(BadArgumentError, match=r"takes no temperature, top_k; leave them out"):
            fm.generate("hi", model="claude", temperature=0.5, top_k=3, max_new_tokens=4, stream=False)
        assert endpoint.requests == sent_so_far


def test_rows_go_out_concurrently_through_the_async_client(claude):
    """generate_df sends each row through the SDK's async client (the path a single reply does not
    take): every row gets the reply, its tokens and the served model id."""
    import pandas as pd

    endpoint, _ = claude
    before = endpoint.count("/v1/messages")
    table = fm.generate_df(pd.DataFrame({"q": ["a", "b", "c"]}), "Say {q}", model="claude", max_new_tokens=7)
    assert endpoint.count("/v1/messages") - before == 3
    assert list(table["output"]) == ["Hello there. STOP and more"] * 3
    assert list(table["tokens_out"]) == [5, 5, 5]


def test_a_streamed_reply_and_the_errors(claude):
    endpoint, handle = claude
    from fmwidgets.core.prompting.generate import generate_text

    seen = []
    streamed = generate_text("hi", model="claude", max_new_tokens=5, on_text=seen.append)
    assert seen == [["Hel"], ["Hello"], ["Hello there. STOP and more"]] and streamed.stopped == "length"
    assert (streamed.usage["tokens_in"], streamed.usage["tokens_out"]) == (15, 5)
    endpoint.reset(
        rule=lambda n, path, body: (
            401,
            {
                "type": "error",
                "error": {
                    "type": "authentication_error",
                    "message": "invalid x-api-key sk-ant-fmtest-0123456789",
                },
            },
        )
    )
    with pytest.raises(
        fm.RemoteModelError, match=r"refused the API key from ANTHROPIC_API_KEY \(401"
    ) as caught:
        fm.generate("hi", model="claude", max_new_tokens=2, stream=False)
    assert "fmtest" not in str(caught.value)
    endpoint.reset(
        rule=lambda n, path, body: (
            (429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
            if n == 1
            else _messages_api(n, path, body)
        )
    )
    assert fm.generate("hi", model="claude", max_new_tokens=2, stream=False).usage["retries"] == 1
