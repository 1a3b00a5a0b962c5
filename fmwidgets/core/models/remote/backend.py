"""The one small interface every API provider implements, and what the two share.

A ``Backend`` turns a ``Request`` (messages and decoding settings, provider-neutral) into a
``Reply`` (text, why it ended, tokens, latency, what the server says it ran): ``complete`` and
``stream`` with a sync client in the calling thread (one reply, Stop and interrupts work),
``acomplete`` with an async client on the engine's request loop (batches), ``count`` where the
provider counts tokens, ``models`` for the load-time check.  ``openai.py`` (any
OpenAI-compatible server) and ``anthropic.py`` (the native Messages API) fill in how a request
is written and a reply read; both SDKs come from the same generator, so their errors are worded
here once (``explain``), with keys redacted from whatever the server sent back.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ....errors import DataError, FMError, MissingDependencyError, RemoteModelError
from .keys import KEY_VARIABLES, lookup, redact

INSTALL = "pip install 'fmwidgets[api]'"


@dataclass
class Endpoint:
    """Where a model is served and how to talk to it; holds the key's variable name, never the key."""

    provider: str  # "openai" (any OpenAI-compatible server) | "anthropic"
    model: str
    base_url: str | None  # None: the provider's own API
    key_variable: str | None  # None: the server needs no key
    timeout: float | None
    max_retries: int
    # how the server takes sampling settings ("openai" | "transformers" | "vllm"): found at load
    dialect: str = field(default="openai", compare=False)

    @property
    def host(self) -> str:
        """host:port of the server (no path, no credentials), or the provider's API host."""
        if self.base_url is None:
            return {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}[self.provider]
        parts = urlsplit(self.base_url)
        return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else self.base_url

    def key(self) -> str:
        """The key to send: from set_api_key or the environment (a placeholder when none is needed)."""
        if self.key_variable is None:
            return "no-key"  # local servers take any key; the SDK insists on one
        key = lookup(self.key_variable)
        if key is None:
            raise RemoteModelError(
                f"The key for '{self.model}' is read from the environment variable {self.key_variable}, "
                f"which is not set; set it before starting Jupyter, or call "
                f"fm.set_api_key({self.asked_as!r}) to type it (kept in memory only)."
            )
        return key

    @property
    def asked_as(self) -> str:
        """What ``fm.set_api_key`` takes for this key: the provider's name, or the variable's."""
        return next((p for p, v in KEY_VARIABLES.items() if v == self.key_variable), self.key_variable or "")


@dataclass
class Request:
    """One chat request, provider-neutral: ``sampled=False`` is the server's deterministic setting."""

    messages: list[dict[str, str]]
    max_tokens: int
    sampled: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    stop: list[str] | None = None
    logprobs: int | None = None  # log-probabilities wanted: how many alternatives per token
    extra: dict[str, Any] = field(default_factory=dict)  # other request fields, sent as given


@dataclass
class Reply:
    """One reply with its accounting; ``finish`` is "eos" | "length" | "stop" | "stopped" | "interrupted"."""

    text: str
    finish: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    cached_tokens: int | None = None
    seconds: float = 0.0
    first_token_seconds: float | None = None
    model: str | None = None  # the model id the server says it ran
    fingerprint: str | None = None
    retries: int = 0
    # (token, log-probability, {alternative: log-probability}) per token, when the server sent them
    logprobs: list[tuple[str, float, dict[str, float]]] | None = None


