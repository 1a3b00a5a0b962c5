"""Every DataFrame check runs before training and says what to do in one sentence."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from fmwidgets.notices import FMWarning
from fmwidgets.core.training.data import infer_task, prepare
from fmwidgets.core.training.finetune import run_finetune as finetune
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError


def frame(n=20):
    return pd.DataFrame({
        "text": [f"sentence number {i} about {'cats' if i % 2 else 'dogs'}" for i in range(n)],
        "label": ["cat" if i % 2 else "dog" for i in range(n)],
        "score": [i / 3 for i in range(n)],
        "stars": [i % 3 + 1 for i in range(n)],
    })


def one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and message.endswith(".") and ";" in message


def test_task_is_inferred_from_the_label_column():
    df = frame()
    assert infer_task(df, "label")[0] == "classification"
    assert infer_task(df, "stars")[0] == "classification"  # few integers are classes
    assert infer_task(df, "score")[0] == "regression"
    assert infer_task(df.assign(big=range(20)), "big")[0] == "regression"  # many integers are numbers
    assert infer_task(df, None)[0] == "causal-lm"


def test_labels_keep_the_users_values_and_split_is_stratified():
    data = prepare(frame(20), "text", "stars", None, val_split=0.3, seed=0)
    assert data.classes == [1, 2, 3] and all(type(c) is int for c in data.classes)
    assert data.id2label == {0: "1", 1: "2", 2: "3"}
    assert len(data.eval_texts) == 6 and len(data.train_texts) == 14
    assert sorted(set(data.eval_labels)) == [0, 1, 2]  # every class held out
    assert set(data.train_texts).isdisjoint(data.eval_texts)


def test_missing_column_lists_the_columns_that_exist():
    with pytest.raises(DataError, match="no column 'labl'.*'text', 'label', 'score', 'stars'") as info:
        prepare(frame(), "text", "labl", None, val_split=None)
    assert one_sentence(str(info.value))


def test_empty_dataframe():
    with pytest.raises(DataError, match="empty"):
        prepare(frame().iloc[0:0], "text", "label", None, val_split=None)


def test_nan_and_blank_texts_are_counted_dropped_with_a_warning_or_refused_when_strict():
    df = frame()
    df.loc[[1, 2], "text"] = np.nan
    df.loc[3, "text"] = "   "
    with pytest.warns(FMWarning, match="Skipped 3 of 20"):
        data = prepare(df, "text", "label", None, val_split=0.2, seed=0)
    assert data.dropped == 3 and len(data.train_texts) + len(data.eval_texts) == 17
    with pytest.raises(DataError, match="3 of 20 rows .* empty or NaN"):
        prepare(df, "text", "label", None, val_split=0.2, strict=True)


def test_nan_labels_are_dropped_or_refused():
    df = frame()
    df.loc[0, "label"] = None
    with pytest.warns(FMWarning, match="Skipped 1 rows whose label"):
        prepare(df, "text", "label", None, val_split=0.2, seed=0)
    with pytest.raises(DataError, match="1 of 20 labels"):
        prepare(df, "text", "label", None, val_split=0.2, strict=True)


def test_single_class_is_refused():
    with pytest.raises(DataError, match="single class \\('dog'\\)") as info:
        prepare(frame().assign(label="dog"), "text", "label", None, val_split=0.2)
    assert one_sentence(str(info.value))


def test_eval_labels_never_seen_in_training_are_refused():
    evaluation = pd.DataFrame({"text": ["a bird", "a cat"], "label": ["bird", "cat"]})
    with pytest.raises(DataError, match="never seen in training \\(bird\\)"):
        prepare(frame(), "text", "label", None, val_split=None, eval_df=evaluation)


def test_non_text_values_are_converted_with_a_warning():
    df = frame().assign(text=list(range(20)))
    with pytest.warns(FMWarning, match="Turned 20 non-text values"):
        data = prepare(df, "text", "label", None, val_split=0.2, seed=0)
    assert all(isinstance(t, str) for t in data.train_texts)


def test_regression_needs_numbers_and_bad_arguments_are_named():
    with pytest.raises(DataError, match="Regression needs numbers in column 'label'"):
        prepare(frame(), "text", "label", "regression", val_split=0.2)
    with pytest.raises(BadArgumentError, match="val_split must be a fraction"):
        prepare(frame(), "text", "label", None, val_split=1.5)
    with pytest.raises(BadArgumentError, match="'sentiment' is not a fine-tuning task"):
        prepare(frame(), "text", "label", "sentiment", val_split=0.2)
    with pytest.raises(DataError, match="too few to keep"):
        prepare(frame(1), "text", None, None, val_split=0.5)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="needs a pandas DataFrame, not list"):
        prepare(["a", "b"], "text", None, None, val_split=0.2)


def test_checks_fail_before_any_training(bert):
    started = time.perf_counter()
    with pytest.raises(DataError, match="single class"):
        finetune(frame().assign(label="dog"), label="label")
    with pytest.raises(WrongFamilyError, match="cannot learn to continue texts.*--label COLUMN"):
        finetune(frame())  # no label on an encoder: causal-LM does not apply
    assert time.perf_counter() - started < 10  # checks, not training (generous for a loaded 2-core machine)
    assert list(bert.model.parameters())[0].grad is None
