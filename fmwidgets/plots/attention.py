"""Pictures of what happens inside a model: attention heatmaps, the grid of all heads, the logit lens.

Pure functions, result in -> ``RecordedFigure`` out.  Positions are numeric axes labelled with
the tokens (repeated tokens such as two "the" stay two rows), and every token goes through
``plotly_text``, because Plotly renders tick labels and hover text as a markup subset.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.inside.attention import AttentionResult
from ..core.inside.lens import LensResult
from ..render.text import plotly_text, plotly_texts
from .figure import RecordedFigure, with_record

_BLUES = "Blues"
_MAX_TICKS = 64  # beyond this, label every k-th position so the axis stays readable
_MAX_HOVER_LABELS = 160  # beyond this, hover shows positions and not a label per cell


def _axis(labels: Sequence[str], **extra) -> dict:
    """A numeric axis with token tick labels (every k-th when there are many)."""
    step = max(1, math.ceil(len(labels) / _MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    return dict(tickmode="array", tickvals=ticks, ticktext=[labels[i] for i in ticks], **extra)


def plot_attention(result: AttentionResult, layer: int = 0, head: int | None = None) -> RecordedFigure:
    """Heatmap of one layer and head (None: the mean over heads); rows attend to columns."""
    z = result.matrix(layer, head)
    labels = plotly_texts(result.tokens)
    n = len(labels)
    which = "mean of heads" if head is None else f"head {head}"
    trace = dict(
        z=z,
        x=np.arange(n),
        y=np.arange(n),
        colorscale=_BLUES,
        zmin=0,
        zmax=float(z.max() or 1),
        colorbar=dict(title="weight", thickness=10),
    )
    if n <= _MAX_HOVER_LABELS:
        hover = np.empty((n, n, 2), dtype=object)
        hover[..., 0] = np.array(labels, dtype=object)[:, None]
        hover[..., 1] = np.array(labels, dtype=object)[None, :]
        trace.update(
            customdata=hover, hovertemplate="%{customdata[0]} → %{customdata[1]}: %{z:.3f}<extra></extra>"
        )
    else:
        trace.update(hovertemplate="query %{y} → key %{x}: %{z:.3f}<extra></extra>")
    fig = go.Figure(go.Heatmap(**trace))
    side = max(320, min(820, 140 + 14 * n))
    fig.update_layout(
        title=f"Attention, layer {layer}, {which}",
        width=side + 80,
        height=side,
        xaxis=_axis(labels, title="key (attended to)", tickangle=-60),
        yaxis=_axis(labels, title="query (attending)", autorange="reversed"),
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return with_record(fig, result.record)


def plot_attention_grid(result: AttentionResult, size: int = 32) -> RecordedFigure:
    """Model view: every layer (rows) x head (columns) as a small max-pooled heatmap."""
    thumbs = result.thumbnails(size).astype(np.float32) / 255
    n_layers, n_heads = thumbs.shape[:2]
    fig = make_subplots(
        rows=n_layers,
        cols=n_heads,
        horizontal_spacing=0.01,
        vertical_spacing=0.01,
        row_titles=[f"layer {l}" for l in range(n_layers)],
        column_titles=[f"head {h}" for h in range(n_heads)],
    )
    for l in range(n_layers):
        for h in range(n_heads):
            fig.add_trace(
                go.Heatmap(
                    z=thumbs[l, h],
                    colorscale=_BLUES,
                    zmin=0,
                    zmax=1,
                    showscale=False,
                    hovertemplate=f"layer {l}, head {h}<extra></extra>",
                ),
                row=l + 1,
                col=h + 1,
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    cell = 64 if n_heads <= 12 else 40
    fig.update_layout(
        title="Attention of every layer and head",
        width=80 + cell * n_heads,
        height=80 + cell * n_layers,
        margin=dict(l=10, r=40, t=60, b=10),
    )
    return with_record(fig, result.record)


def plot_logit_lens(lens: LensResult) -> RecordedFigure:
    """Layers (rows) x positions (columns): the top next-token guess, coloured by its probability."""
    top = lens.probs[..., 0]
    guesses = [[plotly_text(g[0]) for g in row] for row in lens.guesses]
    hover = [
        [
            "<br>".join(
                f"{plotly_text(t)}  {p:.3f}" for t, p in zip(lens.guesses[li][pos], lens.probs[li, pos])
            )
            for pos in range(len(lens.tokens))
        ]
        for li in range(len(lens.layers))
    ]
    labels = plotly_texts(lens.tokens)
    n = len(labels)
    fig = go.Figure(
        go.Heatmap(
            z=top,
            x=np.arange(n),
            y=lens.layers,
            text=guesses,
            texttemplate="%{text}" if n <= 40 else None,
            customdata=hover,
            hovertemplate="after %{y}, position %{x}:<br>%{customdata}<extra></extra>",
            colorscale="Viridis",
            zmin=0,
            zmax=1,
            colorbar=dict(title="p", thickness=10),
        )
    )
    fig.update_layout(
        title="Logit lens: the next-token guess after each layer (hover for the top guesses)",
        xaxis=_axis(labels, title="input token", tickangle=-45),
        yaxis=dict(title=""),
        height=140 + 34 * len(lens.layers),
        width=max(480, min(1400, 140 + 60 * n)),
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return with_record(fig, lens.record)
