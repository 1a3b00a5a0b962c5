"""What generation gave for one prompt (``BatchRow``), whether a local decoder or a server made it.

``run_batch`` (core/prompting/generate.py) returns one per prompt for a model in this kernel, and
core/models/remote/generation.py one per prompt for an API-served model, with its accounting;
``Generation`` adds the prompt as sent, readable tokens and the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchRow:
    """What ``run_batch`` generated for one prompt: every sample's text, and the first sample's
    token ids, log-probabilities and timings."""

    texts: list[str]
    token_ids: list[int]
    prompt_ids: list[int]
    logprobs: list[float]
    seconds: float
    first_token_seconds: float | None
    steps: int
    stopped: str  # "eos" | "length" | "stop" | "stopped" | "interrupted"
    # an API-served model's accounting: tokens_in/out, cached_tokens, seconds, cost, model, ...
    usage: dict[str, Any] | None = field(default=None, kw_only=True)
