"""Log-probabilities from an API-served model: what ``fm.token_probs``, the judge and ``fm.label``
read when the model is behind a server.

A chat API scores only what it generates: with ``logprobs=True, top_logprobs=K`` each reply
token comes back with its log-probability and the K most likely tokens at its place, as token
*strings* (the server's tokenizer is not in this kernel).  So a feature asks for a short greedy
reply and reads its tokens, or only the first one (the judge's score, a label's first token).
Servers that do not return them answer ``logprobs: null`` without an error (``transformers
serve``): ``returns_logprobs`` asks once with a one-token request, before any row is sent, and
the handle remembers the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ...prompting.sampling import Sampling
from .backend import Reply
from .generation import check_logprobs, concurrent_replies, messages_for, request_for
from .handle import RemoteHandle

TOP = 20  # alternatives per token asked for: OpenAI's most (vLLM and llama.cpp take as many)


def greedy(handle: RemoteHandle, max_new_tokens: int) -> Sampling:
    return Sampling(max_new_tokens=max_new_tokens, greedy=True).resolve(handle)


def returns_logprobs(handle: RemoteHandle) -> bool:
    """Whether the server returns log-probabilities; asked once (one token) when not yet known."""
    if handle.logprobs is None and handle.can("token_logprobs"):
        request = request_for(handle, messages_for("Hi", None, None), greedy(handle, 1), None, logprobs=1)
        handle.logprobs = handle.backend.complete(request).logprobs is not None
    return handle.can("token_logprobs")


def scored_reply(
    handle: RemoteHandle, messages: list[dict[str, str]], max_new_tokens: int, top: int
) -> Reply:
    """One greedy reply with its tokens' log-probabilities and ``top`` alternatives each; one
    sentence (and the handle remembers) when the server sent none."""
    request = request_for(handle, messages, greedy(handle, max_new_tokens), None, logprobs=top)
    reply = handle.backend.complete(request)
    check_logprobs(handle, reply, request)
    return reply


def token_table(reply: Reply, top_k: int) -> tuple[list[str], list[float], list[list[tuple[str, float]]]]:
    """(tokens, probabilities, top-k alternatives each) of a scored reply, for ``TokenProbs``."""
    tokens, probs, alternatives = [], [], []
    for token, logprob, others in reply.logprobs or ():
        tokens.append(token)
        probs.append(math.exp(logprob))
        ranked = sorted(others.items(), key=lambda item: -item[1])[:top_k]
        alternatives.append([(t, math.exp(lp)) for t, lp in ranked])
    return tokens, probs, alternatives


def first_tokens(
    handle: RemoteHandle,
    prompts: Sequence[list[dict[str, str]]],
    max_new_tokens: int = 1,
    top: int | None = TOP,
) -> list[Reply | None]:
    """Greedy replies to ``prompts`` (chat messages), concurrently and in order (None where an
    interrupt left a row), each token with ``top`` alternatives (None: no log-probabilities
    asked for); one sentence when they were asked for and the server sent none."""
    sampling = greedy(handle, max_new_tokens)
    requests = [request_for(handle, m, sampling, None, logprobs=top) for m in prompts]
    replies = concurrent_replies(handle, requests)
    for reply, request in zip(replies, requests):
        if reply is not None:
            check_logprobs(handle, reply, request)
    return replies


def first_token_probs(reply: Reply) -> dict[str, float]:
    """{token: probability} at the reply's first token: its top alternatives and itself."""
    if not reply.logprobs:
        return {}
    token, logprob, alternatives = reply.logprobs[0]
    return {t: math.exp(lp) for t, lp in {token: logprob, **alternatives}.items()}


def probs_over(
    top: dict[str, float], choices: Sequence[str], matches: Callable[[str, str], bool]
) -> list[float]:
    """Per choice, the probability of the tokens that ``matches(token, choice)``, summed (" 3"
    and "3" are both the score 3); a token that matches several choices is shared evenly."""
    out = [0.0] * len(choices)
    for token, p in top.items():
        hit = [j for j, choice in enumerate(choices) if matches(token, choice)]
        for j in hit:
            out[j] += p / len(hit)
    return out


def same_token(token: str, choice: str) -> bool:
    """A score token: the choice itself, whatever space or newline the tokenizer put around it."""
    return token.strip() == choice


def label_start(token: str, label: str) -> bool:
    """A first token that begins the label (case and spaces aside): "pos" or " Positive" for
    "positive"."""
    word = token.strip().casefold()
    return bool(word) and label.casefold().startswith(word)


def choice_probs(
    handle: RemoteHandle, prompts: Sequence[list[dict[str, str]]], choices: Sequence[str]
) -> list[list[float] | None]:
    """Per prompt, each choice's probability as the first reply token (the tokens among the top
    alternatives that spell it; probability outside them counts for no choice), None where an
    interrupt left the row: what the judge reads on an API-served model."""
    return [
        None if reply is None else probs_over(first_token_probs(reply), choices, same_token)
        for reply in first_tokens(handle, prompts)
    ]
