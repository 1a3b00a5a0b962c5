"""Training pictures from real metric computations: loss curve, confusion matrix, scatter."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from fmwidgets.core.training.metrics import classification_metrics, regression_metrics
from fmwidgets.core.training.result import FinetuneResult
from fmwidgets.errors import BadArgumentError
from fmwidgets.plots.figure import RecordedFigure
from fmwidgets.plots.training import (
    plot_confusion_matrix,
    plot_loss_curve,
    plot_predicted_vs_true,
    result_figures,
)
from fmwidgets.records import RunRecord

HISTORY = [
    {"kind": "train", "step": 1, "epoch": 0.5, "loss": 0.9},
    {"kind": "train", "step": 2, "epoch": 1.0, "loss": 0.7},
    {"kind": "eval", "step": 2, "epoch": 1.0, "eval_loss": 0.8, "accuracy": 0.5},
    {"kind": "train", "step": 3, "epoch": 1.5, "loss": 0.5},
    {"kind": "train", "step": 4, "epoch": 2.0, "loss": 0.4},
    {"kind": "eval", "step": 4, "epoch": 2.0, "eval_loss": 0.6, "accuracy": 0.75},
]


def result(task, y_true, y_pred, classes=()):
    extra, metrics = {}, {}
    if task == "classification":
        ids = {c: i for i, c in enumerate(classes)}
        full = classification_metrics([ids[v] for v in y_true], [ids[v] for v in y_pred], list(classes))
        metrics = {"accuracy": full["accuracy"], "f1_macro": full["f1_macro"]}
        extra = {"per_class": full["per_class"], "confusion": full["confusion"]}
    else:
        metrics = regression_metrics(y_true, y_pred)
    return FinetuneResult(
        name="m-ft", base="m", task=task, task_reason="given", status="finished", metrics=metrics,
        before={}, history=HISTORY, classes=list(classes), y_true=list(y_true), y_pred=list(y_pred),
        eval_rows=len(y_true), record=RunRecord(kind="finetune", model="m"), **extra,
    )


def test_loss_curve_has_training_and_validation_lines():
    fig = plot_loss_curve(HISTORY)
    assert isinstance(fig, go.Figure) and fig.record is None
    train, evaluation = fig.data
    assert list(train.x) == [1, 2, 3, 4] and list(train.y) == [0.9, 0.7, 0.5, 0.4]
    assert list(evaluation.x) == [2, 4] and list(evaluation.y) == [0.8, 0.6]
    assert fig.layout.xaxis.title.text == "step"
    empty = plot_loss_curve([])
    assert [len(t.x) for t in empty.data] == [0, 0]
    from_result = plot_loss_curve(result("regression", [1.0, 2.0], [1.0, 2.0]), title="run")
    assert from_result.record.kind == "finetune" and list(from_result.data[1].y) == [0.8, 0.6]
    assert from_result.layout.title.text == "run"


def test_confusion_matrix_counts_in_the_users_labels():
    r = result("classification", ["dog", "cat", "cat", "<b>bird</b>"], ["dog", "cat", "dog", "<b>bird</b>"],
               classes=["<b>bird</b>", "cat", "dog"])
    fig = plot_confusion_matrix(r)
    heat = fig.data[0]
    # the user's labels, written so that Plotly shows "<b>bird</b>" as text and not in bold
    assert list(heat.x) == list(heat.y) == ["&lt;b&gt;bird&lt;/b&gt;", "cat", "dog"]
    assert np.asarray(heat.z).tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert isinstance(fig, RecordedFigure) and fig.record.kind == "finetune"
    _, metadata = fig._repr_mimebundle_()
    assert metadata["fmwidgets"]["model"] == "m"
    with pytest.raises(BadArgumentError, match="applies only to classification"):
        plot_confusion_matrix(result("regression", [1.0, 2.0], [1.5, 2.5]))


def test_predicted_vs_true_scatter_with_the_identity_line():
    r = result("regression", [1.0, 2.0, 3.0], [1.1, 1.9, 3.3])
    fig = plot_predicted_vs_true(r)
    points, line = fig.data
    assert list(points.x) == [1.0, 2.0, 3.0] and list(points.y) == [1.1, 1.9, 3.3]
    assert list(line.x) == list(line.y) == [1.0, 3.3]
    assert f"{r.metrics['r2']:.3f}" in fig.layout.title.text
    with pytest.raises(BadArgumentError, match="applies only to regression"):
        plot_predicted_vs_true(result("classification", ["a", "b"], ["a", "a"], classes=["a", "b"]))


def test_result_figures_pick_what_applies():
    assert len(result_figures(result("regression", [1.0, 2.0], [1.0, 2.0]))) == 2
    causal = result("regression", [1.0, 2.0], [1.0, 2.0])
    causal.task = "causal-lm"
    assert [type(f) for f in result_figures(causal)] == [RecordedFigure]


def test_a_supervised_history_draws_no_reward_lines():
    from fmwidgets.plots.training import logged_curves, loss_traces

    history = [{"kind": "train", "step": 1, "epoch": 0.5, "loss": 1.0},
               {"kind": "eval", "step": 2, "epoch": 1.0, "eval_loss": 0.9}]
    assert logged_curves(history) == () and len(loss_traces(history)) == 2
    with_rewards = history + [{"kind": "train", "step": 2, "epoch": 1.0, "loss": 0.8, "reward_margin": 0.3}]
    assert logged_curves(with_rewards) == ("reward_margin",)
    lines = loss_traces(with_rewards, ("reward_margin",))
    assert list(lines[2].x) == [2] and list(lines[2].y) == [0.3]  # the step without a margin is left out
