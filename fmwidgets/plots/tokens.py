"""Pictures of tokens: per-token probability of a text, and masked-LM predictions as bars.

Pure functions, data in -> ``go.Figure`` out.  Token text comes from models and users, so it
goes through ``plotly_text`` into Plotly ``text`` / ``customdata`` fields and tick labels.
"""

from __future__ import annotations

import math
from typing import Sequence

import plotly.graph_objects as go

from .figure import RecordedFigure, with_record
from .text import plotly_text

_WRAP = 12  # tokens per row of the probability picture


def token_probs_figure(
    tokens: Sequence[str],
    probs: Sequence[float],
    alternatives: Sequence[Sequence[tuple[str, float]]],
    generated: Sequence[bool] | None = None,
    per_row: int = _WRAP,
) -> go.Figure:
    """Tokens laid out as wrapped text, each cell coloured by its probability (0 red .. 1 green);
    hovering a token shows its probability and the model's top alternatives at that place."""
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


def fill_mask_figure(df) -> go.Figure:
    """Horizontal bars of the predictions for each mask (columns mask, token, probability)."""
    masks = sorted(df["mask"].unique())
    prefix = (lambda m: f"[{m}] ") if len(masks) > 1 else (lambda m: "")
    fig = go.Figure()
    for m in masks:
        part = df[df["mask"] == m].sort_values("probability")
        fig.add_trace(
            go.Bar(
                x=part["probability"],
                y=[f"{prefix(m)}{plotly_text(t)} " for t in part["token"]],
                orientation="h",
                name=f"mask {m}",
                text=[f"{p:.3f}" for p in part["probability"]],
                textposition="auto",
                customdata=[plotly_text(s) for s in part["sequence"]],
                hovertemplate="%{y}: %{x:.3f}<br>%{customdata}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Masked-LM predictions",
        xaxis=dict(title="probability", range=[0, 1]),
        height=120 + 28 * len(df),
        showlegend=len(masks) > 1,
        margin=dict(l=10, r=10, t=40, b=40),
    )
    return fig


def plot_token_probs(result) -> RecordedFigure:
    """``fm.plot_token_probs(result)``: the picture of a ``TokenProbs``, carrying its record."""
    return with_record(
        token_probs_figure(result.tokens, result.probs, result.alternatives, result.generated), result.record
    )


def plot_fill_mask(result) -> RecordedFigure:
    """``fm.plot_fill_mask(result)``: bars of a ``fill_mask`` result, carrying its record."""
    import pandas as pd

    return with_record(fill_mask_figure(pd.DataFrame(result)), result.record)
