"""Turning the user's DataFrame into training and evaluation sets, with every check up front.

Fine-tuning can take an hour, so everything that can be wrong with the data (a missing column,
an empty frame, blank texts, a label column with one class, evaluation labels the training
set never saw) is found here, before any model is copied, each as one-sentence DataError.
Label values stay the user's own: ``classes`` holds them in id order, and the model config
gets ``id2label`` / ``label2id`` built from them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from ...errors import BadArgumentError, DataError
from ...notices import FMWarning
from ..arguments import data_frame
from ..data import clean_texts, require_columns, require_rows

TASKS = ("classification", "regression", "causal-lm")
# An integer label column with at most this many distinct values (and values that repeat: no
# more distinct values than half the rows) is read as classes.
MAX_INTEGER_CLASSES = 20
# The fraction of rows held out for evaluation when val_split is not given.
DEFAULT_VAL_SPLIT = 0.2


@dataclass
class TrainingData:
    """Texts and label ids (classification), numbers (regression) or None (causal-LM)."""

    task: str
    task_reason: str  # why this task: "given", or what was inferred from the label column
    train_texts: list[str]
    train_labels: list | None
    eval_texts: list[str]
    eval_labels: list | None
    classes: list = field(default_factory=list)  # user's label values, index = label id
    eval_source: str = "split"  # "split" | "eval_df" | "train" (no held-out rows)
    dropped: int = 0

    @property
    def head(self) -> str:
        """The head the tuned model gets: the task's own (a preference task trains a causal LM)."""
        return self.task

    def rows(self, part: str) -> list[dict[str, Any]]:
        """The ``"train"`` or ``"eval"`` rows as JSON objects (an exported script's data files)."""
        texts, labels = (
            (self.train_texts, self.train_labels) if part == "train" else (self.eval_texts, self.eval_labels)
        )
        if labels is None:
            return [{"text": t} for t in texts]
        return [{"text": t, "label": y} for t, y in zip(texts, labels)]

    @property
    def id2label(self) -> dict[int, str]:
        return {i: str(c) for i, c in enumerate(self.classes)}

    @property
    def label2id(self) -> dict[str, int]:
        return {str(c): i for i, c in enumerate(self.classes)}


def infer_task(df: Any, label: str | None) -> tuple[str, str]:
    """(task, reason) from the label column: text or few integers -> classes, floats -> numbers."""
    import pandas as pd

    if label is None:
        return "causal-lm", "no label column, so the model learns to continue the texts"
    values = df[label].dropna()
    kind = values.dtype
    if pd.api.types.is_bool_dtype(kind) or not pd.api.types.is_numeric_dtype(kind):
        return "classification", f"label column '{label}' holds categories"
    if pd.api.types.is_integer_dtype(kind) and values.nunique() <= min(MAX_INTEGER_CLASSES, len(values) / 2):
        return "classification", f"label column '{label}' holds {values.nunique()} distinct integers"
    return "regression", f"label column '{label}' holds numbers"


def prepare(
    df: Any,
    text: str,
    label: str | None,
    task: str | None,
    *,
    val_split: float | None,
    eval_df: Any = None,
    strict: bool = False,
    seed: int | None = None,
) -> TrainingData:
    """Check ``df`` (and ``eval_df``) and split them into training and evaluation sets."""

    data_frame(df, "Fine-tuning", "(pd.DataFrame({'text': [...], 'label': [...]}))")
    if eval_df is not None:
        data_frame(eval_df, "eval_df (--eval-df)")
    if task is not None and task not in TASKS:
        raise BadArgumentError(f"'{task}' is not a fine-tuning task; use one of {', '.join(TASKS)}.")
    if val_split is not None and not 0 <= val_split < 1:
        raise BadArgumentError(
            f"val_split must be a fraction between 0 and 1 (got {val_split}); {DEFAULT_VAL_SPLIT:g} keeps "
            f"{DEFAULT_VAL_SPLIT:.0%} of the rows for evaluation."
        )
    if task in ("classification", "regression") and label is None:
        raise BadArgumentError(f"--task {task} needs a label column; pass --label COLUMN (label=).")
    require_columns(df, [text] + ([label] if label else []))
    require_rows(df)
    reason = "given"
    if task is None:
        task, reason = infer_task(df, label)
    elif task == "causal-lm":
        label = None

    frame, dropped = _clean(df, text, label, strict, "DataFrame")
    column = label or ""  # the label column, for the tasks that have one (checked above)
    classes: list = []
    if task == "classification":
        classes = _classes(frame[column], column)
    elif task == "regression":
        _require_numbers(frame[column], column)

    if eval_df is not None:
        require_columns(eval_df, [text] + ([label] if label else []), "evaluation DataFrame")
        evaluation, _ = _clean(eval_df, text, label, strict, "evaluation DataFrame")
        if task == "classification":
            _require_seen(evaluation[column], classes, column)
        elif task == "regression":
            _require_numbers(evaluation[column], column)
        train, source = frame, "eval_df"
    elif val_split == 0:
        train, evaluation, source = frame, frame, "train"
    else:
        train, evaluation = split_rows(
            frame,
            label if task == "classification" else None,
            DEFAULT_VAL_SPLIT if val_split is None else val_split,
            seed,
        )
        source = "split"
        if task == "classification" and len(_classes(train[column], column)) < len(classes):
            raise _split_error(frame[column], column, len(evaluation), len(train))

    return TrainingData(
        task=task,
        task_reason=reason,
        train_texts=train[text].tolist(),
        train_labels=_encode(train, label, task, classes),
        eval_texts=evaluation[text].tolist(),
        eval_labels=_encode(evaluation, label, task, classes),
        classes=classes,
        eval_source=source,
        dropped=dropped,
    )


