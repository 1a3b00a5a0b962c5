"""The same prompt across several models, or several prompts across one model, side by side.

``compare`` runs ``generate`` for every (prompt, model) pair with the same settings and keeps
each ``Generation``; the display (render/compare.py) is a grid (prompts down, models across) of escaped text with
the time and speed of each cell, so differences in quality and speed show at a glance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from ...errors import BadArgumentError
from ...provenance.history import recorded
from ...records import RunRecord, served_endpoint
from ...render import Recorded
from ...render.compare import comparison_bundle
from ..models.registry import ModelHandle, get_model
from . import template
from .generate import Generation, check_prompt, generate_text


@dataclass(eq=False)
class Comparison(Recorded, look=comparison_bundle):
    """Generations for every prompt x model pair, as ``table`` and as a side-by-side grid."""

    prompts: list[str]
    models: list[str]
    generations: list[list[Generation]]  # [prompt][model]
    record: RunRecord

    @property
    def table(self):
        """One row per cell; with an API-served model among them, also ``tokens_in``,
        ``tokens_out`` and ``cost`` (NaN for the local models and where no price is set)."""
        import pandas as pd

        served = any(g.usage for row in self.generations for g in row)
        return pd.DataFrame(
            [
                {
                    "prompt": p,
                    "model": m,
                    "text": g.text,
                    "tokens": g.steps,
                    "seconds": round(g.seconds, 3),
                    "tokens_per_s": round(g.tokens_per_s, 1),
                    **(_spent(g.usage) if served else {}),
                }
                for p, row in zip(self.prompts, self.generations)
                for m, g in zip(self.models, row)
            ]
        )


def _spent(usage: dict[str, Any] | None) -> dict[str, float]:
    """A cell's tokens and cost, NaN where unknown (a local model, or no price set)."""
    usage = usage or {}
    return {k: math.nan if usage.get(k) is None else usage[k] for k in ("tokens_in", "tokens_out", "cost")}


@recorded
def compare(
    prompt: str | Sequence[str],
    models: Sequence[str | ModelHandle] | None = None,
    *,
    model: str | ModelHandle | None = None,
    **params: Any,
) -> Comparison:
    """Generate for each prompt (a string, or a list of variants) with each model.

    ``models`` defaults to ``[model]`` (the current model when that is None as well), local and
    API-served ones alike; every other keyword goes to ``generate`` unchanged, so all cells share
    the same settings.
    """
    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    variables = params.pop("variables", None)
    if variables is not None:
        prompts = [template.fill(check_prompt(p), variables) for p in prompts]
    if not prompts:
        raise BadArgumentError("compare() got no prompt; pass a prompt or a list of prompt variants.")
    handles = [get_model(m, "generate") for m in (models if models else [model])]
    if len(prompts) == 1 and len(handles) == 1:
        raise BadArgumentError(
            "A comparison needs two models or two prompt variants; name a second "
            "model (models=[...]) or pass a list of prompts."
        )
    grid = [[generate_text(p, model=h, **params) for h in handles] for p in prompts]
    served = {h.name: served_endpoint(h, [row[i].usage for row in grid]) for i, h in enumerate(handles)}
    record = RunRecord(
        kind="compare",
        model=", ".join(h.model_id for h in handles),
        model_name=", ".join(h.name for h in handles),
        params={**params, "prompts": prompts},
        endpoint={name: where for name, where in served.items() if where} or None,
    )
    return Comparison(prompts=prompts, models=[h.name for h in handles], generations=grid, record=record)
