"""Pictures of tokens: per-token probability of a text, and masked-LM predictions as bars.

Pure functions, data in -> ``go.Figure`` out.  The token-probability picture is a
``TokenProbs``'s own look, so it is built in ``render/token_probs.py``; here it gets its record.  Token text comes from models and users, so it
goes through ``plotly_text`` into Plotly ``text`` / ``customdata`` fields and tick labels.
"""

from __future__ import annotations

import plotly.graph_objects as go

from ..render.text import plotly_text
from ..render.token_probs import token_probs_figure
from .figure import RecordedFigure, with_record


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
