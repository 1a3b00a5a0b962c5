"""How a ``Comparison`` looks: prompts down, models across, each cell's text with its speed (and
an API-served model's cost)."""

from __future__ import annotations

import html
from typing import Any

from .generate import money
from .style import cell_style, note, pre


def spent(usage: dict[str, Any] | None) -> str:
    """' · $0.000012' after an API-served model's cell; nothing after a local one."""
    return f" · {money(usage)}" if usage else ""


def comparison_bundle(result: Any) -> dict[str, str]:
    cell = cell_style()
    head = "".join(f'<th style="{cell}">{html.escape(m)}</th>' for m in result.models)
    rows = []
    for prompt, row in zip(result.prompts, result.generations):
        cells = "".join(
            f'<td style="{cell}">{pre(g.text, margin="0")}'
            f"{note(f'{g.steps} tokens · {g.seconds:.2f} s · {g.tokens_per_s:.1f} tok/s{spent(g.usage)}')}</td>"
            for g in row
        )
        rows.append(f'<tr><th style="{cell};max-width:16em">{html.escape(prompt)}</th>{cells}</tr>')
    grid = (
        f'<table class="fm-compare" style="border-collapse:collapse">'
        f'<tr><th style="{cell}">prompt</th>{head}</tr>{"".join(rows)}</table>'
    )
    plain = "\n".join(
        f"[{m}] {p!r} -> {g.text!r} ({g.steps} tokens, {g.seconds:.2f} s, {g.tokens_per_s:.1f} tok/s)"
        for p, row in zip(result.prompts, result.generations)
        for m, g in zip(result.models, row)
    )
    return {"text/plain": plain, "text/html": grid}
