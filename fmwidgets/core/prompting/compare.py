"""The same prompt across several models, or several prompts across one model, side by side.

``compare`` runs ``generate`` for every (prompt, model) pair with the same settings and keeps
each ``Generation``; the display (render/compare.py) is a grid (prompts down, models across) of escaped text with
the time and speed of each cell, so differences in quality and speed show at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ...errors import BadArgumentError
from ...provenance.history import recorded
from ...records import RunRecord
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
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "prompt": p,
                    "model": m,
                    "text": g.text,
                    "tokens": g.steps,
                    "seconds": round(g.seconds, 3),
                    "tokens_per_s": round(g.tokens_per_s, 1),
                }
                for p, row in zip(self.prompts, self.generations)
                for m, g in zip(self.models, row)
            ]
        )


@recorded
def compare(
    prompt: str | Sequence[str],
    models: Sequence[str | ModelHandle] | None = None,
    *,
    model: str | ModelHandle | None = None,
    **params: Any,
) -> Comparison:
    """Generate for each prompt (a string, or a list of variants) with each model.

    ``models`` defaults to ``[model]`` (the current model when that is None as well); every
    other keyword goes to ``generate`` unchanged, so all cells share the same settings.
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
    record = RunRecord(
        kind="compare",
        model=", ".join(h.model_id for h in handles),
        model_name=", ".join(h.name for h in handles),
        params={**params, "prompts": prompts},
    )
    return Comparison(prompts=prompts, models=[h.name for h in handles], generations=grid, record=record)
