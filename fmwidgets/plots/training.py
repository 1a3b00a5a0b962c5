"""Pictures of a fine-tuning run: loss curve, confusion matrix, predicted-vs-true scatter.

Pure functions: a run's history (list of logged points or a DataFrame) or a FinetuneResult in,
a plotly Figure out.  The live view redraws ``loss_curve`` while training; after training the
same functions draw the result, which carries its RunRecord.  Class names and titles go through
``plotly_text``: a label ``<a href=...>`` is shown as that text, not as a link.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..render.text import plotly_text, plotly_texts
from .figure import RecordedFigure, with_record

# values a run logs beside its training loss (core/training/preference.py), as the legend names them
CURVE_NAMES = {"reward_margin": "reward margin", "reward_accuracy": "reward accuracy"}


def loss_traces(history: Any, curves: tuple[str, ...] = ()) -> list[go.Scatter]:
    """The two loss lines (training, validation) against the step, for a figure or a live view,
    then one line per name in ``curves`` (a preference run's reward margin and accuracy) on
    the right-hand axis."""
    import pandas as pd

    frame = pd.DataFrame(history) if not isinstance(history, pd.DataFrame) else history
    lines = []
    for kind, column, name, mode in (
        ("train", "loss", "training loss", "lines"),
        ("eval", "eval_loss", "validation loss", "lines+markers"),
        *(("train", c, CURVE_NAMES[c], "lines") for c in curves),
    ):
        part = frame[frame["kind"] == kind] if "kind" in frame else frame.iloc[0:0]
        if column in part:
            part = part[part[column].notna()]  # a batch with nothing to compare logs no margin
        has = len(part) > 0 and column in part
        lines.append(
            go.Scatter(
                x=part["step"].tolist() if has else [],
                y=part[column].tolist() if has else [],
                mode=mode,
                name=name,
                hovertemplate="step %{x}<br>" + name + " %{y:.4f}<extra></extra>",
                **({"yaxis": "y2", "line": {"dash": "dot"}} if column not in ("loss", "eval_loss") else {}),
            )
        )
    return lines


def loss_layout(title: str = "Loss", curves: tuple[str, ...] = ()) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": plotly_text(title),
        "xaxis_title": "step",
        "yaxis_title": "loss",
        "template": "plotly_white",
        "height": 320,
        "margin": {"l": 50, "r": 50 if curves else 20, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.25},
    }
    if curves:
        layout["yaxis2"] = {
            "title": {"text": "reward"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
        }
    return layout


def logged_curves(history: Any) -> tuple[str, ...]:
    """The values beside the loss that a run's history holds (see ``loss_traces``)."""
    import pandas as pd

    frame = pd.DataFrame(history) if not isinstance(history, pd.DataFrame) else history
    train = frame[frame["kind"] == "train"] if "kind" in frame else frame.iloc[0:0]
    return tuple(c for c in CURVE_NAMES if c in train and train[c].notna().any())


def plot_loss_curve(run: Any, record: Any = None, title: str = "Loss") -> RecordedFigure:
    """Training and validation loss against the optimizer step (and a preference run's reward
    margin and accuracy on a second axis).

    ``run`` is a FinetuneResult (its record comes along) or a history: logged points or a
    DataFrame of them.
    """
    history = getattr(run, "history", run)
    record = record if record is not None else getattr(run, "record", None)
    curves = logged_curves(history)
    fig = go.Figure(data=loss_traces(history, curves), layout=loss_layout(title, curves))
    return with_record(fig, record)


def plot_confusion_matrix(result: Any) -> RecordedFigure:
    """Rows: true label, columns: predicted label (the user's label values), counts in cells."""
    if result.confusion is None:
        raise _not_for(result, "a confusion matrix", "classification")
    labels = plotly_texts(result.classes)  # distinct classes stay distinct categories
    counts = result.confusion
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=labels,
            y=labels,
            colorscale="Blues",
            text=counts,
            texttemplate="%{text}",
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
            showscale=False,
        )
    )
    fig.update_layout(
        title=f"Confusion matrix ({result.eval_rows} evaluation rows)",
        xaxis_title="predicted",
        yaxis_title="true",
        template="plotly_white",
        yaxis_autorange="reversed",
        height=360,
        xaxis={"type": "category"},
        yaxis={"type": "category"},
    )
    return with_record(fig, result.record)


def plot_predicted_vs_true(result: Any) -> RecordedFigure:
    """Regression: each evaluation row at (true, predicted), with the y = x line."""
    if result.task != "regression":
        raise _not_for(result, "a predicted-vs-true scatter", "regression")
    lo = min(result.y_true + result.y_pred)
    hi = max(result.y_true + result.y_pred)
    fig = go.Figure(
        [
            go.Scatter(
                x=result.y_true,
                y=result.y_pred,
                mode="markers",
                name="evaluation rows",
                hovertemplate="true %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
            ),
            go.Scatter(
                x=[lo, hi],
                y=[lo, hi],
                mode="lines",
                name="predicted = true",
                line={"dash": "dash", "color": "gray"},
            ),
        ]
    )
    r2 = result.metrics.get("r2")
    fig.update_layout(
        title=f"Predicted vs true (R2 {r2:.3f})" if r2 is not None else "Predicted vs true",
        xaxis_title="true",
        yaxis_title="predicted",
        template="plotly_white",
        height=360,
    )
    return with_record(fig, result.record)


def result_figures(result: Any) -> list[RecordedFigure]:
    """The figures that apply to a result: loss curve, then confusion matrix or scatter."""
    figures = [plot_loss_curve(result)]
    if result.task == "classification":
        figures.append(plot_confusion_matrix(result))
    elif result.task == "regression":
        figures.append(plot_predicted_vs_true(result))
    return figures


def _not_for(result: Any, what: str, task: str):
    from ..errors import BadArgumentError

    return BadArgumentError(
        f"Model '{result.name}' was tuned for {result.task}, and {what} applies only to {task}; "
        "use fm.plot_loss_curve(result) for any task."
    )
