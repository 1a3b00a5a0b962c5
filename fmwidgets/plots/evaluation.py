"""Pictures of evaluations: scores with their 95% intervals, and before/after counts.

Pure functions: an ``Evaluation`` (or its summary) or an ``EvaluationComparison`` in, a plotly
Figure out.  Names that come from the user (evaluators, run names) go through ``plotly_text``,
because plotly reads a little HTML (and TeX) in labels.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..render.evaluation import SCALE_TOP, scale_groups
from ..render.text import plotly_text, plotly_texts
from .figure import RecordedFigure, with_record

STATUS_COLORS = {"improved": "#2ca02c", "regressed": "#d62728", "same": "#9e9e9e"}


def plot_evaluation(evaluation: Any, title: str | None = None) -> RecordedFigure:
    """One bar per evaluator: the mean (or corpus score) with its bootstrap 95% interval, in one
    panel per scale (``render.evaluation.scale_groups``: chrF's 0–100 beside exact match's 0–1
    would flatten the latter), each y axis titled with its scale."""
    from plotly.subplots import make_subplots

    summary = getattr(evaluation, "summary", evaluation)
    groups = scale_groups(summary) or [("score", [])]
    fig = make_subplots(
        rows=1,
        cols=len(groups),
        column_widths=[max(len(rows), 1) for _, rows in groups],
        horizontal_spacing=0.08 if len(groups) > 1 else 0.0,
    )
    for col, (scale, rows) in enumerate(groups, start=1):
        part = summary.iloc[rows]
        mean = part["mean"].astype(float)
        fig.add_trace(
            go.Bar(
                x=plotly_texts(part.index),
                y=mean.tolist(),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(part["ci_high"] - mean).tolist(),
                    arrayminus=(mean - part["ci_low"]).tolist(),
                ),
                customdata=part[["ci_low", "ci_high", "n"]].to_numpy().tolist(),
                hovertemplate="%{x}: %{y:.4g}<br>95% interval %{customdata[0]:.4g} to %{customdata[1]:.4g}"
                "<br>%{customdata[2]} rows<extra></extra>",
                marker_color="#4c78a8",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        top = SCALE_TOP.get(scale)
        fig.update_yaxes(
            title_text=plotly_text(scale), range=[0, top * 1.05] if top else None, row=1, col=col
        )
    name = getattr(evaluation, "name", None)
    fig.update_layout(
        title=plotly_text(title or (f"evaluation {name}" if name else "evaluation")),
        height=320,
        margin=dict(t=50, b=40, l=50, r=20),
    )
    return with_record(fig, getattr(evaluation, "record", None))


def plot_comparison(comparison: Any) -> RecordedFigure:
    """Rows improved, regressed and unchanged from run a to run b (a pairwise judge's rates aside)."""
    counts = comparison.counts[["improved", "regressed", "same"]].astype(int)
    fig = go.Figure(
        go.Bar(
            x=list(counts.index),
            y=counts.tolist(),
            marker_color=[STATUS_COLORS[s] for s in counts.index],
            hovertemplate="%{x}: %{y} rows<extra></extra>",
        )
    )
    fig.update_layout(
        title=plotly_text(f"{comparison.a} → {comparison.b} on {comparison.evaluator or comparison.judge}"),
        yaxis_title="rows",
        height=300,
        margin=dict(t=50, b=40, l=50, r=20),
    )
    return with_record(fig, comparison.record)
