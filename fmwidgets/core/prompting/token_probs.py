"""How likely a decoder finds each token of a text: ``token_probs(text)`` -> ``TokenProbs``.

One forward pass gives, at every position, the distribution over the next token; the token that
actually follows gets its probability, and the top-k alternatives show what the model expected
instead.  The first token has no left context, so a beginning-of-text token is put before it
when the tokenizer has one (GPT-2's <|endoftext|>); otherwise its probability is NaN.

On an API-served model the server scores only what it generates (a chat API has no way to score
a given text), so ``token_probs(text, model=API)`` sends the text as the user's message and
shows the tokens of the greedy reply (``max_new_tokens`` of them at most) with the server's
log-probabilities and top-k alternatives (core/models/remote/logprobs.py); a server that returns
none, and a Generation of an API model, are one sentence each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import BadArgumentError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.token_probs import token_probs_bundle
from ..arguments import number
from ..models.registry import ModelHandle, get_model
from ..tokens import readable_tokens
from .generate import Generation, check_prompt, fit_context
from .scoring import position_logprobs


@dataclass(eq=False)
class TokenProbs(Recorded, look=token_probs_bundle):
    """Per-token probabilities of a text, with the top-k alternatives at each position."""

    tokens: list[str]
    ids: Sequence[int | None]  # None: an API model's token, which the server names by its text
    probs: list[float]  # NaN where there is no left context
    alternatives: list[list[tuple[str, float]]]
    generated: list[bool]  # True for tokens a Generation produced, False for its prompt
    record: RunRecord

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "token": self.tokens,
                "id": self.ids,
                "probability": self.probs,
                "generated": self.generated,
                "alternatives": [", ".join(f"{t} {p:.3f}" for t, p in alt) for alt in self.alternatives],
            }
        )


@recorded
def token_probs(
    text: Any,
    model: str | ModelHandle | None = None,
    *,
    top_k: int = 5,
    strict: bool = False,
    max_new_tokens: int | None = None,
) -> TokenProbs:
    """Probability of each token of ``text`` (a string or a ``Generation``) under a decoder.

    For a Generation the model that produced it is used (unless ``model`` is given) and the
    exact token ids it produced are scored, so nothing is lost to re-tokenization.  On an
    API-served model the tokens scored are those of its greedy reply to ``text`` (at most
    ``max_new_tokens``, default 32), since a chat API scores only what it generates.
    """
    number("top_k", top_k, low=1, integer=True, hint="it is how many likely alternatives to show")
    if isinstance(text, Generation):
        handle = get_model(model if model is not None else text.record.model_name, "token_probs")
        if handle.backend is not None:
            raise BadArgumentError(
                f"Model '{handle.name}' is served by an API, which scores only the reply it generates "
                "and cannot score this Generation's tokens again; pass the prompt text instead: "
                "fm.token_probs(text, model=...) scores the server's reply to it."
            )
        ids, n_generated = list(text.prompt_ids) + list(text.token_ids), len(text.token_ids)
        source = "generation"
    else:
        handle = get_model(model, "token_probs")
        check_prompt(text, what="text")
        if handle.backend is not None:
            return _served_token_probs(handle, text, top_k, max_new_tokens)
        ids, source = handle.tokenizer(text)["input_ids"], "text"
        n_generated = len(ids)
    if max_new_tokens is not None:
        raise BadArgumentError(
            f"max_new_tokens= says how long a reply an API-served model scores; model '{handle.name}' "
            "scores the text itself, so leave it out."
        )
    bos = handle.tokenizer.bos_token_id
    # A Generation is scored in exactly the context the model saw; plain text gets a lead token.
    lead = [bos] if source == "text" and bos is not None and ids[0] != bos else []
    shown = fit_context(handle, ids, len(lead), strict)
    lp = position_logprobs(handle, lead + shown)
    top = lp.topk(min(top_k, lp.shape[-1]), dim=-1)
    probs: list[float] = []
    alternatives: list[list[tuple[str, float]]] = []
    for pos, token_id in enumerate(shown):
        at = pos + len(lead) - 1  # the row of lp that predicts this token
        if at < 0:
            probs.append(math.nan)
            alternatives.append([])
            continue
        probs.append(math.exp(lp[at, token_id].item()))
        alt_tokens = readable_tokens(handle.tokenizer, top.indices[at].tolist())
        alternatives.append([(t, math.exp(v)) for t, v in zip(alt_tokens, top.values[at].tolist())])
    generated = [pos >= len(shown) - n_generated for pos in range(len(shown))]
    record = RunRecord.for_model(
        "token_probs", handle, {"top_k": top_k, "source": source, "tokens": len(shown)}
    )
    return TokenProbs(
        tokens=readable_tokens(handle.tokenizer, shown),
        ids=shown,
        probs=probs,
        alternatives=alternatives,
        generated=generated,
        record=record,
    )


API_REPLY_TOKENS = 32  # how long a reply an API-served model scores when max_new_tokens is not given


def _served_token_probs(handle: ModelHandle, text: str, top_k: int, max_new_tokens: int | None) -> TokenProbs:
    """The server's greedy reply to ``text``, each token with its probability and alternatives."""
    from ..models.remote.generation import messages_for, price, remote, usage
    from ..models.remote.logprobs import scored_reply, token_table

    length = API_REPLY_TOKENS if max_new_tokens is None else max_new_tokens
    number("max_new_tokens", length, low=1, integer=True, hint="it is how many reply tokens to score")
    served = remote(handle)
    reply = scored_reply(served, messages_for(text, None, None), length, top_k)
    tokens, probs, alternatives = token_table(reply, top_k)
    record = RunRecord.for_model(
        "token_probs",
        handle,
        {"top_k": top_k, "source": "reply", "tokens": len(tokens), "max_new_tokens": length},
        usage=[usage(reply, price(served))],
    )
    return TokenProbs(
        tokens=tokens,
        ids=[None] * len(tokens),
        probs=probs,
        alternatives=alternatives,
        generated=[True] * len(tokens),
        record=record,
    )
