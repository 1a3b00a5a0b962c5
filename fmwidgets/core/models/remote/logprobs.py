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

from ...prompting.sampling import Sampling
from .backend import Reply
from .generation import check_logprobs, request_for
from .handle import RemoteHandle


def greedy(handle: RemoteHandle, max_new_tokens: int) -> Sampling:
    return Sampling(max_new_tokens=max_new_tokens, greedy=True).resolve(handle)


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
