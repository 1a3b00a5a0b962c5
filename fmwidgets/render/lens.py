"""How the logit lens looks as a table: the top guess per layer (rows) and position (columns)."""

from __future__ import annotations

import html
from typing import Any


def lens_bundle(result: Any) -> dict[str, str]:
    head = "".join(f"<th>{html.escape(tok)}</th>" for tok in result.tokens)
    body = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(
            f"<td title='{result.probs[li, t, 0]:.3f}'>{html.escape(result.guesses[li][t][0])}</td>"
            for t in range(len(result.tokens))
        )
        + "</tr>"
        for li, name in enumerate(result.layers)
    )
    return {
        "text/plain": f"<LensResult: {len(result.layers)} layers x {len(result.tokens)} positions>",
        "text/html": f"<table class='fm-lens'><tr><th></th>{head}</tr>{body}</table>",
    }
