"""Preference tuning of the tiny GPT-2 through real TRL: DPO raises the chosen answers'
log-probability margin, KTO moves it the way the labels say, Stop and interrupt keep the model,
and every bad input is one sentence before any model is copied."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.evaluation.preferences import pairs_of, preferences
from fmwidgets.core.models.registry import registry
from fmwidgets.core.training.finetune import run_finetune as finetune
from fmwidgets.core.training.monitor import TrainingMonitor
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError
from fmwidgets.notices import FMWarning

SUBJECTS = ["the cat", "a dog", "my friend", "the bird", "our teacher", "the child", "a man", "the girl"]
PAIRS = pd.DataFrame({
    "prompt": [f"Where is {s}?" for s in SUBJECTS],
    "chosen": [f" {s} sat on the mat" for s in SUBJECTS],
    "rejected": [f" {s} ran to the park" for s in SUBJECTS],
})
# what TESTING.md found to learn in well under a minute on this model
LEARN = dict(epochs=8, lr=5e-3, batch_size=4, max_length=32, val_split=0)


def logp(handle, prompt: str, answer: str) -> float:
    """log p(answer | prompt) under the model, summed over the answer's tokens."""
    tokenizer, net = handle.tokenizer, handle.model
    context, tokens = tokenizer(prompt)["input_ids"], tokenizer(answer)["input_ids"]
    with torch.no_grad():
        scores = net(torch.tensor([context + tokens])).logits.log_softmax(-1)[0]
    return sum(scores[len(context) + i - 1, t].item() for i, t in enumerate(tokens))


def margin(handle, rows, good: str = "chosen", bad: str = "rejected") -> float:
    """Mean log p(good) - log p(bad) over the rows."""
    gaps = [logp(handle, r["prompt"], r[good]) - logp(handle, r["prompt"], r[bad]) for r in rows.to_dict("records")]
    return sum(gaps) / len(gaps)


def weights(handle):
    return {k: v.detach().clone() for k, v in handle.model.state_dict().items()}


class Recorder(TrainingMonitor):
    """Keeps what the live view is told; asks to stop at ``stop_at`` like its Stop button."""

    def __init__(self, stop_at: int | None = None) -> None:
        super().__init__()
        self.stop_at, self.info, self.steps, self.points = stop_at, None, [], []

    def on_start(self, info):
        self.info = info

    def on_step(self, step, total, epoch, elapsed):
        self.steps.append(step)
        if self.stop_at is not None and step >= self.stop_at:
            self.request_stop()

    def on_log(self, point):
        self.points.append(point.row())


def test_dpo_raises_the_margin_of_the_chosen_answers_and_keeps_the_base(gpt2):
    before, start = weights(gpt2), margin(gpt2, PAIRS)
    monitor = Recorder()
    result = fm.finetune(PAIRS, model="gpt2", method="dpo", beta=0.1, monitor=monitor, **LEARN)

    assert result.status == "finished" and result.task == "dpo" and result.name == "gpt2-ft"
    tuned = registry.get("gpt2-ft")
    assert tuned.head == "causal-lm" and tuned.base == "gpt2" and tuned.model is not gpt2.model
    assert "forward" not in vars(tuned.model)  # TRL's fused-head patch does not stay on the model
    assert margin(tuned, PAIRS) > start + 0.5
    after = weights(gpt2)
    assert all(torch.equal(before[k], after[k]) for k in before)  # the base (and reference) is untouched
    assert margin(gpt2, PAIRS) == pytest.approx(start)
    assert result.record.params["lora"] is True and result.record.params["method"] == "dpo"  # LoRA by default
    assert result.record.params["columns"] == {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}

    assert monitor.info.curves == ("reward_margin", "reward_accuracy") and monitor.info.task == "dpo"
    train = [p for p in monitor.points if p["kind"] == "train"]
    assert train and all({"loss", "reward_margin", "reward_accuracy"} <= set(p) for p in train)
    assert train[-1]["reward_margin"] > train[0]["reward_margin"]
    # before / after on the evaluation rows (the training pairs, val_split=0): the reference is the base
    assert result.before["reward_margin"] == pytest.approx(0.0, abs=1e-6)
    assert result.before["loss"] == pytest.approx(0.6931, abs=1e-3)  # log 2: no preference yet
    assert result.metrics["reward_margin"] > 0 and result.metrics["reward_accuracy"] == 1.0
    assert result.metrics["logp_margin"] > result.before["logp_margin"]
    reply = fm.generate("Where is the cat?", model="gpt2-ft", max_new_tokens=3, stream=False)
    assert isinstance(reply.text, str)


