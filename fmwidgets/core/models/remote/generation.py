"""Generation on an API-served model, for the same calls as on a local decoder.

``core/prompting`` renders, checks and records as it does for a local model and hands the work
here at two points (``run_batch`` for one reply, ``generate_rows`` for rows): a prompt becomes
chat messages, decoding settings a ``Request``, a ``Reply`` a ``BatchRow`` with its accounting
(``usage``: tokens in/out, cached tokens, seconds, cost, the model id and fingerprint the server
reports, retries).  One reply is streamed in the calling thread (Stop and interrupts keep the
text so far); rows go out concurrently through ``engines/api.py``, in order, and a row that
still fails after the SDK's retries is named in one sentence, the finished ones kept.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ....config import settings
from ....engines.api import failure, run_requests
from ....errors import BadArgumentError
from ....notices import FMWarning
from ....provenance import api_calls
from ...prompting.rows import BatchRow
from ...prompting.sampling import Sampling
from ..registry import ModelHandle
from .backend import Reply, Request, fatal, redact
from .handle import RemoteHandle

# Decoding keywords of transformers' generate that mean nothing to an API (refused by name, so
# the user hears it from us rather than as a 422 from the server).
LOCAL_ONLY = ("num_beams", "min_new_tokens", "repetition_penalty", "no_repeat_ngram_size", "typical_p")


def remote(handle: ModelHandle) -> RemoteHandle:
    assert isinstance(handle, RemoteHandle)
    return handle


def messages_for(prompt: str, chat: bool | None, system: str | None) -> list[dict[str, str]]:
    """The chat messages for a prompt: an API-served model always takes a conversation."""
    if chat is False:
        raise BadArgumentError(
            "An API-served model takes chat messages, so chat=False (--no-chat) cannot apply; leave "
            "it out (the prompt is sent as the user's message)."
        )
    return ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": prompt}
    ]


def check_template(handle: ModelHandle, chat_template: str | None) -> None:
    if chat_template is not None:
        raise BadArgumentError(
            f"Model '{handle.name}' is served at {remote(handle).host}, which lays out the conversation "
            "with its own template; leave chat_template= out."
        )


def request_for(
    handle: RemoteHandle,
    messages: list[dict[str, str]],
    sampling: Sampling,
    seed: int | None,
    logprobs: int | None = None,
) -> Request:
    """A provider-neutral request for ``sampling`` (resolved), with one sentence for what this
    provider cannot take."""
    local = [k for k in LOCAL_ONLY if k in sampling.extra]
    if local:
        raise BadArgumentError(
            f"{', '.join(local)} is a setting of transformers' generate in this kernel; model "
            f"'{handle.name}' is served at {handle.host}, so leave it out."
        )
    sampled = not sampling.greedy
    top_k = sampling.top_k if sampled else None
    if top_k is not None and handle.provider == "openai" and handle.endpoint.base_url is None:
        raise BadArgumentError("OpenAI's API has no top_k; use top_p (or temperature) instead.")
    if logprobs is not None and not handle.can("token_logprobs"):
        handle.require("token_probs")
    request = Request(
        messages=messages,
        max_tokens=sampling.max_new_tokens,
        sampled=sampled,
        temperature=sampling.temperature if sampled else None,
        top_p=sampling.top_p if sampled else None,
        top_k=top_k,
        seed=seed,
        stop=list(sampling.stop) if sampling.stop else None,
        logprobs=logprobs,
        extra=dict(sampling.extra),
    )
    handle.backend.check(request)
    api_calls.sending(handle.host, handle.backend.deterministic(request))  # a re-run may refuse it
    return request


def price(handle: RemoteHandle) -> tuple[float, ...] | None:
    """The user's price for this model (dollars per million tokens), or None."""
    prices = settings().prices or {}
    found = prices.get(handle.model_id)
    if found is None:
        return None
    values = tuple(float(v) for v in found)
    if len(values) not in (2, 3) or any(not math.isfinite(v) or v < 0 for v in values):
        raise BadArgumentError(
            f"The price of '{handle.model_id}' must be (input, output) or (input, output, cached input) "
            f"dollars per million tokens, not {found!r}."
        )
    return values


def cost(prices: tuple[float, ...] | None, reply: Reply) -> float:
    """Dollars for one reply; NaN when no price is known or the server reported no tokens."""
    if prices is None or reply.tokens_in is None or reply.tokens_out is None:
        return math.nan
    cached = reply.cached_tokens or 0
    cached_price = prices[2] if len(prices) == 3 else prices[0]
    return (
        (reply.tokens_in - cached) * prices[0] + cached * cached_price + reply.tokens_out * prices[1]
    ) / 1e6


