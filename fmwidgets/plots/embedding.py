"""Embedding maps: 2-D points as a WebGL scatter, 3-D points as Scatter3d (``fm.plot_embeddings``).

Plotly's SVG scatter stalls past ~40k points and plotly express adds pandas work per point, so
this builds ``Scattergl`` traces by hand from float32 arrays, which Plotly sends as base64 typed
arrays (about 11 bytes per 2-D point instead of ~24 as JSON lists).  Colour and symbol split the
points into one trace per category (as plotly express does); a numeric colour is one trace with
a colour scale.  Hover text, legend names and the title come from user data, so they are cut
short and go through ``plotly_text`` (shown as written, never as markup).  Past
``max_points`` the figure shows a stated random sample, or a density view, never a frozen browser;
past ``HOVER_POINTS`` it carries no per-point hover text, so a big map stays ~11 bytes a point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from ..errors import BadArgumentError, DataError
from ..provenance.history import recorded
from ..records import RunRecord
from ..render.text import plotly_text
from .figure import RecordedFigure

HOVER_CHARS = 120  # longest hover text per column before it is cut with an ellipsis
# Per-point hover text costs ~57 bytes a point for 50-character texts (bench/bench_scatter.py),
# five times the ~11 bytes of the coordinates: 1M points made a 60-130 MB notebook output.  Past
# this many shown points the map keeps no per-point text (the explorer shows selected rows' text).
HOVER_POINTS = 20_000
LEGEND_CHARS = 60  # longest colour/symbol value shown in the legend
MAX_CATEGORIES = 30  # more colour/symbol values than this: the rarest are merged into "other"
MAX_POINTS = 1_000_000
_SYMBOLS = ["circle", "square", "diamond", "cross", "x", "triangle-up", "triangle-down", "star"]


def hover_text(value: Any, limit: int = HOVER_CHARS) -> str:
    """One value as safe, short hover text: one line, cut at ``limit`` characters, escaped."""
    return plotly_text(" ".join(str(value).split()), limit)


def _values(spec: Any, data: Any, n: int, what: str) -> np.ndarray | None:
    """A column name of ``data`` or an array-like of length n, as a numpy array (None stays None)."""
    return None if spec is None else _column(spec, data, n, what)


def _column(spec: Any, data: Any, n: int, what: str) -> np.ndarray:
    """A column name of ``data`` or an array-like of length n, as a numpy array."""
    if isinstance(spec, str):
        if data is None:
            raise BadArgumentError(
                f"{what}='{spec}' names a column, but no data= DataFrame was given; pass data=df or the values themselves."
            )
        if spec not in data.columns:
            have = ", ".join(repr(str(c)) for c in data.columns)
            raise DataError(f"The DataFrame has no column '{spec}' for {what}; its columns are {have}.")
        spec = data[spec]
    values = (
        np.asarray(spec.to_numpy() if hasattr(spec, "to_numpy") else spec, dtype=object)
        if not _numeric(spec)
        else np.asarray(spec, dtype=np.float32)
    )
    if len(values) != n:
        raise DataError(f"{what} has {len(values)} values for {n} points; pass one value per point.")
    return values


def _numeric(values: Any) -> bool:
    dtype = getattr(values, "dtype", None)
    if dtype is None:  # a list: np.asarray of a million long strings would copy them all as UCS-4
        return all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            for v in values
        )
    if not isinstance(dtype, np.dtype):  # pandas' own dtypes (strings, nullable ints, categories)
        dtype = np.asarray(values).dtype
    return dtype.kind in "iuf"


def hover_columns(hover: Any, data: Any, n: int) -> list[tuple[str | None, np.ndarray]]:
    """(column name or None, values) for each hover column; checks them (cheap: no text is built)."""
    if hover is None:
        return []
    specs = (
        hover if _all_str(hover) and data is not None and all(h in data.columns for h in hover) else [hover]
    )
    return [(spec if isinstance(spec, str) else None, _column(spec, data, n, "hover")) for spec in specs]


def hover_lines(hover: Any, data: Any, n: int, rows: np.ndarray | None = None) -> np.ndarray | None:
    """Hover text for the points ``rows`` (default all) from a column, a list of columns, or values."""
    columns = hover_columns(hover, data, n)
    if not columns:
        return None
    labelled = len(columns) > 1
    lines = []
    for i in range(n) if rows is None else rows:
        parts = [
            f"{plotly_text(name)}: {hover_text(vals[i])}"
            if labelled and name is not None
            else hover_text(vals[i])
            for name, vals in columns
        ]
        lines.append("<br>".join(parts))
    return np.asarray(lines, dtype=object)


def categories(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(category names, code per point); past MAX_CATEGORIES the rarest become 'other'."""
    import pandas as pd

    # hash the raw values first (fast), then name the few distinct ones; equal names merge
    raw_codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    labels = [str(u) for u in uniques]
    if (raw_codes < 0).any():
        labels.append("(missing)")
        raw_codes = np.where(raw_codes < 0, len(uniques), raw_codes)
    merged, named = pd.factorize(np.asarray(labels, dtype=object), sort=True)
    codes = merged[raw_codes]
    names = [str(u) for u in named]
    if len(names) > MAX_CATEGORIES:
        keep = np.argsort(-np.bincount(codes, minlength=len(names)), kind="stable")[: MAX_CATEGORIES - 1]
        remap = np.full(len(names), MAX_CATEGORIES - 1)
        remap[keep] = np.arange(len(keep))
        return [names[k] for k in keep] + ["other"], remap[codes]
    return names, codes


