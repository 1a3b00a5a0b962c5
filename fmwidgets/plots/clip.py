"""Pictures of a CLIP result: the image x text similarity heatmap with thumbnails, and the joint map.

Images are shown as small PNG thumbnails placed on the figure (layout images), so a reader sees
which picture each row is; every label goes through ``plotly_text``, since Plotly renders tick
labels and hover text as a markup subset.  The joint map puts images and texts in one 2-D projection of
the shared embedding space, which is what makes CLIP-style models useful for search; its text
labels are placed so that none covers another or a point (plotly has no such placement itself).
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
# The joint map is drawn at a fixed size so that its labels can be placed in pixels: a label is
# ``LABEL_LIMIT`` characters at most, about ``CHAR_PX`` px each in its 12 px type, ``LABEL_PX`` high.
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 760, 520, 60
LABEL_LIMIT, CHAR_PX, LABEL_PX = 30, 7.5, 16


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
    span = float(np.ptp(points, axis=0).max()) or 1.0
    low, high = points.min(axis=0) - span * 0.12, points.max(axis=0) + span * 0.12
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
                mode="markers",
                name="texts",
                text=texts,
                marker={"size": 10, "symbol": "diamond"},
                hovertemplate="%{text}<extra>text</extra>",
            ),
        ]
    )
    pixels = (points - low) / (high - low) * [MAP_WIDTH - 2 * MAP_MARGIN, -(MAP_HEIGHT - 2 * MAP_MARGIN)]
    pixels += [MAP_MARGIN, MAP_HEIGHT - MAP_MARGIN]
    thumb_px = 0.08 * span / (high - low) * [MAP_WIDTH - 2 * MAP_MARGIN, MAP_HEIGHT - 2 * MAP_MARGIN]
    taken = [(x, y, *(thumb_px if n <= MAX_THUMBNAILS else (12, 12))) for x, y in pixels[:n]]
    taken += [(x, y, 12, 12) for x, y in pixels[n:]]  # every marker, so no label covers one
    shown = [str(t) if len(str(t)) <= LABEL_LIMIT else str(t)[: LABEL_LIMIT - 1] + "…" for t in result.texts]
    offsets = _label_offsets(pixels[n:], [len(t) * CHAR_PX + 4 for t in shown], taken)
    fig.update_layout(
        annotations=[
            dict(
                x=float(x),
                y=float(y),
                xref="x",
                yref="y",
                text=label,
                ax=dx,
                ay=dy,
                showarrow=True,
                arrowwidth=1,
                arrowcolor="#9e9e9e",
                arrowhead=0,
                standoff=6,
                font={"size": 12},
            )
            for (x, y), label, (dx, dy) in zip(txt_pts, plotly_texts(result.texts, LABEL_LIMIT), offsets)
        ]
    )
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
    fig.update_layout(
        title=f"Images and texts in one map ({method.upper()})",
        template="plotly_white",
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        margin=dict(l=MAP_MARGIN, r=MAP_MARGIN, t=MAP_MARGIN, b=MAP_MARGIN),
        showlegend=True,
        legend=dict(x=1, y=1, xanchor="right", bgcolor="rgba(255,255,255,0.6)"),
        xaxis=dict(range=[float(low[0]), float(high[0])], showgrid=False, zeroline=False),
        yaxis=dict(range=[float(low[1]), float(high[1])], showgrid=False, zeroline=False),
    )
    return with_record(fig, result.record)


def _label_offsets(
    points: np.ndarray, widths: list[float], taken: list[tuple[float, float, float, float]]
) -> list[tuple[float, float]]:
    """A pixel offset (dx, dy) for each label of ``points`` (pixel positions, y down) so that no
    label box (``widths`` x ``LABEL_PX``) overlaps another or a box in ``taken`` (centre x, y, width,
    height): the nearest free spot on rings around its point, above it first; a label far from its
    point is tied to it by a line.  Greedy, in order: enough for the few labels of a CLIP map."""
    boxes = list(taken)
    out = []
    for (x, y), width in zip(points, widths):
        spot = None
        for ring in range(1, 13):
            step_y, step_x = ring * LABEL_PX, ring * (width / 2 + 8)
            for dx, dy in (
                (0, -step_y),
                (0, step_y),
                (step_x, 0),
                (-step_x, 0),
                (step_x, -step_y),
                (-step_x, -step_y),
                (step_x, step_y),
                (-step_x, step_y),
            ):
                box = (x + dx, y + dy, width, LABEL_PX)
                if not any(_overlap(box, other) for other in boxes):
                    spot = (dx, dy)
                    break
            if spot is not None:
                break
        spot = spot or (0.0, -LABEL_PX)  # nowhere free: above its point, as before
        boxes.append((x + spot[0], y + spot[1], width, LABEL_PX))
        out.append((float(spot[0]), float(spot[1])))
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return abs(a[0] - b[0]) * 2 < a[2] + b[2] and abs(a[1] - b[1]) * 2 < a[3] + b[3]