def _clean(df: Any, text: str, label: str | None, strict: bool, what: str):
    """Rows with usable text and (when there is a label) a label that is not NaN."""
    frame, dropped = clean_texts(df, text, strict=strict, what=what)
    if label is not None:
        missing = frame[label].isna()
        if missing.all():
            raise DataError(
                f"Every label in column '{label}' of the {what} is empty or NaN; pick the column that holds the labels."
            )
        if missing.any():
            if strict:
                raise DataError(
                    f"{int(missing.sum())} of {len(frame)} labels in column '{label}' are NaN; fill "
                    "or drop those rows, or leave strict off to skip them."
                )
            warnings.warn(
                f"Skipped {int(missing.sum())} rows whose label '{label}' is NaN.", FMWarning, stacklevel=4
            )
            frame, dropped = frame.loc[~missing], dropped + int(missing.sum())
    return frame, dropped


def _classes(values: Any, label: str) -> list:
    """Distinct label values in a stable order (sorted when they can be compared)."""
    distinct = list(dict.fromkeys(values.tolist()))
    try:
        distinct = sorted(distinct)
    except TypeError:
        pass
    if len(distinct) < 2:
        only = distinct[0] if distinct else None
        raise DataError(
            f"Column '{label}' has a single class ({only!r}), so there is nothing to tell apart; "
            "add rows of at least one other class."
        )
    return [_plain(v) for v in distinct]


def _plain(value: Any) -> Any:
    """numpy scalars -> Python values, so labels print and serialise as the user typed them."""
    return value.item() if hasattr(value, "item") else value


def _require_numbers(values: Any, label: str) -> None:
    import numpy as np
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(
            f"Regression needs numbers in column '{label}', which holds {values.dtype} values; "
            "convert it (pd.to_numeric) or use --task classification."
        )
    infinite = ~np.isfinite(values.to_numpy(dtype=float))
    if infinite.any():
        raise DataError(
            f"{int(infinite.sum())} labels in column '{label}' are infinite ({values[infinite].iloc[0]}), "
            "which a regressor cannot learn; replace or drop those rows."
        )


def _split_error(values: Any, label: str, n_eval: int, n_train: int) -> DataError:
    """Why a split left classes out of training: single-row classes, or more classes than rows allow."""
    counts = values.astype(str).value_counts()
    single = counts[counts < 2]
    if len(single):
        names = ", ".join(repr(c) for c in single.index[:5]) + (" ..." if len(single) > 5 else "")
        return DataError(
            f"{len(single)} of the {len(counts)} classes of column '{label}' have a single row ({names}), "
            "so they cannot be in both training and evaluation rows; add rows for them, drop them, "
            "or pass --eval-df (or --val-split 0 to evaluate on the training rows)."
        )
    k, n = len(counts), n_eval + n_train
    fix = f"--val-split {math.ceil(100 * k / n) / 100:g} (one held-out row per class), " if 2 * k <= n else ""
    return DataError(
        f"Column '{label}' has {k:,} classes in {n:,} rows (at most {counts.max()} per class), more classes "
        f"than the {n_eval:,} held-out rows, so some classes lost all their training rows; use {fix}"
        "fewer, larger classes, --eval-df, or --val-split 0 to evaluate on the training rows."
    )


def _require_seen(values: Any, classes: list, label: str) -> None:
    unseen = sorted({str(_plain(v)) for v in values.tolist()} - {str(c) for c in classes})
    if unseen:
        raise DataError(
            f"The evaluation DataFrame has labels never seen in training ({', '.join(unseen[:5])}); "
            "add training rows for them or drop them from the evaluation rows."
        )


def split_rows(frame: Any, stratify_col: str | None, fraction: float, seed: int | None):
    """Train/eval split, stratified by class when every class has at least two rows."""
    from sklearn.model_selection import train_test_split

    n_eval = max(1, round(len(frame) * fraction))
    if len(frame) - n_eval < 1:
        raise DataError(
            f"The DataFrame has {len(frame)} usable rows, too few to keep {fraction:.0%} for "
            "evaluation; add rows, lower --val-split, or pass --eval-df."
        )
    stratify = None
    if stratify_col is not None:
        counts = frame[stratify_col].value_counts()
        if counts.min() >= 2 and n_eval >= len(counts) and len(frame) - n_eval >= len(counts):
            stratify = frame[stratify_col].astype(str)
    return train_test_split(frame, test_size=n_eval, random_state=seed, stratify=stratify)


def _encode(frame: Any, label: str | None, task: str, classes: list) -> list | None:
    if label is None:
        return None
    if task == "classification":
        index = {str(c): i for i, c in enumerate(classes)}
        return [index[str(_plain(v))] for v in frame[label].tolist()]
    return [float(v) for v in frame[label].tolist()]