def usage(reply: Reply, prices: tuple[float, ...] | None) -> dict[str, Any]:
    """A reply's accounting, as recorded per row."""
    return {
        "tokens_in": reply.tokens_in,
        "tokens_out": reply.tokens_out,
        "cached_tokens": reply.cached_tokens,
        "seconds": reply.seconds,
        "cost": cost(prices, reply),
        "model": reply.model,
        "fingerprint": reply.fingerprint,
        "retries": reply.retries,
        "finish": reply.finish,
    }


def warn_unpriced(handle: ModelHandle, stacklevel: int = 4) -> None:
    """One line, once per call, when the cost cannot be known (so it is NaN, never $0)."""
    if price(remote(handle)) is None:
        warnings.warn(
            f"No price is set for '{handle.model_id}', so its cost is NaN (unknown, not $0); set "
            f"fm.settings().prices = {{{handle.model_id!r}: (input, output)}} in dollars per million tokens.",
            FMWarning,
            stacklevel=stacklevel,
        )


def batch_row(reply: Reply, texts: list[str], prices: tuple[float, ...] | None) -> Any:
    tokens = [t for t, _, _ in reply.logprobs] if reply.logprobs else []
    return BatchRow(
        texts=texts,
        token_ids=[],
        prompt_ids=[],
        logprobs=[lp for _, lp, _ in reply.logprobs] if reply.logprobs else [],
        seconds=reply.seconds,
        first_token_seconds=reply.first_token_seconds,
        steps=reply.tokens_out or 0,
        stopped=reply.finish,
        usage=dict(usage(reply, prices), tokens=tokens, top_logprobs=[a for _, _, a in reply.logprobs or ()]),
    )


def sample_seed(sampling: Sampling, k: int) -> int | None:
    """The seed of request ``k`` of a call: ``seed + k`` when sampling (so each row, and each
    sample, repeats however the requests interleave), the seed itself when greedy."""
    seed = sampling.seed
    return seed + k if seed is not None and not sampling.greedy else seed


def requests_for(
    handle: RemoteHandle, prompts: Sequence[Any], sampling: Sampling, logprobs: int | None = None
) -> list[Request]:
    """``sampling.n`` requests per prompt (chat messages), each with its own seed."""
    each = (m for m in prompts for _ in range(sampling.n))
    return [request_for(handle, m, sampling, sample_seed(sampling, k), logprobs) for k, m in enumerate(each)]


def reply_batch(
    handle: ModelHandle,
    prompts: Sequence[Any],
    sampling: Sampling,
    *,
    on_text: Callable | None = None,
    stop_event: threading.Event | None = None,
    logprobs: int | None = None,
) -> list[Any]:
    """``run_batch`` on a served model: one BatchRow per prompt (messages); one prompt with one
    sample streams (without log-probabilities), the rest go out concurrently."""
    served = remote(handle)
    prices = price(served)
    n = sampling.n
    requests = requests_for(served, prompts, sampling, logprobs)
    if len(requests) == 1:
        request = requests[0]
        if logprobs is not None:  # streamed pieces carry no log-probabilities: the whole reply does
            reply = served.backend.complete(request)
        else:  # streamed even when nothing is shown, so that an interrupt keeps the text so far
            show = (lambda text: on_text([text])) if on_text is not None else None
            reply = served.backend.stream(request, show, stop_event)
        check_logprobs(served, reply, request)
        return [batch_row(reply, [reply.text], prices)]
    replies = concurrent_replies(served, requests)
    rows = []
    for i in range(len(prompts)):
        group = replies[i * n : (i + 1) * n]
        kept = [r for r in group if r is not None]
        if not kept:  # interrupted before any sample of this prompt finished
            kept = [Reply(text="", finish="interrupted")]
        rows.append(batch_row(kept[0], [r.text for r in kept], prices))
    if on_text is not None:
        on_text([t for row in rows for t in row.texts])
    return rows


def check_logprobs(handle: RemoteHandle, reply: Reply, request: Request) -> None:
    """Servers drop ``logprobs`` silently: when asked for and not sent, remember it and say so."""
    if request.logprobs is not None and reply.logprobs is None:
        handle.logprobs = False
        handle.require("token_probs")
    elif request.logprobs is not None:
        handle.logprobs = True