def test_full_dpo_against_a_frozen_copy_with_named_columns_and_an_evaluation_frame(gpt2):
    rows = PAIRS.rename(columns={"prompt": "question", "chosen": "good", "rejected": "bad"})
    held_out = rows.iloc[:3].assign(question=lambda d: d["question"].str.replace("Where", "Where now"))
    result = finetune(rows, model="gpt2", method="dpo", prompt="question", chosen="good", rejected="bad",
                      lora=False, eval_df=held_out, **{**LEARN, "val_split": None})
    assert result.record.params["lora"] is False and result.eval_source == "eval_df" and result.eval_rows == 3
    assert set(result.metrics) == set(result.before) == {"loss", "reward_margin", "reward_accuracy", "logp_margin"}
    assert result.metrics["loss"] < result.before["loss"]
    assert margin(result.model, PAIRS) > margin(gpt2, PAIRS) + 0.5


def test_kto_moves_the_margin_the_way_the_labels_say(gpt2):
    good, bad = PAIRS["chosen"].tolist(), PAIRS["rejected"].tolist()
    rated = pd.DataFrame({
        "prompt": PAIRS["prompt"].tolist() * 2,
        "answer": good + bad,
        "ok": [True] * 8 + [False] * 8,
    }).sample(frac=1, random_state=0)
    start = margin(gpt2, PAIRS)
    monitor = Recorder()
    result = finetune(rated, model="gpt2", method="kto", completion="answer", label="ok", monitor=monitor, **LEARN)
    assert result.task == "kto" and monitor.info.curves == ("reward_margin",)
    assert margin(result.model, PAIRS) > start + 0.5  # the good answers gained on the bad ones
    # the other way round: labels flipped, the margin falls
    flipped = finetune(rated.assign(ok=lambda d: ~d["ok"]), model="gpt2", method="kto", completion="answer",
                       label="ok", **LEARN)
    assert margin(flipped.model, PAIRS) < start - 0.5


def test_a_review_of_pairs_becomes_the_dpo_training_set(gpt2):
    table = pd.DataFrame({"question": PAIRS["prompt"], "left": PAIRS["rejected"], "right": PAIRS["chosen"]})
    review = pairs_of(table, a="left", b="right", input="question", name="mat or park")
    for row in range(len(table)):
        review.prefer(row, "b" if row != 3 else "tie")
    data = preferences(review)
    assert len(data) == 7 and data.ties == 1
    result = finetune(data, model="gpt2", method="dpo", **LEARN)
    assert margin(result.model, data) > margin(gpt2, data) + 0.5
    with pytest.raises(BadArgumentError, match="method='dpo'"):
        finetune(data, model="gpt2")  # preference data and the default (supervised) method


def test_only_ties_leave_nothing_to_train_on(gpt2):
    table = pd.DataFrame({"question": PAIRS["prompt"], "left": PAIRS["rejected"], "right": PAIRS["chosen"]})
    review = pairs_of(table, a="left", b="right", input="question", name="all ties")
    for row in range(3):
        review.prefer(row, "tie")
    with pytest.raises(DataError, match=r"Every verdict of 'all ties' is a tie \(3\)"):
        preferences(review)


def test_stop_keeps_the_preference_tuned_model(gpt2):
    monitor = Recorder(stop_at=2)
    result = finetune(PAIRS, model="gpt2", method="dpo", monitor=monitor, **{**LEARN, "batch_size": 2})
    assert result.status == "stopped" and result.steps == 2 < result.total_steps
    assert registry.get("gpt2-ft").head == "causal-lm"


class InterruptAt(Recorder):
    """Sends the process a real SIGINT (a kernel interrupt) instead of pressing Stop."""

    def request_stop(self):
        if not getattr(self, "sent", False):
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


def test_a_kernel_interrupt_stops_dpo_and_keeps_the_model(gpt2):
    result = finetune(PAIRS, model="gpt2", method="dpo", monitor=InterruptAt(stop_at=2), as_="interrupted",
                      **{**LEARN, "batch_size": 2})
    assert result.status == "interrupted" and 2 <= result.steps < result.total_steps
    assert registry.get("interrupted").head == "causal-lm"


