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


def next_token_probs(
    handle: ModelHandle, prompts: Sequence[Sequence[int]], ids: Sequence[int]
) -> list[list[float]]:
    """For each prompt (token ids), the probability of each of ``ids`` as the token that follows it.

    One forward pass for the whole batch, right-padded (so every row keeps its own positions) and
    read at each row's last real token; where the model takes ``logits_to_keep``, only those
    positions are projected onto the vocabulary.
    """
    import inspect

    import torch

    model = handle.model
    lengths = [len(p) for p in prompts]
    input_ids = torch.zeros((len(prompts), max(lengths)), dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, p in enumerate(prompts):
        input_ids[row, : len(p)] = torch.tensor(list(p), dtype=torch.long)
        mask[row, : len(p)] = 1
    last = torch.tensor(lengths) - 1
    kwargs: dict[str, Any] = {}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kept = torch.unique(last)  # sorted: each row's position is found in it
        kwargs["logits_to_keep"] = kept.to(model.device)
        last = torch.searchsorted(kept, last)
    with torch.inference_mode():
        logits = model(
            input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device), **kwargs
        ).logits
    rows = logits[torch.arange(len(prompts), device=logits.device), last.to(logits.device)]
    return torch.softmax(rows.float(), dim=-1)[:, list(ids)].tolist()