def concurrent_replies(
    handle: RemoteHandle,
    requests: list[Request],
    *,
    progress: Callable[..., None] | None = None,
    names: Sequence[Any] | None = None,
    what: str = "rows",
) -> list[Reply | None]:
    """Every request through the concurrent batcher, in order (None where interrupted); failed
    rows raise one EngineError naming them (``.partial``: the replies that finished)."""
    backend = handle.backend
    prices = price(handle)
    totals = {"tokens": 0, "cost": 0.0 if prices else math.nan}

    async def one(i: int) -> Reply:
        return await backend.acomplete(requests[i])

    def done(i: int, reply: Reply) -> None:
        totals["tokens"] += (reply.tokens_in or 0) + (reply.tokens_out or 0)
        totals["cost"] += cost(prices, reply)

    outcome = run_requests(
        one,
        len(requests),
        concurrency=handle.max_concurrency,
        fatal=fatal,
        done=done,
        progress=None
        if progress is None
        else (lambda finished: progress(finished, len(requests), dict(totals))),
    )
    if outcome.failed:
        raise failure(outcome, lambda error: redact(str(backend.explain(error))), names, what)
    return outcome.results


def reply_rows(
    handle: ModelHandle,
    prompts: Sequence[Any],
    sampling: Sampling,
    *,
    progress: Callable[..., None] | None = None,
    names: Sequence[Any] | None = None,
) -> tuple[list[Any], list[dict[str, Any] | None]]:
    """``generate_rows`` on a served model: (one output per prompt, its accounting), rows
    concurrent and in order.  ``progress(done, total, {"tokens", "cost"})`` counts rows.

    An interrupt leaves the unfinished rows None (with a warning); failed rows raise one
    EngineError naming them (by ``names``), whose ``.partial`` holds one output per prompt and
    ``.usage`` their accounting."""
    from ....errors import EngineError

    served = remote(handle)
    prices = price(served)
    n = sampling.n
    requests = requests_for(served, prompts, sampling)
    if requests:
        warn_unpriced(served, stacklevel=6)
    per_row = None if progress is None else _reporting(progress, n, len(prompts))
    labels = None if names is None else [names[k // n] for k in range(len(requests))]
    try:
        replies = concurrent_replies(served, requests, progress=per_row, names=labels)
    except EngineError as error:
        error.partial, error.usage = _per_row(error.partial or [], n, prices)
        raise
    outputs, accounts = _per_row(replies, n, prices)
    done = sum(o is not None for o in outputs)
    if done < len(prompts):
        warnings.warn(
            f"Interrupted after {done} of {len(prompts)} rows; the others are left empty.",
            FMWarning,
            stacklevel=5,
        )
    return outputs, accounts


def _reporting(progress: Callable[..., None], n: int, rows: int) -> Callable[[int, int, dict], None]:
    """Requests done -> ``progress(rows done, rows, {"tokens", "cost"})``; a callback that takes
    only ``(done, total)`` (as local models report) gets just those."""
    import inspect

    try:
        inspect.signature(progress).bind(0, 0, {})
        spent = True
    except (TypeError, ValueError):
        spent = False
    return lambda done, total, totals: (
        progress(done // n, rows, totals) if spent else progress(done // n, rows)
    )


def _per_row(
    replies: Sequence[Reply | None], n: int, prices: tuple[float, ...] | None
) -> tuple[list[Any], list[dict[str, Any] | None]]:
    """Replies (n per row) as one output per row (a list of n texts when n > 1) and its
    accounting (tokens and cost summed over the samples); None where a sample is missing."""
    outputs: list[Any] = []
    accounts: list[dict[str, Any] | None] = []
    for first in range(0, len(replies), n):
        group = list(replies[first : first + n])
        if any(r is None for r in group):
            outputs.append(None)
            accounts.append(None)
            continue
        rows = [usage(r, prices) for r in group if r is not None]
        account = dict(rows[0])
        for key in ("tokens_in", "tokens_out", "cost", "seconds"):
            values = [r[key] for r in rows]
            account[key] = None if any(v is None for v in values) else sum(values)
        account["retries"] = sum(r["retries"] for r in rows)
        outputs.append([r.text for r in group if r is not None] if n > 1 else group[0].text)  # type: ignore[union-attr]
        accounts.append(account)
    return outputs, accounts


def reprice(handle: ModelHandle, account: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row's accounting with its cost worked out at the current price (a cached row's too)."""
    if account is None:
        return None
    reply = Reply(
        text="",
        finish="",
        tokens_in=account.get("tokens_in"),
        tokens_out=account.get("tokens_out"),
        cached_tokens=account.get("cached_tokens"),
    )
    return dict(account, cost=cost(price(remote(handle)), reply))
