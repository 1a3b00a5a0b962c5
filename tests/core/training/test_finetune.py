"""Fine-tuning tiny real models: each task, LoRA, Stop, interrupt, registry, saving, export."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.models.predict import predict
from fmwidgets.core.models.registry import registry
from fmwidgets.core.training.data import DEFAULT_VAL_SPLIT
from fmwidgets.core.training.finetune import run_finetune as finetune
from fmwidgets.core.training.jobs import FinetuneRun
from fmwidgets.core.training.monitor import TrainingInfo, TrainingMonitor, TrainingPoint
from fmwidgets.core.training.result import FinetuneResult
from fmwidgets.errors import BadArgumentError, WrongFamilyError
from fmwidgets.provenance.history import entries as history
from fmwidgets.render import display_data
from fmwidgets.testing import CORPUS

FAST = dict(epochs=1, batch_size=4, max_length=32)


def labelled(labels):
    return pd.DataFrame({"text": CORPUS, "label": [labels[i % len(labels)] for i in range(len(CORPUS))]})


def weights(handle):
    return {k: v.detach().clone() for k, v in handle.model.state_dict().items()}


def test_classification_keeps_base_registers_copy_and_predicts_user_labels(bert):
    before = weights(bert)
    assert registry.names() == ["bert"]
    result = fm.finetune(labelled([10, 20, 30]), label="label", lr=1e-3, **FAST)  # the recorded one

    assert isinstance(result, FinetuneResult) and result.status == "finished"
    assert result.task == "classification" and "distinct integers" in result.task_reason
    assert registry.names() == ["bert", "bert-ft"] and registry.current == "bert-ft"
    tuned = result.model
    assert tuned.head == "classification" and tuned.base == "bert" and tuned.source == "tuned"
    assert tuned.model.config.id2label == {0: "10", 1: "20", 2: "30"}
    assert tuned.model.config.label2id == {"10": 0, "20": 1, "30": 2}
    assert tuned.model is not bert.model and not tuned.model.training
    after = weights(bert)
    assert all(torch.equal(before[k], after[k]) for k in before)  # the base is untouched
    assert bert.head == "masked-lm" and "predict" not in bert.features

    assert set(result.metrics) == {"loss", "accuracy", "f1_macro"} and set(result.before) == set(result.metrics)
    assert result.confusion.sum() == result.eval_rows == 5 and result.per_class.shape == (3, 4)
    assert result.steps == result.total_steps == 5  # 19 rows / batch 4, one epoch
    assert [p["kind"] for p in result.history].count("eval") == 1
    assert all(isinstance(v, int) for v in result.y_true + result.y_pred)

    predictions = predict(["the cat sat on the mat", "", "stocks fell sharply"])
    assert predictions.name == "prediction" and predictions[1] is None
    assert {predictions[0], predictions[2]} <= {10, 20, 30} and type(predictions[0]) is int
    assert predict("a dog ran", model="bert-ft") in (10, 20, 30)
    assert result.record.params["task"] == "classification" and result.record.seed == 42
    assert result.record.data["shape"] == [len(CORPUS), 2]
    assert history[-3].code.startswith("fm.finetune(df=<DataFrame>, label='label', epochs=1, lr=0.001")
    assert history[-1].code.startswith("fm.predict(texts='a dog ran'")


def test_regression_reports_mse_mae_r2_and_predicts_numbers(bert):
    df = pd.DataFrame({"text": CORPUS, "score": [len(t) / 10 for t in CORPUS]})
    result = finetune(df, label="score", val_split=0.25, **FAST)
    assert result.task == "regression" and result.model.head == "regression"
    assert set(result.metrics) == {"loss", "mse", "mae", "r2"}
    assert len(result.y_true) == len(result.y_pred) == result.eval_rows == 6
    values = predict(pd.Series(["a short one", "a much longer sentence about the weather"], index=[7, 9]))
    assert list(values.index) == [7, 9] and all(isinstance(v, float) for v in values)


def test_causal_lm_reports_perplexity_before_and_after(gpt2):
    df = pd.DataFrame({"text": CORPUS})
    result = finetune(df, lr=5e-3, epochs=3, batch_size=8, max_length=32, val_split=0)
    assert result.task == "causal-lm" and result.eval_source == "train"
    assert result.model.head == "causal-lm" and result.model.family == "decoder"
    assert result.metrics["perplexity"] < result.before["perplexity"]  # it learned the corpus
    assert result.metrics["loss"] < result.before["loss"]
    evaluated = [(p["epoch"], p["eval_loss"]) for p in result.history if p["kind"] == "eval"]
    assert [epoch for epoch, _ in evaluated] == [0, 1, 2, 3]  # before training, then once per epoch
    assert evaluated[-1][1] == pytest.approx(result.metrics["loss"])  # the last epoch's is the "after"
    with pytest.raises(WrongFamilyError, match="fine-tune it first"):
        predict("the cat")


def test_lora_trains_adapters_and_registers_a_merged_model(bert):
    before = weights(bert)
    result = finetune(labelled(["a", "b"]), label="label", lora=True, as_="lora", **FAST)
    net = result.model.model
    assert type(net).__name__ == "BertForSequenceClassification"  # merged, no peft wrapper left
    assert not any("lora" in name for name, _ in net.named_parameters())
    assert result.record.params["lr"] == 2e-4 and result.record.params["lora"] is True
    assert all(torch.equal(before[k], v) for k, v in weights(bert).items())
    assert predict("the cat sat", model="lora") in ("a", "b")


def test_lora_on_a_decoder_for_classification(gpt2):
    result = finetune(labelled(["x", "y"]), label="label", lora=True, **FAST)
    assert result.model.model.config.pad_token_id == gpt2.tokenizer.pad_token_id
    assert predict(["one two", "red green blue"]).isin(["x", "y"]).all()


class StopAt(TrainingMonitor):
    """Asks to stop once ``step`` is reached, as a Stop button does."""

    def __init__(self, step):
        super().__init__()
        self.step, self.calls = step, []

    def on_step(self, step, total, epoch, elapsed):
        self.calls.append(step)
        if step >= self.step:
            self.request_stop()


def test_stop_leaves_a_usable_model_and_the_metrics_so_far(bert):
    monitor = StopAt(2)
    result = finetune(labelled(["a", "b"]), label="label", epochs=5, batch_size=2, max_length=16,
                      monitor=monitor)
    assert result.status == "stopped" and result.steps == 2 < result.total_steps
    assert monitor.calls == [1, 2]
    assert "bert-ft" in registry and "accuracy" in result.metrics
    assert predict("the cat sat on the mat") in ("a", "b")
    assert "stopped by request after 2/" in result.headline()


class InterruptAt(StopAt):
    """Sends the process a real SIGINT (a kernel interrupt) from the training thread."""

    def request_stop(self):
        if not self.stop_event.is_set() and not getattr(self, "sent", False):
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


def test_kernel_interrupt_stops_cleanly_and_keeps_the_model(bert):
    result = finetune(labelled(["a", "b"]), label="label", epochs=5, batch_size=2, max_length=16,
                      monitor=InterruptAt(2), as_="interrupted")
    assert result.status == "interrupted" and 2 <= result.steps < result.total_steps
    assert registry.get("interrupted").head == "classification"
    assert predict("a dog ran across the park", model="interrupted") in ("a", "b")


class Threads(TrainingMonitor):
    """Notes which thread each step runs in, and what the monitor is told."""

    def __init__(self):
        super().__init__()
        self.threads, self.infos, self.points = set(), [], []

    def on_start(self, info):
        self.infos.append(info)

    def on_step(self, step, total, epoch, elapsed):
        self.threads.add(threading.current_thread())

    def on_log(self, point):
        self.points.append(point)


def test_a_waiting_run_trains_in_the_calling_thread_and_tells_the_monitor_in_dataclasses(bert):
    # torch's OpenMP threads spin less in a second thread's pool: training there was slower
    monitor = Threads()
    result = finetune(labelled(["a", "b"]), label="label", monitor=monitor, **FAST)
    assert monitor.threads == {threading.current_thread()}
    (info,) = monitor.infos
    assert isinstance(info, TrainingInfo) and (info.name, info.base, info.task) == ("bert-ft", "bert", "classification")
    assert info.total_steps == result.total_steps and info.train_rows == result.train_rows
    assert all(isinstance(p, TrainingPoint) for p in monitor.points)
    assert [p.row() for p in monitor.points] == result.history


def test_timings_add_up_and_evaluate_false_skips_every_evaluation(bert):
    df = labelled(["a", "b"])
    full = finetune(df, label="label", **FAST)
    t = full.timings
    assert full.evaluated and min(t.prepare, t.evaluate_before, t.train, t.evaluate_after, t.register) > 0
    assert t.total == pytest.approx(sum(s for part, s in full.timing_rows() if part != "total"))
    assert t.train >= full.seconds * 0.9  # the Trainer's own runtime is inside it
    held = round(len(df) * DEFAULT_VAL_SPLIT)  # the default split holds rows out to evaluate them
    assert (full.train_rows, full.eval_rows, full.held_out) == (len(df) - held, held, held)
    assert full.total_steps == math.ceil((len(df) - held) / FAST["batch_size"])  # the Trainer's own count

    quick = finetune(df, label="label", evaluate=False, **FAST)
    # nothing is evaluated, so nothing is held out: every row trains, in more steps per epoch
    assert (quick.train_rows, quick.eval_rows, quick.held_out) == (len(df), 0, 0)
    assert quick.steps == quick.total_steps == math.ceil(len(df) / FAST["batch_size"])
    assert quick.record.params["train_rows"] == len(df) and f"{len(df)} training rows" in quick.headline()
    assert not quick.evaluated and quick.status == "finished" and quick.metrics == quick.before == {}
    assert quick.timings.evaluate_before == quick.timings.evaluate_after == 0
    assert [p for p in quick.history if p["kind"] == "eval"] == []
    assert "not evaluated (evaluate=False)" in quick.headline()
    assert predict("the cat sat") in ("a", "b")  # the model is registered all the same
    shown = display_data(quick)
    assert "evaluate before" in shown["text/html"] and "time:" in shown["text/plain"]
    assert quick.model.extra["finetune"]["evaluate"] is False


def test_evaluate_false_honours_an_explicit_split_or_eval_df(bert):
    df = labelled(["a", "b"])
    split = finetune(df, label="label", evaluate=False, val_split=0.25, **FAST)
    held = round(len(df) * 0.25)
    assert (split.train_rows, split.eval_rows, split.held_out) == (len(df) - held, 0, held)
    assert split.record.params["train_rows"] == len(df) - held and split.metrics == {}
    assert f"the {held} rows held out by val_split were not trained on" in split.headline()
    given = finetune(df, label="label", evaluate=False, eval_df=df.head(4), **FAST)
    assert (given.train_rows, given.eval_rows, given.held_out, given.eval_source) == (len(df), 0, 0, "eval_df")


def test_background_run_can_be_stopped_and_waited_for(bert):
    run = finetune(labelled(["a", "b"]), label="label", epochs=20, batch_size=2, max_length=16,
                   background=True)
    assert isinstance(run, FinetuneRun) and "in the background" in display_data(run)["text/html"]
    run.stop()
    result = run.wait()
    assert run.done and result.status == "stopped" and result.steps < result.total_steps
    assert result.name in registry


def test_names_and_families_are_checked(bert, gpt2):
    df = labelled(["a", "b"])
    with pytest.raises(BadArgumentError, match="'gpt2' is already used"):
        finetune(df, label="label", model="bert", as_="gpt2", **FAST)
    first = finetune(df, label="label", model="bert", **FAST)
    second = finetune(df, label="label", model="bert", **FAST)
    assert (first.name, second.name) == ("bert-ft", "bert-ft-2")  # re-running keeps the first
    with pytest.raises(BadArgumentError, match="epochs must be above 0"):
        finetune(df, label="label", model="bert", epochs=0)


def test_output_dir_holds_the_model_and_a_run_card(bert, tmp_path):
    import fmwidgets as fm

    out = tmp_path / "tuned"
    result = finetune(labelled(["neg", "pos"]), label="label", output_dir=str(out), **FAST)
    card = json.loads((out / "fmwidgets_run.json").read_text())
    assert card["labels"] == ["neg", "pos"] and card["metrics"]["accuracy"] == result.metrics["accuracy"]
    assert card["record"]["params"]["epochs"] == 1 and card["record"]["data"]["sha256"]
    assert card["record"]["versions"]["transformers"]
    reloaded = fm.load(str(out), as_="reloaded")
    assert reloaded.head == "classification"
    assert predict("the cat sat on the mat", model="reloaded") in ("neg", "pos")


@pytest.mark.parametrize("evaluate", [True, False])
def test_exported_script_runs_one_step(bert, tmp_path, evaluate):
    """The script trains the same rows as the notebook run; with evaluate=False it trains every row
    and skips its final evaluation too."""
    script = tmp_path / "train_bert.py"
    result = finetune(labelled(["neg", "pos"]), label="label", export_script=str(script), lora=True,
                      evaluate=evaluate, **FAST)
    assert result.script == str(script)
    assert (tmp_path / "train_bert.train.jsonl").read_text().count("\n") == result.train_rows
    assert result.train_rows == (19 if evaluate else len(CORPUS))
    env = dict(os.environ, HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="")
    run = subprocess.run([sys.executable, str(script), "--max-steps", "1", "--output-dir", str(tmp_path / "o")],
                         capture_output=True, text=True, env=env, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads(run.stdout.strip().splitlines()[-1])
    assert metrics["train"]["epoch"] > 0
    assert ("eval_loss" in metrics["eval"]) if evaluate else metrics["eval"] is None
    assert (tmp_path / "o" / "config.json").exists()
