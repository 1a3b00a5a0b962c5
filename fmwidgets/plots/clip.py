"""Pictures of a CLIP result: the image x text similarity heatmap with thumbnails, and the joint map.

Images are shown as small PNG thumbnails placed on the figure (layout images), so a reader sees
which picture each row is; every label goes through ``plotly_text``, since Plotly renders tick
labels and hover text as a markup subset.  The joint map puts images and texts in one 2-D projection of
the shared embedding space, which is what makes CLIP-style models useful for search.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..core.embedding.clip import ClipResult
from ..core.embedding.project import project
from ..render.images import thumbnail_uri
from ..render.text import plotly_texts
from .figure import RecordedFigure, with_record

MAX_THUMBNAILS = 60  # more images than this: the joint map shows markers only


def plot_clip_similarity(result: ClipResult, value: str = "probs") -> RecordedFigure:
    """Heatmap of zero-shot probabilities (``value="probs"``) or cosine similarities (``"cosine"``)."""
    z = result.probs if value == "probs" else result.similarity
    n = len(result.names)
    texts = plotly_texts(result.texts)
    names = plotly_texts(result.names)
    rows = list(range(n))
    fig = go.Figure(
        go.Heatmap(
            z=z.astype(np.float32),
            x=texts,
            y=rows,
            colorscale="Blues",
            zmin=0 if value == "probs" else None,
            zmax=1 if value == "probs" else None,
            customdata=np.repeat(np.asarray(names, dtype=object)[:, None], len(texts), axis=1),
            hovertemplate="%{customdata} · %{x}: %{z:.3f}<extra></extra>",
            colorbar={"title": "probability" if value == "probs" else "cosine"},
        )
    )
    fig.update_yaxes(tickmode="array", tickvals=rows, ticktext=names, autorange="reversed")
    fig.update_layout(
        title="CLIP zero-shot probabilities" if value == "probs" else "CLIP cosine similarity",
        template="plotly_white",
        margin={"l": 160},
        height=max(260, 60 * n + 120),
        images=[
            dict(
                source=thumbnail_uri(img, 64),
                xref="paper",
                yref="y",
                x=-0.01,
                y=i,
                sizex=0.9,
                sizey=0.9,
                xanchor="right",
                yanchor="middle",
                layer="above",
            )
            for i, img in enumerate(result.images[:MAX_THUMBNAILS])
        ],
    )
    if n <= MAX_THUMBNAILS:
        fig.update_yaxes(ticklabelstandoff=70)
    return with_record(fig, result.record)


def plot_clip_map(result: ClipResult, method: str = "pca", seed: int = 0) -> RecordedFigure:
    """Images and texts in one 2-D map of the shared embedding space (thumbnails at image points)."""
    vectors = np.vstack([result.image_vectors, result.text_vectors])
    points = project(vectors, method=method, dims=2, seed=seed)
    n = len(result.names)
    img_pts, txt_pts = points[:n], points[n:]
    names = plotly_texts(result.names)
    texts = plotly_texts(result.texts)
    fig = go.Figure(
        [
            go.Scatter(
                x=img_pts[:, 0],
                y=img_pts[:, 1],
                mode="markers",
                name="images",
                text=names,
                marker={"size": 10, "symbol": "square"},
                hovertemplate="%{text}<extra>image</extra>",
            ),
            go.Scatter(
                x=txt_pts[:, 0],
                y=txt_pts[:, 1],
                mode="markers+text",
                name="texts",
                text=texts,
                textposition="top center",
                marker={"size": 10, "symbol": "diamond"},
                hovertemplate="%{text}<extra>text</extra>",
            ),
        ]
    )
    span = float(np.ptp(points, axis=0).max()) or 1.0
    if n <= MAX_THUMBNAILS:
        fig.update_layout(
            images=[
                dict(
                    source=thumbnail_uri(img, 64),
                    xref="x",
                    yref="y",
                    x=float(x),
                    y=float(y),
                    sizex=span * 0.08,
                    sizey=span * 0.08,
                    xanchor="center",
                    yanchor="middle",
                    layer="above",
                )
                for img, (x, y) in zip(result.images, img_pts)
            ]
        )
    fig.update_layout(title=f"Images and texts in one map ({method.upper()})", template="plotly_white")
    return with_record(fig, result.record)