def point_groups(
    n: int, color: np.ndarray | None, symbol: np.ndarray | None
) -> list[tuple[str, np.ndarray, int, int]]:
    """(trace name, row numbers, colour index, symbol index) per trace, as plotly express splits them."""
    by_color = color is not None and not _numeric(color)  # numbers colour by a scale, not by group
    c_names, c_codes = categories(color) if by_color and color is not None else ([""], np.zeros(n, dtype=int))
    s_names, s_codes = categories(symbol) if symbol is not None else ([""], np.zeros(n, dtype=int))
    groups = []
    for ci, c_name in enumerate(c_names):
        for si, s_name in enumerate(s_names):
            rows = np.flatnonzero((c_codes == ci) & (s_codes == si))
            if len(rows):
                name = ", ".join(plotly_text(p, LEGEND_CHARS) for p in (c_name, s_name) if p)
                groups.append((name, rows, ci, si))
    return groups


def marker_sizes(size: Any, data: Any, n: int) -> Any:
    """A number for every point, or per-point sizes scaled to 4..16 pixels from a numeric column."""
    if size is None:
        return 6 if n < 5_000 else 4 if n < 100_000 else 2
    if isinstance(size, (int, float)):
        return float(size)
    values = _column(size, data, n, "size")
    if not _numeric(values):
        raise DataError("size needs numbers (one per point); pass a numeric column or array.")
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    scaled = 4 + 12 * (values - lo) / (hi - lo) if hi > lo else np.full(n, 8.0)
    return np.nan_to_num(scaled, nan=4.0).astype(np.float32)