def trim_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """(the text before the first stop string, whether one was found): some servers keep it."""
    cuts = [text.find(s) for s in stop or () if s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


class Backend:
    """A provider's client pair and the translation of requests and replies.

    Subclasses give ``SDK`` and ``CLIENTS`` (the module and its client classes), ``arguments(request)``,
    ``create(client, arguments)`` / ``acreate`` (-> (parsed reply, retries taken)),
    ``read(parsed, request)``, ``stream_events(client, arguments)`` and ``list_models``.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._sync: Any = None
        self._async: Any = None
        self._closer: Any = None

    # -- clients (made on first use, and again when the key changed: fm.set_api_key, the
    #    environment); the async one on the request loop, where it is used and closed

    def client(self) -> Any:
        key = self.endpoint.key()
        if self._sync is None or self._sync.api_key != key:
            self._sync = self.make_client(key, asynchronous=False)
        return self._sync

    def async_client(self) -> Any:
        """The async client, made on the request loop (where it is used, and closed: see below)."""
        key = self.endpoint.key()
        if self._async is not None and self._async.api_key != key:
            self._closer()
            self._async = None
        if self._async is None:
            self._async = self.make_client(key, asynchronous=True)
            self._closer = weakref.finalize(self, close_on_loop, self._async)
        return self._async

    # -- what a provider fills in

    SDK: str  # the provider's SDK module
    CLIENTS: tuple[str, str]  # its (sync, async) client classes

    def make_client(self, key: str, asynchronous: bool) -> Any:
        sdk = import_sdk(self.SDK)
        endpoint = self.endpoint
        options: dict[str, Any] = dict(api_key=key, max_retries=endpoint.max_retries)
        if endpoint.base_url is not None:
            options["base_url"] = endpoint.base_url
        if endpoint.timeout is not None:
            options["timeout"] = endpoint.timeout
        return getattr(sdk, self.CLIENTS[asynchronous])(**options)

    def check(self, request: Request) -> None:
        """One sentence for a setting this provider does not take, before anything is sent."""

    def deterministic(self, request: Request) -> bool:
        """Whether the server is asked to decode greedily, so that asking again gives the same
        text (what ``fm.repro(verify=True, call_api=True)`` expects of a re-run)."""
        return not request.sampled

    def arguments(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        raise NotImplementedError

    async def acreate(self, client: Any, arguments: dict[str, Any]) -> tuple[Any, int]:
        raise NotImplementedError

    def read(self, parsed: Any, request: Request) -> Reply:
        raise NotImplementedError

    def stream_events(self, client: Any, arguments: dict[str, Any]) -> Any:
        """A context manager over the stream, yielding ("text", str) | ("end", Reply fields)."""
        raise NotImplementedError

    def list_models(self, client: Any) -> list[dict[str, Any]]:
        """The server's /v1/models entries, as plain dicts."""
        raise NotImplementedError

    def count(self, request: Request) -> int | None:
        """Input tokens of ``request`` counted by the provider, where it offers that."""
        return None

    # -- the interface

    def complete(self, request: Request) -> Reply:
        start = time.perf_counter()
        try:
            parsed, retries = self.create(self.client(), self.arguments(request))
        except Exception as error:  # noqa: BLE001 - every SDK error becomes one sentence
            raise self.explain(error) from quoted(error)
        reply = self.read(parsed, request)
        reply.seconds, reply.retries = time.perf_counter() - start, retries
        return reply

    async def acomplete(self, request: Request) -> Reply:
        """One request on the async client; SDK errors are raised as they are (``explain`` them)."""
        start = time.perf_counter()
        parsed, retries = await self.acreate(self.async_client(), self.arguments(request))
        reply = self.read(parsed, request)
        reply.seconds, reply.retries = time.perf_counter() - start, retries
        return reply

    def stream(
        self,
        request: Request,
        on_text: Callable[[str], None] | None = None,
        stop_event: threading.Event | None = None,
    ) -> Reply:
        """The reply streamed: ``on_text(text so far)`` after each piece; the Stop event or a
        KeyboardInterrupt closes the stream (the server stops) and keeps the text so far."""
        start = time.perf_counter()
        pieces: list[str] = []
        end: dict[str, Any] = {}
        first: float | None = None
        finish = None
        try:
            with self.stream_events(self.client(), self.arguments(request)) as events:
                for kind, value in events:
                    if kind == "text" and value:
                        first = first or time.perf_counter() - start
                        pieces.append(value)
                        if on_text is not None:
                            on_text("".join(pieces))
                    elif kind == "end":
                        end.update(value)
                    if stop_event is not None and stop_event.is_set():
                        finish = "stopped"
                        break
        except KeyboardInterrupt:
            finish = "interrupted"
        except FMError:
            raise
        except Exception as error:  # noqa: BLE001 - every SDK error becomes one sentence
            raise self.explain(error) from quoted(error)
        text, cut = trim_stop("".join(pieces), request.stop)
        sent = end.pop(
            "finish", "eos"
        )  # what the server said, unless Stop, an interrupt or a stop string ended it
        reply = Reply(text=text, finish=finish or ("stop" if cut else sent), **end)
        reply.seconds, reply.first_token_seconds = time.perf_counter() - start, first
        return reply

    # -- errors

    def explain(self, error: BaseException, during: str = "request") -> FMError:
        """One sentence for an SDK error (keys redacted from what the server said)."""
        return explain(error, self.endpoint, during)


def close_on_loop(client: Any) -> None:
    """Close an async client on the request loop, whichever thread lets go of it.

    Left to the garbage collector, its sockets would be closed from another thread while the
    loop still watches their file descriptors, and a new connection given the same number could
    then wait for a reply forever."""
    from ....engines.api import run_soon

    try:
        run_soon(client.close())
    except RuntimeError:  # the interpreter is shutting down: nothing is waiting any more
        pass


def import_sdk(name: str) -> Any:
    """The provider's SDK, or one sentence naming the pip command."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"API-served models need the '{name}' package, which is not installed; {INSTALL}, then "
            "restart the kernel."
        ) from exc


class ServerSaid(Exception):
    """What the server answered (keys redacted), chained under a sentence instead of the SDK's
    exception, which holds the request and with it the key's header."""


def quoted(error: BaseException) -> ServerSaid:
    said = ServerSaid(redact(f"{type(error).__name__}: {error}"))
    said.__suppress_context__ = True
    return said


def server_message(error: BaseException) -> str:
    """The server's own message from an SDK error, redacted, cut to one short clause."""
    body = getattr(error, "body", None)
    text = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else str(inner)
        text = text or body.get("detail")
    text = str(text if text is not None else getattr(error, "message", None) or error)
    text = " ".join(redact(text).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def fatal(error: BaseException) -> bool:
    """Whether a failed request says the server (not this row) is the problem: stop sending more."""
    return getattr(error, "status_code", None) not in (400, 413, 422)  # those are about the row


def explain(error: BaseException, endpoint: Endpoint, during: str = "request") -> FMError:
    """An SDK error as one sentence that says what was wrong and what to do."""
    if isinstance(error, FMError):
        return error
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    where = endpoint.host
    said = server_message(error)
    tries = f" after {endpoint.max_retries} retries" if endpoint.max_retries and during == "request" else ""
    result: FMError
    if name == "APITimeoutError":
        limit = f"{endpoint.timeout:g} s" if endpoint.timeout else "the SDK's time limit"
        result = RemoteModelError(
            f"The server at {where} did not answer within {limit}{tries}; load the model again with a "
            "larger timeout= (--timeout), or a lower max_concurrency= if it is overloaded."
        )
    elif name == "APIConnectionError":
        cause = type(error.__cause__).__name__ if error.__cause__ else "no connection"
        result = RemoteModelError(
            f"Nothing answers at {where} ({cause}{tries}); start the server or check base_url= "
            "(it ends with /v1 for OpenAI-compatible servers)."
        )
    elif status == 401:
        if endpoint.key_variable is None:
            result = RemoteModelError(
                f"The server at {where} wants an API key (401: {said}); put it in an environment "
                "variable and load the model with api_key_env='THAT_VARIABLE' (--api-key-env)."
            )
        else:
            result = RemoteModelError(
                f"The server at {where} refused the API key from {endpoint.key_variable} (401: {said}); "
                f"set {endpoint.key_variable} to a valid key, or type one with "
                f"fm.set_api_key({endpoint.asked_as!r})."
            )
    elif status == 403:
        result = RemoteModelError(
            f"The server at {where} does not let this key use '{endpoint.model}' (403: {said}); check the "
            "key's project and permissions."
        )
    elif status == 404:
        result = RemoteModelError(
            f"The server at {where} does not know '{endpoint.model}' or the path asked for (404: {said}); "
            "check the model id and that base_url= ends with /v1."
        )
    elif status == 429:
        result = RemoteModelError(
            f"The server at {where} kept refusing with a rate limit (429{tries}: {said}); lower "
            "max_concurrency= (--max-concurrency), raise max_retries=, or wait and run it again."
        )
    elif status in (400, 413, 422) and any(
        w in said.lower() for w in ("context", "too long", "maximum", "tokens")
    ):
        result = DataError(
            f"The request is too long for '{endpoint.model}' at {where} ({status}: {said}); shorten the "
            "prompt or conversation, or ask for fewer new tokens."
        )
    elif status in (400, 422):
        result = RemoteModelError(
            f"The server at {where} refused the request ({status}: {said}); drop the setting it names, "
            "or check that it supports it."
        )
    elif status is not None and status >= 500:
        result = RemoteModelError(
            f"The server at {where} failed{tries} ({status}: {said}); check the server's log, or run it "
            "again once it is back (finished rows are kept)."
        )
    elif status is not None:
        result = RemoteModelError(f"The server at {where} answered {status} to the {during} ({said}).")
    elif name in ("APIResponseValidationError", "JSONDecodeError", "MalformedReply"):
        result = RemoteModelError(
            f"The server at {where} sent a reply that is not what the API returns ({said}); check that "
            "base_url= points at an OpenAI-compatible /v1 endpoint."
        )
    else:
        result = RemoteModelError(
            f"The {during} to {where} failed ({name}: {said}); see the chained message for details."
        )
    if isinstance(result, RemoteModelError):
        result.status = status
    return result


class MalformedReply(Exception):
    """A 200 reply that does not hold what the API promises (no choices, no text)."""
