"""Where an image model looked: [CLS]-to-patch attention laid over the image.

``plot_image_attention`` takes an image ``AttentionResult`` (``fm.attention(image, model=VIT)``)
and draws the image with one translucent heatmap cell per patch: the attention of [CLS] to that
patch in one layer (one head, or the mean of heads), or with ``rollout=True`` the attention
rollout of Abnar & Zuidema (2020): each layer's head-mean plus the identity (the residual
stream), rows renormalised, multiplied from the first layer up to ``layer``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..core.inside.attention import AttentionResult
from ..errors import BadArgumentError
from .figure import RecordedFigure, with_record


def cls_attention(
    result: AttentionResult, layer: int, head: int | None = None, rollout: bool = False
) -> np.ndarray:
    """[rows, cols] attention of the first token to each patch."""
    if result.grid is None:
        raise BadArgumentError("This attention is of a text, not an image; use fm.plot_attention for it.")
    result.check(layer, head)
    if rollout:
        n = len(result.tokens)
        joint = np.eye(n)
        for block in result.layers[: layer + 1]:
            a = (block.mean(0) if head is None else block[head]) + np.eye(n)
            joint = (a / a.sum(-1, keepdims=True)) @ joint
        row = joint[0]
    else:
        row = result.matrix(layer, head)[0]
    rows, cols = result.grid
    return row[len(row) - rows * cols :].reshape(rows, cols)


def plot_image_attention(
    result: AttentionResult,
    layer: int = -1,
    head: int | None = None,
    rollout: bool = False,
    opacity: float = 0.55,
) -> RecordedFigure:
    """The image with its [CLS]-to-patch attention (one layer, or rollout up to it) as an overlay."""
    layer = layer % result.n_layers if result.grid is not None and layer < 0 else layer
    grid = cls_attention(result, layer, head, rollout)
    picture = np.asarray(result.image)
    size = picture.shape[0]
    rows, cols = grid.shape
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_trace(
        go.Heatmap(
            z=grid,
            x=(np.arange(cols) + 0.5) * size / cols,
            y=(np.arange(rows) + 0.5) * size / rows,
            colorscale="Inferno",
            opacity=opacity,
            colorbar=dict(title="attention", thickness=10),
            hovertemplate="patch %{y:.0f},%{x:.0f}: %{z:.3f}<extra></extra>",
        )
    )
    which = "rollout" if rollout else ("mean of heads" if head is None else f"head {head}")
    fig.update_layout(
        title=f"[CLS] attention to patches, layer {layer}, {which}",
        width=460,
        height=460,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    return with_record(fig, result.record)
