"""How a loaded model looks: the card of a ``ModelHandle`` or ``RemoteHandle`` (``handle.card()``)."""

from __future__ import annotations

import html
from typing import Any

from .style import MUTED, TEXT


def model_card(handle: Any) -> dict[str, str]:
    """A compact card: a title line, then the facts two pairs to a row; every value escaped.

    An API-served model's title names its provider where a local one names its architecture."""
    c = handle.card()
    esc = lambda v: html.escape(str(v))  # noqa: E731
    kind = c.get("architecture") or c.get("provider")
    title = f"<b>{esc(c['name'])}</b> · {esc(c['id'])} · {esc(c['family'])} ({esc(kind)})"
    facts = [(k, v) for k, v in c.items() if k not in ("name", "id", "family", "architecture", "provider")]
    cells = [
        f"<th style='text-align:left;padding-right:6px;color:{MUTED}'>{esc(k)}</th>"
        f"<td style='text-align:left;padding-right:18px;color:{TEXT}'>{esc(v)}</td>"
        for k, v in facts
    ]
    rows = "".join(f"<tr>{''.join(cells[i : i + 2])}</tr>" for i in range(0, len(cells), 2))
    return {
        "text/plain": repr(handle),
        "text/html": f"<div class='fm-card' style='color:{TEXT}'>{title}"
        f"<table style='font-size:12px'>{rows}</table></div>",
    }
