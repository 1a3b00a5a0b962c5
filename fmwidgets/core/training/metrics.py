"""Evaluation metrics for a tuned model, from its predictions on the held-out rows.

Classification: accuracy, macro F1, per-class precision / recall / F1 and the confusion
matrix; regression: MSE, MAE and R2; causal-LM: loss and perplexity.  The same functions score
each evaluation during training (for the live table) and the final one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def classification_metrics(y_true: Any, y_pred: Any, classes: list) -> dict[str, Any]:
    """accuracy, f1_macro, per_class (DataFrame indexed by the user's labels), confusion."""
    import pandas as pd
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index([str(c) for c in classes], name="label"),
    )
    return {
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "f1_macro": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": per_class,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels),
    }


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if not np.isfinite(y_pred).all():  # a diverged run: no score means anything
        return {"mse": float("nan"), "mae": float("nan"), "r2": float("nan")}
    r2 = float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")
    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": r2,
    }


def perplexity(loss: float | None) -> float | None:
    """exp(loss), capped so a diverged run reads as inf rather than an overflow error."""
    if loss is None or math.isnan(loss):
        return loss
    return math.exp(loss) if loss < 700 else float("inf")


def scalar_metrics(task: str, y_true: Any, logits: Any, classes: list) -> dict[str, float]:
    """The numbers shown in the live table after each evaluation (no tables or matrices)."""
    if task == "classification":
        full = classification_metrics(y_true, np.asarray(logits).argmax(-1), classes)
        return {"accuracy": full["accuracy"], "f1_macro": full["f1_macro"]}
    return regression_metrics(y_true, np.asarray(logits).reshape(-1))
