"""How an ``AttentionResult`` looks on its own: its tokens, and how to view the weights."""

from __future__ import annotations

import html
from typing import Any

from .style import MUTED, note


def attention_bundle(result: Any) -> dict[str, str]:
    grey = f" style='color:{MUTED}'"
    tokens = " ".join(
        f"<code{grey if sp else ''}>{html.escape(tok)}</code>"
        for tok, sp in zip(result.tokens, result.special)
    )
    return {
        "text/plain": f"<AttentionResult: {result.summary()}>",
        "text/html": (
            f"<div class='fm-attention'><b>{html.escape(result.summary())}</b><div>{tokens}</div>"
            + note("show it with fm.AttentionView(result) or %fm attention")
            + "</div>"
        ),
    }
