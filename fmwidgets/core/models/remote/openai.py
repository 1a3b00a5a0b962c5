"""OpenAI's Chat Completions API, spoken by OpenAI and by most servers of open models (vLLM,
Ollama, llama.cpp, TGI, LM Studio, OpenRouter, ``transformers serve``), through the official SDK.

Greedy is ``temperature=0`` everywhere.  Sampling is sent the way each server takes it: as
``temperature``/``top_p`` (and ``top_k`` in the body for vLLM-style servers), and for
``transformers serve`` as a ``generation_config`` with ``do_sample`` (it keeps the model's
greedy config otherwise, whatever the temperature).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from .backend import Backend, MalformedReply, Reply, Request, trim_stop

# finish_reason -> fmwidgets' word for why generation ended
FINISH = {"stop": "eos", "length": "length", "content_filter": "filtered", "tool_calls": "eos"}


class OpenAIBackend(Backend):
    SDK, CLIENTS = "openai", ("OpenAI", "AsyncOpenAI")

    def arguments(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(
            model=self.endpoint.model, messages=request.messages, max_tokens=request.max_tokens
        )
        body: dict[str, Any] = {}
        if not request.sampled:
            args["temperature"] = 0
        elif self.endpoint.dialect == "transformers":
            config: dict[str, Any] = {"do_sample": True, "max_new_tokens": request.max_tokens}
            config.update(
                (k, v)
                for k, v in (
                    ("temperature", request.temperature),
                    ("top_p", request.top_p),
                    ("top_k", request.top_k),
                )
                if v is not None
            )
            body["generation_config"] = json.dumps(config)
        else:
            args["temperature"] = 1.0 if request.temperature is None else request.temperature
            if request.top_p is not None:
                args["top_p"] = request.top_p
            if request.top_k is not None:
                body["top_k"] = request.top_k
        if request.seed is not None:
            args["seed"] = request.seed
        if request.stop:
            args["stop"] = list(request.stop)
        if request.logprobs is not None:
            args["logprobs"] = True
            if request.logprobs > 0:
                args["top_logprobs"] = request.logprobs
        body.update(request.extra)
        if body:
            args["extra_body"] = body
        return args

    def create(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        raw = client.chat.completions.with_raw_response.create(**arguments)
        return raw.parse(), raw.retries_taken

    async def acreate(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        raw = await client.chat.completions.with_raw_response.create(**arguments)
        return raw.parse(), raw.retries_taken

    def read(self, parsed: Any, request: Request) -> Reply:
        choices = getattr(parsed, "choices", None) or [None]
        choice = choices[0]
        message = getattr(choice, "message", None)
        if message is None:
            raise MalformedReply(f"no choices in the reply: {str(parsed)[:80]!r}")
        text, cut = trim_stop(message.content or "", request.stop)
        usage = getattr(parsed, "usage", None)
        details = getattr(usage, "prompt_tokens_details", None)
        return Reply(
            text=text,
            finish="stop" if cut else FINISH.get(choice.finish_reason or "stop", str(choice.finish_reason)),
            tokens_in=getattr(usage, "prompt_tokens", None),
            tokens_out=getattr(usage, "completion_tokens", None),
            cached_tokens=getattr(details, "cached_tokens", None),
            model=getattr(parsed, "model", None),
            fingerprint=getattr(parsed, "system_fingerprint", None) or None,
            logprobs=_logprobs(getattr(choice, "logprobs", None)),
        )

    @contextlib.contextmanager
    def stream_events(self, client: Any, arguments: dict[str, Any]) -> Iterator[Any]:
        raw = client.chat.completions.with_raw_response.create(
            **arguments, stream=True, stream_options={"include_usage": True}
        )
        stream = raw.parse()
        try:
            yield _events(stream, raw.retries_taken)
        finally:
            stream.close()  # the server sees the client go and stops generating

    def list_models(self, client: Any) -> list[dict[str, Any]]:
        return [m.model_dump() for m in client.models.list().data]


def _events(stream: Any, retries: int) -> Iterator[tuple[str, Any]]:
    end: dict[str, Any] = {"retries": retries}
    for chunk in stream:
        if getattr(chunk, "model", None):
            end["model"] = chunk.model
        if getattr(chunk, "system_fingerprint", None):
            end["fingerprint"] = chunk.system_fingerprint
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            end["tokens_in"], end["tokens_out"] = usage.prompt_tokens, usage.completion_tokens
            end["cached_tokens"] = getattr(
                getattr(usage, "prompt_tokens_details", None), "cached_tokens", None
            )
        for choice in chunk.choices or ():
            if choice.delta is not None and choice.delta.content:
                yield "text", choice.delta.content
            if choice.finish_reason:
                end["finish"] = FINISH.get(choice.finish_reason, choice.finish_reason)
    yield "end", end


def _logprobs(logprobs: Any) -> list[tuple[str, float, dict[str, float]]] | None:
    """Per token (token, log-probability, {alternative: log-probability}); None when the server
    sent none (``logprobs: null``), [] for a reply with no tokens (an end-of-text at once)."""
    content = getattr(logprobs, "content", None)
    if content is None:
        return None
    return [
        (t.token, float(t.logprob), {a.token: float(a.logprob) for a in t.top_logprobs or ()})
        for t in content
    ]
