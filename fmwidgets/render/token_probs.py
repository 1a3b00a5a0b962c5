"""How token probabilities look: each token coloured by its probability, alternatives on hover.

The picture is a Plotly figure (``fm.plot_token_probs`` is it with the record); plotly is
imported only when one is drawn, so core/ can name this look without importing it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..display import figure_bundle
from .text import plotly_text

_WRAP = 12  # tokens per row of the probability picture


def token_probs_bundle(result: Any) -> dict[str, Any]:
    fig = token_probs_figure(result.tokens, result.probs, result.alternatives, result.generated)
    data = dict(figure_bundle(fig))
    data["text/plain"] = " ".join(f"{t}({p:.2f})" for t, p in zip(result.tokens, result.probs))
    return data


def token_probs_figure(
    tokens: Sequence[str],
    probs: Sequence[float],
    alternatives: Sequence[Sequence[tuple[str, float]]],
    generated: Sequence[bool] | None = None,
    per_row: int = _WRAP,
) -> Any:
    """Tokens laid out as wrapped text, each cell coloured by its probability (0 red .. 1 green);
    hovering a token shows its probability and the model's top alternatives at that place."""
    import plotly.graph_objects as go

    generated = list(generated) if generated is not None else [True] * len(tokens)
    n_rows = max(1, math.ceil(len(tokens) / per_row))
    z: list[list[float | None]] = [[None] * per_row for _ in range(n_rows)]
    text = [[""] * per_row for _ in range(n_rows)]
    hover = [[""] * per_row for _ in range(n_rows)]
    for i, (tok, p, alts) in enumerate(zip(tokens, probs, alternatives)):
        r, c = divmod(i, per_row)
        z[r][c] = None if p is None or math.isnan(p) else p
        label = plotly_text(tok)  # a "<b>" from the model stays the text "<b>"
        text[r][c] = label if generated[i] else f"<i>{label}</i>"
        shown = "n/a (no left context)" if z[r][c] is None else f"{p:.3f}"
        lines = [f"<b>{label}</b>  p = {shown}", "prompt" if not generated[i] else "", "top guesses:"]
        lines += [f"{plotly_text(t)}  {q:.3f}" for t, q in alts]
        hover[r][c] = "<br>".join(x for x in lines if x)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            xgap=2,
            ygap=2,
            colorbar=dict(title="p", thickness=10),
        )
    )
    fig.update_layout(
        title="Token probabilities (hover for the model's alternatives; prompt tokens in italics)",
        height=80 + 36 * n_rows,
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, autorange="reversed"),
    )
    return fig