def sample_rows(n: int, max_points: int, seed: int = 0) -> np.ndarray:
    """A sorted random choice of ``max_points`` row numbers (all rows when there are few)."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def as_points(points: Any) -> np.ndarray:
    """(n, 2) or (n, 3) float32 array, or a DataError that says to project first."""
    arr = np.asarray(points, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise DataError(
            f"Points have shape {arr.shape}; a map needs 2 or 3 columns, so project the vectors "
            "first with fm.project(X, dims=2)."
        )
    if len(arr) == 0:
        raise DataError("There are no points to plot; pass at least one.")
    return arr


def scatter_traces(
    pts: np.ndarray, groups, color: np.ndarray | None, hover: np.ndarray | None, sizes: Any
) -> list:
    """One Scattergl (2-D) or Scatter3d (3-D) trace per group, float32 all the way."""
    palette = qualitative.Plotly
    numeric_color = color is not None and _numeric(color)
    traces = []
    for name, rows, ci, si in groups:
        marker: dict[str, Any] = {"size": sizes if np.isscalar(sizes) else sizes[rows], "opacity": 0.8}
        if numeric_color and color is not None:
            marker.update(color=color[rows], colorscale="Viridis", showscale=True)
        else:
            marker["color"] = palette[ci % len(palette)]
        if si:
            marker["symbol"] = _SYMBOLS[si % len(_SYMBOLS)]
        common = dict(mode="markers", name=name or None, marker=marker, showlegend=bool(name))
        if hover is not None:
            common.update(text=hover[rows].tolist(), hovertemplate="%{text}<extra></extra>")
        if pts.shape[1] == 3:
            traces.append(go.Scatter3d(x=pts[rows, 0], y=pts[rows, 1], z=pts[rows, 2], **common))
        else:
            traces.append(go.Scattergl(x=pts[rows, 0], y=pts[rows, 1], **common))
    return traces


def density_trace(pts: np.ndarray, bins: int = 200) -> go.Heatmap:
    """Counts of points on a bins x bins grid (log scale), for maps too large to draw point by point."""
    counts, xe, ye = np.histogram2d(pts[:, 0], pts[:, 1], bins=bins)
    z = np.log1p(counts.T).astype(np.float32)
    z[z == 0] = np.nan
    return go.Heatmap(
        x=((xe[:-1] + xe[1:]) / 2).astype(np.float32),
        y=((ye[:-1] + ye[1:]) / 2).astype(np.float32),
        z=z,
        colorscale="Viridis",
        colorbar={"title": "log(1+points)"},
        hoverinfo="skip",
    )


def embedding_figure(
    points: Any,
    color: Any = None,
    hover: Any = None,
    symbol: Any = None,
    size: Any = None,
    title: str | None = None,
    *,
    data: Any = None,
    max_points: int = MAX_POINTS,
    overflow: str = "sample",
    seed: int = 0,
    record: RunRecord | None = None,
) -> tuple[RecordedFigure, list[np.ndarray]]:
    """(figure, row numbers of the points in each trace): what plot_embeddings and the explorer share."""
    pts = as_points(points)
    n = len(pts)
    if overflow not in ("sample", "density"):
        raise BadArgumentError(f"overflow must be 'sample' or 'density', not '{overflow}'.")
    color_v = _values(color, data, n, "color")
    symbol_v = _values(symbol, data, n, "symbol")
    sizes = marker_sizes(size, data, n)
    note = None
    shown = sample_rows(n, max_points, seed)
    if len(shown) < n and overflow == "density" and pts.shape[1] == 2:
        traces = [density_trace(pts)]
        trace_rows: list[np.ndarray] = []
        note = f"density of {n:,} points"
    else:
        if len(shown) < n:
            note = f"random sample of {len(shown):,} of {n:,} points"
        if len(shown) <= HOVER_POINTS:
            hover_v = hover_lines(hover, data, n, shown)
        else:
            hover_v = None
            if hover_columns(hover, data, n):
                note = "; ".join(p for p in (note, f"no hover text past {HOVER_POINTS:,} points") if p)
        groups = point_groups(len(shown), _pick(color_v, shown), _pick(symbol_v, shown))
        traces = scatter_traces(
            pts[shown], groups, _pick(color_v, shown), hover_v, sizes if np.isscalar(sizes) else sizes[shown]
        )
        trace_rows = [shown[rows] for _, rows, _, _ in groups]
    full_title = " — ".join(t for t in (plotly_text(title) if title else None, note) if t) or None
    layout: dict[str, Any] = dict(
        title=full_title,
        dragmode="lasso",
        legend={"itemsizing": "constant"},
        margin={"l": 40, "r": 20, "t": 50 if full_title else 20, "b": 40},
    )
    if color is not None and isinstance(color, str) and not (color_v is not None and _numeric(color_v)):
        layout["legend"]["title"] = {"text": plotly_text(color, LEGEND_CHARS)}
    if record is None:
        record = RunRecord(
            kind="plot_embeddings",
            params={
                "points": n,
                "shown": len(shown),
                "dims": pts.shape[1],
                "color": _spec(color),
                "hover": _spec(hover),
                "symbol": _spec(symbol),
                "size": _spec(size),
                "overflow": overflow,
            },
        )
    # built in one go: copying a finished figure (with_record) costs as much as building it
    return RecordedFigure(data=traces, layout=layout, record=record), trace_rows


def _pick(values: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[rows]


def _all_str(spec: Any) -> bool:
    return isinstance(spec, (list, tuple)) and bool(spec) and all(isinstance(s, str) for s in spec)


def _spec(spec: Any) -> Any:
    """How a parameter is written in the record: a column name, or what kind of values it was."""
    if spec is None or isinstance(spec, (str, int, float)):
        return spec
    if _all_str(spec) and len(spec) <= 10:
        return list(spec)
    return f"<{type(spec).__name__} of {len(spec)}>" if hasattr(spec, "__len__") else repr(spec)


@recorded
def plot_embeddings(
    points: Any,
    color: Any = None,
    hover: Any = None,
    symbol: Any = None,
    size: Any = None,
    title: str | None = None,
    *,
    data: Any = None,
    max_points: int = MAX_POINTS,
    overflow: str = "sample",
    seed: int = 0,
    record: RunRecord | None = None,
) -> RecordedFigure:
    """A WebGL map of 2-D (or 3-D) points, plotly-express style.

    ``color``, ``hover``, ``symbol`` and ``size`` take a column name of ``data`` (a DataFrame
    with one row per point) or one value per point; ``hover`` may list several columns.  Past
    ``max_points`` points the map shows a stated random sample (``overflow="sample"``) or a
    density heatmap (``overflow="density"``).  Hover text is cut at ``HOVER_CHARS`` characters
    per column, and left out (the title says so) when more than ``HOVER_POINTS`` points are shown.
    """
    return embedding_figure(
        points,
        color,
        hover,
        symbol,
        size,
        title,
        data=data,
        max_points=max_points,
        overflow=overflow,
        seed=seed,
        record=record,
    )[0]
