"""``fm.finetune(..., engine="ray", workers=2)`` trains on a real local Ray Train cluster.

One 2-CPU Ray is started for the module (or the one another module started is reused, or the
cluster at RAY_ADDRESS); each run costs ~30-60 s on 2 idle cores (~3 min on a loaded machine),
so the data is tiny and there is one epoch.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.training.monitor import TrainingMonitor
from fmwidgets.errors import BadArgumentError

ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: pip install 'fmwidgets[ray]'")

ROWS = pd.DataFrame({"text": [f"{w} review number {i}" for i in range(8) for w in ("good", "bad")],
                     "label": ["pos", "neg"] * 8})


@pytest.fixture(scope="module", autouse=True)
def cluster():
    from fmwidgets.engines import ray_address
    from fmwidgets.engines.ray import connect

    started = not ray.is_initialized()
    connect(ray_address(None))  # RAY_ADDRESS (a running cluster) when set, else a local Ray
    yield
    if started:
        ray.shutdown()


class Recorder(TrainingMonitor):
    """Keeps what the live curve would be told; optionally asks to stop after the first step."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.stop_after, self.starts, self.steps, self.points = stop_after, [], [], []

    def on_start(self, info):
        self.starts.append(info)

    def on_step(self, step, total, epoch, elapsed):
        self.steps.append((step, total))
        if self.stop_after is not None and step >= self.stop_after:
            self.request_stop()

    def on_log(self, point):
        self.points.append(point.row())


def test_finetune_on_ray_registers_a_tuned_model_and_feeds_the_curve(bert):
    monitor = Recorder()
    before = {k: v.detach().clone() for k, v in bert.model.state_dict().items()}
    result = fm.finetune(ROWS, label="label", model="bert", epochs=1, batch_size=2, max_length=16,
                         engine="ray", workers=2, monitor=monitor, seed=0)
    assert result.name == "bert-ft" and result.status == "finished"
    assert result.record.params["engine"] == "ray" and result.record.params["workers"] == 2
    assert monitor.starts and monitor.steps[-1] == (result.steps, result.total_steps)
    assert result.steps == result.total_steps == len(monitor.steps) > 0
    # data-parallel: each of the 2 workers steps through half of the batches of 2 (alone: all of them);
    # the workers also checked that they ended with equal weights, or the run would have failed
    assert result.total_steps == math.ceil(result.train_rows / (2 * 2)) < math.ceil(result.train_rows / 2)
    losses = [p["loss"] for p in monitor.points if p["kind"] == "train"]
    assert losses and all(loss > 0 for loss in losses)
    assert [p for p in result.history if p["kind"] == "train"] == \
        [p for p in monitor.points if p["kind"] == "train"]
    tuned = result.model
    encoder = "bert.embeddings.word_embeddings.weight"
    assert not tuned.model.state_dict()[encoder].equal(before[encoder])  # the weights came back from Ray
    assert set(fm.predict(["good review", "bad review"], model="bert-ft")) <= {"pos", "neg"}
    assert set(result.metrics) >= {"loss", "accuracy", "f1_macro"}


def test_stop_ends_the_ray_job_and_keeps_the_weights(bert):
    monitor = Recorder(stop_after=1)
    result = fm.finetune(ROWS, label="label", model="bert", epochs=3, batch_size=2, max_length=16,
                         engine="ray", workers=2, monitor=monitor, seed=0, as_="bert-stopped")
    assert result.status == "stopped" and result.steps < result.total_steps
    assert fm.predict("good review", model="bert-stopped") in {"pos", "neg"}


def test_vllm_cannot_fine_tune(bert):
    with pytest.raises(BadArgumentError, match="generation only"):
        fm.finetune(ROWS, label="label", model="bert", engine="vllm")


def test_dpo_on_ray_train_raises_the_margin_and_feeds_the_reward_curve(gpt2):
    subjects = ["the cat", "a dog", "my friend", "the bird", "our teacher", "the child", "a man", "the girl"]
    pairs = pd.DataFrame({"prompt": [f"Where is {s}?" for s in subjects],
                          "chosen": [f" {s} sat on the mat" for s in subjects],
                          "rejected": [f" {s} ran to the park" for s in subjects]})
    monitor = Recorder()
    result = fm.finetune(pairs, model="gpt2", method="dpo", epochs=4, lr=5e-3, batch_size=2, max_length=32,
                         val_split=0, engine="ray", workers=2, monitor=monitor, seed=0)
    assert result.status == "finished" and result.record.params["engine"] == "ray"
    assert monitor.starts[0].curves == ("reward_margin", "reward_accuracy")
    train = [p for p in monitor.points if p["kind"] == "train"]
    assert train and all("reward_margin" in p for p in train)
    # the weights came back from the workers: the log-probability margin grew on the training pairs
    assert result.metrics["logp_margin"] > result.before["logp_margin"]
    assert result.metrics["reward_accuracy"] > 0.5
