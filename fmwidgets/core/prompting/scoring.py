"""Log-probabilities of tokens under a decoder: the arithmetic ``generate`` and ``token_probs`` share.

It lives apart from both so that neither imports the other for it (generate scores what it
produced; token_probs scores any text or a Generation).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..models.registry import ModelHandle


def position_logprobs(handle: ModelHandle, ids: Sequence[int]):
    """(len(ids) - 1, vocab) log-probabilities of the token after each position."""
    import torch

    model = handle.model
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([list(ids)], device=model.device)).logits[0, :-1]
    return torch.log_softmax(logits.float(), dim=-1)


def chosen_logprobs(logprobs: Any, ids: Sequence[int]) -> list[float]:
    """The log-probability of ``ids[i]`` in row i of ``logprobs`` (len(ids), vocab), for each i."""
    import torch

    return logprobs.gather(1, torch.tensor(list(ids), device=logprobs.device).view(-1, 1)).view(-1).tolist()


def sequence_logprobs(handle: ModelHandle, prompt_ids: Sequence[int], ids: Sequence[int]) -> list[float]:
    """Log-probability of each of ``ids`` following ``prompt_ids`` and the ids before it."""
    if not ids:
        return []
    return chosen_logprobs(
        position_logprobs(handle, list(prompt_ids) + list(ids))[len(prompt_ids) - 1 :], ids
    )
