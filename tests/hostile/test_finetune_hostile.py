"""Fine-tuning with hostile input: non-finite labels and numbers, a run that diverges, two runs at
once, and targets that exist or cannot be written; nothing is lost and nothing trains for nothing."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from fmwidgets.core.models.registry import registry
from fmwidgets.core.training.finetune import run_finetune as finetune
from fmwidgets.errors import BadArgumentError, DataError
from fmwidgets.testing import CORPUS

FAST = dict(epochs=1, batch_size=4, max_length=16)


def numbers(values):
    return pd.DataFrame({"text": CORPUS, "y": [values[i % len(values)] for i in range(len(CORPUS))]})


def one_sentence(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 400, text
    return text


def test_infinite_labels_are_refused_before_any_model_work(bert):
    with pytest.raises(DataError) as exc:
        finetune(numbers([1.0, 2.5, float("inf")]), label="y", **FAST)
    assert "infinite" in one_sentence(exc)
    assert registry.names() == ["bert"]


@pytest.mark.parametrize("keywords, word", [
    (dict(lr=-1), "lr"), (dict(lr=float("nan")), "lr"), (dict(epochs=float("inf")), "epochs"),
    (dict(epochs=0), "epochs"), (dict(batch_size=0), "batch_size"), (dict(max_length=2.5), "max_length"),
    (dict(warmup=-1), "warmup"), (dict(seed=-3), "seed"), (dict(lora_dropout=1.5), "lora_dropout"),
])
def test_bad_numbers_are_one_sentence_naming_the_argument(bert, keywords, word):
    with pytest.raises(BadArgumentError) as exc:
        finetune(numbers([1.0, 2.5]), label="y", **{**FAST, **keywords})
    assert one_sentence(exc).startswith(word)
    assert registry.names() == ["bert"]


def test_a_diverging_run_is_registered_marked_and_reported_in_one_warning(bert):
    with pytest.warns(UserWarning, match="diverged") as caught:
        result = finetune(numbers([1.0, 2.5, 4.0]), label="y", lr=1e20, **FAST)
    assert result.status == "diverged" and result.record.params["status"] == "diverged"
    assert registry.names() == ["bert", "bert-ft"]
    assert math.isnan(result.metrics["mse"]) and math.isnan(result.metrics["r2"])
    assert "diverged" in result.headline()
    (warning,) = [w for w in caught if "diverged" in str(w.message)]
    assert "\n" not in str(warning.message)


def test_two_background_runs_of_one_base_get_their_own_names_and_models(bert):
    """Two real Trainers started at once: the second queues behind the first, nothing is overwritten."""
    first = finetune(numbers([1.0, 2.5, 4.0]), label="y", background=True, **FAST)
    second = finetune(numbers([1.0, 2.5, 4.0]), label="y", background=True, seed=7, **FAST)
    assert (first.name, second.name) == ("bert-ft", "bert-ft-2")
    a, b = first.wait(), second.wait()
    assert (a.status, b.status) == ("finished", "finished")
    assert registry.names() == ["bert", "bert-ft", "bert-ft-2"]
    assert registry.get("bert-ft").model is not registry.get("bert-ft-2").model
    with pytest.raises(BadArgumentError, match="already used"):
        finetune(numbers([1.0, 2.5]), label="y", as_="bert-ft", **FAST)


def test_output_dir_that_holds_files_is_refused_unless_overwrite(bert, tmp_path):
    (tmp_path / "old.txt").write_text("last week's model")
    with pytest.raises(BadArgumentError) as exc:
        finetune(numbers([1.0, 2.5]), label="y", output_dir=str(tmp_path), **FAST)
    assert "--overwrite" in one_sentence(exc) and registry.names() == ["bert"]
    result = finetune(numbers([1.0, 2.5]), label="y", output_dir=str(tmp_path), overwrite=True, **FAST)
    assert (Path(result.output_dir) / "config.json").exists() and (tmp_path / "old.txt").exists()


@pytest.mark.parametrize("where", ["file", "proc", "missing-parent-of-file"])
def test_unwritable_targets_fail_before_training(bert, tmp_path, where):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    kwargs = {"file": dict(output_dir=str(afile)),
              "proc": dict(export_script="/proc/x.py"),
              "missing-parent-of-file": dict(output_dir=str(afile / "sub"))}[where]
    with pytest.raises(BadArgumentError) as exc:
        finetune(numbers([1.0, 2.5]), label="y", **kwargs, **FAST)
    one_sentence(exc)
    assert registry.names() == ["bert"]


def test_existing_export_script_is_refused_unless_overwrite(bert, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("# mine")
    with pytest.raises(BadArgumentError, match="--overwrite"):
        finetune(numbers([1.0, 2.5]), label="y", export_script=str(script), **FAST)
    assert script.read_text() == "# mine"


def test_duplicate_columns_and_series_are_named(bert):
    frame = numbers([1.0, 2.5])
    twice = pd.concat([frame, frame[["text"]]], axis=1)
    with pytest.raises(DataError, match="more than one column named 'text'"):
        finetune(twice, label="y", **FAST)
    with pytest.raises(DataError, match="not a Series"):
        finetune(frame["text"], label="y", **FAST)


def test_many_tiny_classes_blame_the_classes_not_a_single_row(bert):
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(3000)], "y": [f"c{i // 2}" for i in range(3000)]})
    with pytest.raises(DataError) as exc:
        finetune(frame, label="y", **FAST)
    text = one_sentence(exc)
    assert "1,500 classes" in text and "--val-split 0.5" in text
