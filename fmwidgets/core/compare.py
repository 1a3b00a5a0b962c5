"""The same prompt across several models, or several prompts across one model, side by side.

``compare`` runs ``generate`` for every (prompt, model) pair with the same settings and keeps
each ``Generation``; the display is a grid (prompts down, models across) of escaped text with
the time and speed of each cell, so differences in quality and speed show at a glance.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import BadArgumentError
from ..records import Recorded, RunRecord, recorded
from . import template
from .generate import Generation, check_prompt, generate
from .registry import ModelHandle, get_model


@dataclass(eq=False)
class Comparison(Recorded):
    """Generations for every prompt x model pair, as ``table`` and as a side-by-side grid."""

    prompts: list[str]
    models: list[str]
    generations: list[list[Generation]]  # [prompt][model]
    record: RunRecord

    @property
    def table(self):
        import pandas as pd

        return pd.DataFrame([
            {"prompt": p, "model": m, "text": g.text, "tokens": g.steps,
             "seconds": round(g.seconds, 3), "tokens_per_s": round(g.tokens_per_s, 1)}
            for p, row in zip(self.prompts, self.generations) for m, g in zip(self.models, row)
        ])

    def _display_data(self) -> dict[str, Any]:
        cell = "border:1px solid #ddd;padding:6px;vertical-align:top;text-align:left"
        head = "".join(f'<th style="{cell}">{html.escape(m)}</th>' for m in self.models)
        rows = []
        for prompt, row in zip(self.prompts, self.generations):
            cells = "".join(
                f'<td style="{cell}"><pre style="white-space:pre-wrap;margin:0">{html.escape(g.text)}</pre>'
                f'<div style="font-size:11px;color:#777">{g.steps} tokens · {g.seconds:.2f} s · '
                f'{g.tokens_per_s:.1f} tok/s</div></td>'
                for g in row
            )
            rows.append(f'<tr><th style="{cell};max-width:16em">{html.escape(prompt)}</th>{cells}</tr>')
        grid = (f'<table class="fm-compare" style="border-collapse:collapse">'
                f'<tr><th style="{cell}">prompt</th>{head}</tr>{"".join(rows)}</table>')
        plain = "\n".join(
            f"[{m}] {p!r} -> {g.text!r} ({g.steps} tokens, {g.seconds:.2f} s, {g.tokens_per_s:.1f} tok/s)"
            for p, row in zip(self.prompts, self.generations) for m, g in zip(self.models, row)
        )
        return {"text/plain": plain, "text/html": grid}


@recorded
def compare(prompt: str | Sequence[str], models: Sequence[str | ModelHandle] | None = None, *,
            model: str | ModelHandle | None = None, **params: Any) -> Comparison:
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
        raise BadArgumentError("A comparison needs two models or two prompt variants; name a second "
                               "model (models=[...]) or pass a list of prompts.")
    grid = [[generate(p, model=h, **params) for h in handles] for p in prompts]
    record = RunRecord(kind="compare", model=", ".join(h.model_id for h in handles),
                       model_name=", ".join(h.name for h in handles),
                       params={**params, "prompts": prompts})
    return Comparison(prompts=prompts, models=[h.name for h in handles], generations=grid, record=record)