def test_chosen_equal_to_rejected_is_dropped_with_a_count(gpt2):
    rows = PAIRS.copy()
    rows.loc[[1, 5], "rejected"] = rows.loc[[1, 5], "chosen"]
    with pytest.warns(FMWarning, match="Dropped 2 of 8 rows whose chosen and rejected texts are the same"):
        result = finetune(rows, model="gpt2", method="dpo", epochs=1, batch_size=4, max_length=32, val_split=0)
    assert result.train_rows == 6


def test_blank_answers_are_skipped_with_a_warning(gpt2):
    rows = PAIRS.copy()
    rows.loc[2, "chosen"] = "  "
    with pytest.warns(FMWarning, match="Skipped 1 of 8 rows whose 'chosen' is empty"):
        result = finetune(rows, model="gpt2", method="dpo", epochs=1, batch_size=4, max_length=32, val_split=0)
    assert result.train_rows == 7


BAD = [
    (dict(df=PAIRS.drop(columns=["chosen", "rejected"])), DataError,
     r"no column 'chosen', 'rejected'; its columns are 'prompt'"),
    (dict(df=PAIRS.assign(rejected=None)), DataError, r"Every row of column 'rejected' is empty or NaN"),
    (dict(df=PAIRS.assign(rejected=PAIRS["chosen"])), DataError, r"the chosen text equals the rejected one"),
    (dict(beta=0), BadArgumentError, r"beta"),
    (dict(beta=-1.0), BadArgumentError, r"beta"),
    (dict(method="ppo"), BadArgumentError, r"'ppo' is not a fine-tuning method; use one of supervised, dpo, kto"),
    (dict(method="kto", df=PAIRS), DataError, r"no column 'completion', 'label'"),
    (dict(method="kto", df=PAIRS.assign(completion="x", label="yes")), DataError, r"True / False \(or 1 / 0\)"),
    (dict(method="kto", batch_size=1, df=PAIRS.assign(completion="x", label=True)), BadArgumentError,
     r"batch_size 2 or more"),
    (dict(val_split=1.5), BadArgumentError, r"val_split must be a fraction"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD)
def test_bad_preference_inputs_are_one_sentence_before_any_copy(gpt2, change, error, message):
    before = weights(gpt2)
    call = {"df": PAIRS, "model": "gpt2", "method": "dpo", "epochs": 1, **change}
    with pytest.raises(error, match=message) as caught:
        finetune(call.pop("df"), **call)
    text = str(caught.value)
    assert "\n" not in text and text.endswith(".")  # one sentence
    assert registry.names() == ["gpt2"]
    assert all(torch.equal(v, weights(gpt2)[k]) for k, v in before.items())


def test_a_preference_method_on_an_encoder_is_refused(bert):
    with pytest.raises(WrongFamilyError, match="Model 'bert' is an encoder and method='dpo'"):
        finetune(PAIRS, model="bert", method="dpo")
    assert registry.names() == ["bert"]


def test_rated_completions_ask_for_kto_and_pairs_for_dpo(gpt2, isolated_store):
    table = pd.DataFrame({"question": PAIRS["prompt"], "left": PAIRS["rejected"], "right": PAIRS["chosen"]})
    review = pairs_of(table, a="left", b="right", input="question", name="pairs")
    review.prefer(0, "b")
    with pytest.raises(BadArgumentError, match="holds pairs .* which method='dpo' trains on"):
        finetune(preferences(review), model="gpt2", method="kto")


@pytest.mark.parametrize(("call", "message"), [
    (dict(method="kto", chosen="good"), r"method='kto' does not read chosen= \(it reads label=, prompt=, completion=\)"),
    (dict(method="dpo", text="review"), r"method='dpo' does not read text="),
    (dict(method="dpo", label="ok", completion="answer"), r"does not read label=, completion="),
    (dict(prompt="question"), r"method='supervised' does not read prompt="),
])
def test_column_keywords_the_method_never_reads_are_refused(gpt2, call, message):
    with pytest.raises(BadArgumentError, match=message):
        finetune(PAIRS, model="gpt2", **call)
    assert registry.names() == ["gpt2"]
