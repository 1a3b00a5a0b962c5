"""Anthropic's native Messages API through the official SDK (``fm.load("anthropic:MODEL")``).

What differs from OpenAI's API is only how a request is written and a reply read: the system
message goes in ``system=``, stop strings are ``stop_sequences``, there is no seed and no
log-probabilities, usage counts cache reads apart from the other input tokens, and
``count_tokens`` counts a request's input before it is sent.  Sampling settings
(``temperature``, ``top_p``, ``top_k``) are sent only where the installed SDK still takes them:
anthropic 2.x dropped them from ``messages.create``, so there the model decodes its own way and
asking for them is one sentence.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Iterator
from typing import Any

from ....errors import BadArgumentError
from .backend import Backend, MalformedReply, Reply, Request, import_sdk, trim_stop

FINISH = {"end_turn": "eos", "max_tokens": "length", "stop_sequence": "stop", "tool_use": "eos"}


class AnthropicBackend(Backend):
    SDK, CLIENTS = "anthropic", ("Anthropic", "AsyncAnthropic")

    def _conversation(self, request: Request) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        args: dict[str, Any] = dict(
            model=self.endpoint.model, messages=[m for m in request.messages if m["role"] != "system"]
        )
        if system:
            args["system"] = system
        return args

    def check(self, request: Request) -> None:
        asked = [k for k in ("temperature", "top_p", "top_k") if getattr(request, k) is not None]
        if asked and not takes_sampling():
            raise BadArgumentError(
                f"The installed anthropic SDK's Messages API takes no {', '.join(asked)}; leave "
                f"{'it' if len(asked) == 1 else 'them'} out (the model decodes its own way)."
            )

    def deterministic(self, request: Request) -> bool:
        """Greedy only where the SDK can still send temperature 0 (anthropic 2.x cannot)."""
        return not request.sampled and takes_sampling()

    def arguments(self, request: Request) -> dict[str, Any]:
        args = dict(self._conversation(request), max_tokens=request.max_tokens)
        if takes_sampling():
            if not request.sampled:
                args["temperature"] = 0.0
            else:
                args["temperature"] = 1.0 if request.temperature is None else request.temperature
                args.update(
                    (k, v) for k, v in (("top_p", request.top_p), ("top_k", request.top_k)) if v is not None
                )
        if request.stop:
            args["stop_sequences"] = list(request.stop)
        if request.extra:
            args["extra_body"] = dict(request.extra)
        return args

    def create(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        raw = client.messages.with_raw_response.create(**arguments)
        return raw.parse(), raw.retries_taken

    async def acreate(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        # The anthropic SDK's async raw response parses asynchronously (openai's legacy one does not).
        raw = await client.messages.with_raw_response.create(**arguments)
        return await raw.parse(), raw.retries_taken

    def read(self, parsed: Any, request: Request) -> Reply:
        blocks = getattr(parsed, "content", None)
        if blocks is None:
            raise MalformedReply(f"no content in the reply: {str(parsed)[:80]!r}")
        text, cut = trim_stop("".join(getattr(b, "text", "") for b in blocks), request.stop)
        return Reply(
            text=text,
            finish="stop" if cut else FINISH.get(parsed.stop_reason or "end_turn", str(parsed.stop_reason)),
            model=getattr(parsed, "model", None),
            **_usage(getattr(parsed, "usage", None)),
        )

    @contextlib.contextmanager
    def stream_events(self, client: Any, arguments: dict[str, Any]) -> Iterator[Any]:
        raw = client.messages.with_raw_response.create(**arguments, stream=True)
        stream = raw.parse()
        try:
            yield _events(stream, raw.retries_taken)
        finally:
            stream.close()

    def list_models(self, client: Any) -> list[dict[str, Any]]:
        return [m.model_dump() for m in client.models.list()]

    def count(self, request: Request) -> int | None:
        return int(self.client().messages.count_tokens(**self._conversation(request)).input_tokens)


@functools.cache
def takes_sampling() -> bool:
    """Whether the installed SDK's ``messages.create`` takes ``temperature`` (anthropic < 2 did)."""
    sdk = import_sdk("anthropic")
    return "temperature" in inspect.signature(sdk.resources.messages.Messages.create).parameters


def _usage(usage: Any) -> dict[str, Any]:
    """Anthropic's usage as fmwidgets' fields: tokens_in counts cache reads and writes too."""
    if usage is None:
        return {}
    read = getattr(usage, "cache_read_input_tokens", None)
    made = getattr(usage, "cache_creation_input_tokens", None)
    given = getattr(usage, "input_tokens", None)
    out: dict[str, Any] = {"tokens_out": getattr(usage, "output_tokens", None)}
    if given is not None:
        out["tokens_in"] = given + (read or 0) + (made or 0)
    if read is not None:
        out["cached_tokens"] = read
    return out


def _events(stream: Any, retries: int) -> Iterator[tuple[str, Any]]:
    end: dict[str, Any] = {"retries": retries}
    for event in stream:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            end["model"] = event.message.model
            end.update(_usage(event.message.usage))
        elif kind == "content_block_delta" and getattr(event.delta, "type", None) == "text_delta":
            yield "text", event.delta.text
        elif kind == "message_delta":
            if event.delta.stop_reason:
                end["finish"] = FINISH.get(event.delta.stop_reason, event.delta.stop_reason)
            end.update((k, v) for k, v in _usage(event.usage).items() if v is not None)
    yield "end", end
