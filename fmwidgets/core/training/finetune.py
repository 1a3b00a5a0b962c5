"""Fine-tune a loaded model on a DataFrame: classification, regression or causal-LM, full or LoRA.

``run_finetune()`` is ``fm.finetune`` without its live view (the public function, which adds the
``TrainingView`` in a notebook, is widgets/training.py).  It checks the data (core/training/data.py)
before anything heavy happens, copies the base model with the right head (the base is never
touched), and trains through ``transformers.Trainer`` in the calling thread, where torch's
OpenMP threads run as fast as in a plain Trainer (background=True trains in a thread of its
own).  A Stop button (the monitor's ``stop_event``) or a kernel interrupt ends training cleanly
after the current step.  However training ends (finished, stopped, interrupted) the tuned model
is evaluated and registered under a new name beside the base, so what it learned is never lost.
The same plan can be exported as a standalone script for ``accelerate launch`` / ``torchrun``
(export_script.py).
"""

from __future__ import annotations

import contextlib
import math
import shutil
import signal
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ...engines import Engine
from ...errors import BadArgumentError, OutOfMemoryError, WrongFamilyError
from ...records import Recorded, RunRecord, recorded
from ..arguments import number
from ..data import FMWarning, as_texts, clean_text_list, require_columns
from ..models.loading import auto_class, embedded_model_path
from ..models.registry import ModelHandle, get_model, registry
from ..seeding import set_seed
from ..targets import writable_files, writable_folder
from .data import TrainingData, prepare
from .export_script import TrainingPlan, script_files, write_script
from .metrics import (
    classification_metrics,
    perplexity,
    regression_metrics,
    scalar_metrics,
)
from .monitor import TrainingInfo, TrainingMonitor, TrainingPoint

# peft's defaults cover common architectures (bert: query/value, gpt2: c_attn, llama: q/v...);
# for others every linear layer gets an adapter.
LORA_FALLBACK_TARGETS = "all-linear"
# The learning rate when lr is not given: full fine-tuning, and LoRA adapters (which need more).
DEFAULT_LR = 5e-5
DEFAULT_LORA_LR = 2e-4


@dataclass
class FinetuneTimings:
    """Seconds spent in each part of a run (``evaluate=False`` makes both evaluations 0)."""

    prepare: float = 0.0  # copying the base with the new head, building the Trainer
    evaluate_before: float = 0.0
    train: float = 0.0  # Trainer.train(), with its evaluations at each epoch's end
    evaluate_after: float = 0.0
    register: float = 0.0  # merging adapters, registering, saving to output_dir

    @property
    def total(self) -> float:
        return self.prepare + self.evaluate_before + self.train + self.evaluate_after + self.register


@dataclass
class FinetuneResult(Recorded):
    """What a fine-tuning run produced: the tuned model, metrics, the loss history."""

    name: str  # the tuned model's name in the registry
    base: str  # the base model's name
    task: str
    task_reason: str
    status: str  # "finished" | "stopped" | "interrupted" | "diverged" (loss or predictions not finite)
    metrics: dict[str, float]  # on the evaluation rows after training ({} when evaluate=False)
    before: dict[str, float]  # the same metrics before training
    history: list[dict[str, Any]]
    classes: list = field(default_factory=list)
    per_class: Any = None  # DataFrame (classification)
    confusion: Any = None  # ndarray (classification)
    y_true: list = field(default_factory=list)  # evaluation targets, in the user's label values
    y_pred: list = field(default_factory=list)
    steps: int = 0
    total_steps: int = 0
    seconds: float = 0.0
    samples_per_second: float = 0.0
    train_rows: int = 0  # the rows trained on
    eval_rows: int = 0  # the rows evaluated (0 when evaluate=False)
    eval_source: str = "split"
    held_out: int = 0  # rows of the DataFrame kept out of training by val_split
    output_dir: str | None = None
    script: str | None = None
    timings: FinetuneTimings = field(default_factory=FinetuneTimings)
    evaluated: bool = True  # False: evaluate=False skipped every evaluation
    record: RunRecord = field(default=None)  # type: ignore[assignment]  # set by _Job._finish

    @property
    def model(self) -> ModelHandle:
        """The tuned model's handle (from the registry)."""
        return get_model(self.name)

    def history_frame(self):
        """The logged points as a DataFrame (columns: kind, step, epoch, loss, eval_loss, ...)."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def headline(self) -> str:
        end = {
            "finished": "finished",
            "stopped": "stopped by request",
            "interrupted": "stopped by an interrupt",
            "diverged": "diverged (its loss or predictions are not finite numbers)",
        }[self.status]
        return (
            f"Fine-tuned '{self.base}' as '{self.name}' for {self.task} ({self.task_reason}); "
            f"{end} after {self.steps}/{self.total_steps} steps in {self.seconds:.1f} s, "
            f"{self.train_rows} training rows, "
            + (
                f"{self.eval_rows} evaluation rows"
                + (" (the training rows: no rows were held out)" if self.eval_source == "train" else "")
                if self.evaluated
                else "not evaluated (evaluate=False"
                + (
                    f"; the {self.held_out} rows held out by val_split were not trained on"
                    if self.held_out
                    else ""
                )
                + ")"
            )
            + "."
        )

    def timing_rows(self) -> list[tuple[str, float]]:
        """(part, seconds) for each part of the run, and the total."""
        t = self.timings
        return [
            ("copy the model, build the Trainer", t.prepare),
            ("evaluate before", t.evaluate_before),
            ("train", t.train),
            ("evaluate after", t.evaluate_after),
            ("register and save", t.register),
            ("total", t.total),
        ]

    def metric_rows(self) -> list[tuple[str, str, str]]:
        """(metric, before, after) as display strings."""
        return [(k, _fmt(self.before.get(k)), _fmt(v)) for k, v in self.metrics.items()]


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _lap(start: float) -> tuple[float, float]:
    """(seconds since ``start``, now): one part of a run timed, the next one's start."""
    now = time.perf_counter()
    return now - start, now


# --------------------------------------------------------------------------------------------
# The Trainer callback: progress to the monitor, Stop to the Trainer


def _callback_class():
    from transformers import TrainerCallback

    class MonitorCallback(TrainerCallback):
        """Feeds a TrainingMonitor and the run's history; stops when the stop event is set."""

        def __init__(self, job: "_Job") -> None:
            self.job = job

        def on_train_begin(self, args, state, control, **kwargs):
            self.job.started = time.perf_counter()
            self.job.total_steps = state.max_steps
            self.job.monitor.on_start(self.job.info())

        def on_step_end(self, args, state, control, **kwargs):
            self.job.steps = state.global_step
            elapsed = time.perf_counter() - self.job.started
            self.job.monitor.on_step(state.global_step, state.max_steps, state.epoch or 0.0, elapsed)
            if self.job.stop.is_set():
                control.should_training_stop = True
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.job.log(state, logs or {})

    return MonitorCallback


# --------------------------------------------------------------------------------------------
# One run


class _Job:
    """A prepared run: the Trainer, the data, and what happens after training."""

    def __init__(
        self, base, data: TrainingData, params: dict, monitor: TrainingMonitor, name: str, record: RunRecord
    ) -> None:
        self.base, self.data, self.params, self.monitor = base, data, params, monitor
        self.name, self.record = name, record
        self.stop = monitor.stop_event
        self.interrupted = False
        self.history: list[dict[str, Any]] = []
        self.steps = self.total_steps = 0
        self.started = time.perf_counter()
        self.result: FinetuneResult | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()  # set when run() returns, whatever happened
        self.trainer: Any = None  # transformers.Trainer, built in run()
        self.build: Any = None  # (job, scratch folder) -> Trainer, called in the training thread
        self.save_error: str | None = None
        self.timings = FinetuneTimings()

    def info(self) -> TrainingInfo:
        return TrainingInfo(
            name=self.name,
            base=self.base.name,
            task=self.data.task,
            reason=self.data.task_reason,
            total_steps=self.total_steps,
            epochs=self.params["epochs"],
            train_rows=len(self.data.train_texts),
            eval_rows=self.eval_rows,
        )

    @property
    def eval_rows(self) -> int:
        """How many rows are evaluated: none when evaluate=False."""
        return len(self.data.eval_texts) if self.params["evaluate"] else 0

    def log(self, state, logs: dict[str, Any]) -> None:
        values: dict[str, float] = {}
        if "loss" in logs:
            kind, values["loss"] = "train", float(logs["loss"])
        elif "eval_loss" in logs:
            kind = "eval"
            for key, value in logs.items():
                if key.startswith("eval_") and not key.endswith(("runtime", "per_second", "_time")):
                    values[key[5:] if key != "eval_loss" else key] = float(value)
            if self.data.task == "causal-lm":
                values["perplexity"] = math.exp(min(values["eval_loss"], 700))  # as metrics.perplexity
        else:
            return
        point = TrainingPoint(kind, state.global_step, round(state.epoch or 0.0, 3), values)
        self.history.append(point.row())
        self.monitor.on_log(point)

    def run(self) -> None:
        """Build, evaluate, train, evaluate, register; errors go to ``self.error``.

        Runs hold ``_TRAINING_LOCK`` one at a time: Trainers share accelerate's process-wide
        state and torch's random generator, so a second run queues behind the first.
        """
        scratch = tempfile.mkdtemp(prefix="fm-trainer-")
        timings = self.timings
        try:
            with _TRAINING_LOCK:
                clock = time.perf_counter()
                self.trainer = self.build(self, scratch)
                timings.prepare, clock = _lap(clock)
                before: dict[str, float] = {}
                if self.params["evaluate"]:
                    before = self._evaluate_loss_only() if self.data.task == "causal-lm" else self._scores()
                    timings.evaluate_before, clock = _lap(clock)
                output = self._train()
                timings.train, clock = _lap(clock)
                status = (
                    "interrupted" if self.interrupted else "stopped" if self.stop.is_set() else "finished"
                )
                self.result = self._finish(before, output.metrics, status)
            self.monitor.on_end(self.result)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.error = exc
            self.monitor.on_fail(exc)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)  # the Trainer's scratch
            with _NAMES_LOCK:
                _RESERVED.discard(self.name)
            self.finished.set()

    def _train(self):
        """Train ``self.trainer.model`` (here, in this thread; engines/ray_train.py on Ray workers)."""
        return self.trainer.train()

    def _evaluate_loss_only(self) -> dict[str, float]:
        loss = self.trainer.evaluate()["eval_loss"]
        return {"loss": loss, "perplexity": perplexity(loss)}

    def _scores(self) -> dict[str, float]:
        """Headline metrics of the current weights on the evaluation rows."""
        out = self.trainer.predict(self.trainer.eval_dataset)
        scores = scalar_metrics(self.data.task, out.label_ids, out.predictions, self.data.classes)
        return {"loss": float(out.metrics["test_loss"]), **scores}

    def _finish(self, before: dict, train_metrics: dict, status: str) -> FinetuneResult:
        data, trainer, timings = self.data, self.trainer, self.timings
        net = trainer.model
        net.eval()
        clock = time.perf_counter()
        metrics: dict[str, float] = {}
        extra: dict[str, Any] = {}
        if self.params["evaluate"]:
            metrics, extra, finite = self._evaluate_after()
            timings.evaluate_after, clock = _lap(clock)
        else:  # no evaluation: the last training loss tells whether it diverged
            losses = [p["loss"] for p in self.history if p["kind"] == "train"]
            finite = not losses or math.isfinite(losses[-1])
        if not finite:
            status = "diverged"
        if self.params["lora"]:
            net = net.merge_and_unload()
            net.eval()
        handle = self._register(net)
        output_dir = None
        if self.params["output_dir"]:
            try:
                output_dir = self._save(handle, metrics)
            except OSError as exc:  # the model is registered: keep it, say what was not saved
                self.save_error = f"{exc.strerror or exc}"
        if status == "diverged":
            self.record.params["status"] = "diverged"
        timings.register, clock = _lap(clock)
        return FinetuneResult(
            name=handle.name,
            base=self.base.name,
            task=data.task,
            task_reason=data.task_reason,
            status=status,
            metrics=metrics,
            before=before,
            history=list(self.history),
            classes=list(data.classes),
            steps=self.steps,
            total_steps=self.total_steps,
            seconds=float(train_metrics.get("train_runtime", 0.0)),
            samples_per_second=float(train_metrics.get("train_samples_per_second", 0.0)),
            train_rows=len(data.train_texts),
            eval_rows=self.eval_rows,
            eval_source=data.eval_source,
            held_out=len(data.eval_texts) if data.eval_source == "split" else 0,
            output_dir=output_dir,
            script=self.params["export_script"],
            timings=timings,
            evaluated=self.params["evaluate"],
            record=self.record,
            **extra,
        )

    def _evaluate_after(self) -> tuple[dict[str, float], dict[str, Any], bool]:
        """(metrics, per-row results for the result, whether loss and predictions are finite)."""
        data, trainer = self.data, self.trainer
        if data.task == "causal-lm":
            metrics = self._evaluate_loss_only()
            return metrics, {}, math.isfinite(metrics["loss"])
        out = trainer.predict(trainer.eval_dataset)
        metrics = {"loss": float(out.metrics["test_loss"])}
        if data.task == "classification":
            ids = out.predictions.argmax(-1)
            full = classification_metrics(out.label_ids, ids, data.classes)
            metrics.update(accuracy=full["accuracy"], f1_macro=full["f1_macro"])
            extra = {
                "per_class": full["per_class"],
                "confusion": full["confusion"],
                "y_true": [data.classes[i] for i in out.label_ids],
                "y_pred": [data.classes[i] for i in ids],
            }
        else:
            y_true = [float(v) for v in out.label_ids]
            y_pred = [float(v) for v in out.predictions.reshape(-1)]
            metrics.update(regression_metrics(y_true, y_pred))
            extra = {"y_true": y_true, "y_pred": y_pred}
        return metrics, extra, math.isfinite(metrics["loss"]) and np_finite(out.predictions)

    def _register(self, net) -> ModelHandle:
        base, data = self.base, self.data
        handle = ModelHandle(
            name=self.name,
            model_id=base.model_id,
            family=base.family,
            model=net,
            tokenizer=base.tokenizer,
            processor=base.processor,
            task=data.task,
            head=data.task,
            device=base.device,
            dtype=str(net.dtype).replace("torch.", ""),
            commit=base.commit,
            source="tuned",
            revision=base.revision,
            base=base.name,
            extra={
                "labels": list(data.classes),
                "max_length": self.params["max_length"],
                "finetune": dict(self.params),
            },
        )
        return registry.add(handle)

    def _save(self, handle: ModelHandle, metrics: dict) -> str:
        import json

        folder = writable_folder(self.params["output_dir"], "--output-dir", overwrite=True)
        handle.model.save_pretrained(folder)
        handle.tokenizer.save_pretrained(folder)
        card = {
            "record": self.record.to_dict(),
            "task": self.data.task,
            "labels": self.data.classes,
            "metrics": metrics,
            "steps": self.steps,
            "total_steps": self.total_steps,
        }
        (folder / "fmwidgets_run.json").write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
        return str(folder)


class RayTrainJob(_Job):
    """A fine-tuning run whose training step runs on Ray Train workers."""

    def __init__(
        self, *args: Any, plan: Any, address: str | None, workers: int | None, **kwargs: Any
    ) -> None:
        from ...engines import ray_address

        super().__init__(*args, **kwargs)
        self.plan, self.address, self.workers = plan, ray_address(address), workers

    def _train(self) -> Any:
        from ...engines.ray_train import train_on_ray

        data = self.data
        script, files = script_files(
            self.plan, (data.train_texts, data.train_labels), (data.eval_texts, data.eval_labels)
        )
        return train_on_ray(self, script, files)

    def on_event(self, event: tuple) -> None:
        """One message from rank 0, handled as the local Trainer callback would."""
        import time
        from types import SimpleNamespace

        kind = event[0]
        if kind == "begin":
            self.started, self.total_steps = time.perf_counter(), event[1]
            self.monitor.on_start(self.info())
        elif kind == "step":
            _, self.steps, total, epoch = event
            self.monitor.on_step(self.steps, total, epoch, time.perf_counter() - self.started)
        else:
            _, step, epoch, logs = event
            self.log(SimpleNamespace(global_step=step, epoch=epoch), logs)


class FinetuneRun(Recorded):
    """A fine-tuning run in its own thread: ``stop()``, ``wait()`` -> FinetuneResult, ``done``.

    ``fm.finetune(..., background=True)`` returns one at once; a kernel interrupt while its
    ``wait()`` blocks stops training after the current step.  It looks like render/finetune.py says.
    """

    def __init__(self, job: _Job) -> None:
        self._job = job
        self.record = job.record
        threading.Thread(target=job.run, name=f"fm-finetune-{job.name}", daemon=True).start()

    @property
    def done(self) -> bool:
        return self._job.finished.is_set()

    @property
    def name(self) -> str:
        return self._job.name

    @property
    def steps(self) -> tuple[int, int]:
        """(optimizer steps done, steps planned)."""
        return self._job.steps, self._job.total_steps

    def stop(self) -> None:
        """End training after the current step; the model is kept with what it learned."""
        self._job.stop.set()

    def wait(self) -> FinetuneResult:
        """Block until training and evaluation are over; an interrupt stops training first."""
        # An Event, not Thread.join: a KeyboardInterrupt inside join() can leave the thread
        # marked as finished while it still runs (CPython issue 90882).
        while not self._job.finished.is_set():
            try:
                self._job.monitor.wait(self._job.finished)
            except KeyboardInterrupt:
                self._job.interrupted = True
                self._job.stop.set()
        return _outcome(self._job)


def _run_here(job: _Job) -> FinetuneResult:
    """Train in the calling thread (as a plain Trainer would), the monitor attending to its Stop
    button, and a kernel interrupt (SIGINT) stopping training after the current step."""
    with job.monitor.attending(), _interrupt_stops(job):
        job.run()
    return _outcome(job)


@contextlib.contextmanager
def _interrupt_stops(job: _Job) -> Iterator[None]:
    """While training in the main thread, SIGINT asks the run to stop instead of raising in it."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # other threads never see SIGINT; None: a handler Python cannot put back
        return

    def stop(signum: int, frame: Any) -> None:
        job.interrupted = True
        job.stop.set()

    signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(job: _Job) -> FinetuneResult:
    """The finished job's result, its error explained, or its warnings (diverged, not saved)."""
    if job.error is not None:
        raise _explain(job.error, job) from job.error
    result = job.result
    assert result is not None  # run() sets a result or an error
    if result.status == "diverged":
        warnings.warn(
            f"Training '{result.name}' diverged: its loss or predictions became NaN or infinite, so "
            f"its metrics are NaN (the model is kept as '{result.name}'); lower --lr (it was "
            f"{job.params['lr']:g}) or check the labels.",
            FMWarning,
            stacklevel=3,
        )
    if job.save_error is not None:
        warnings.warn(
            f"'{result.name}' is loaded but could not be saved to "
            f"'{job.params['output_dir']}' ({job.save_error}); save it with "
            "result.model.model.save_pretrained(FOLDER).",
            FMWarning,
            stacklevel=3,
        )
    return result


def _explain(exc: BaseException, job: _Job) -> BaseException:
    text = str(exc).lower()
    if type(exc).__name__ in ("OutOfMemoryError", "MemoryError") or "out of memory" in text:
        return OutOfMemoryError(
            f"Training '{job.name}' ran out of memory at step {job.steps}; lower --batch-size or "
            "--max-length, or train adapters only with --lora."
        )
    return exc


# --------------------------------------------------------------------------------------------
# Building the run


def model_source(handle: ModelHandle) -> str:
    """Where the base weights load from outside this kernel: a folder or a hub id."""
    if handle.source == "embedded":
        return str(embedded_model_path())
    return handle.model_id


def copy_with_head(base: ModelHandle, task: str, classes: list):
    """A fresh float32 copy of ``base``'s current weights with the head ``task`` needs."""
    import torch
    import transformers

    kwargs: dict[str, Any] = {"dtype": torch.float32, "attn_implementation": "eager"}
    if task != "causal-lm":
        kwargs.update(ignore_mismatched_sizes=True, pad_token_id=base.tokenizer.pad_token_id)
        if task == "classification":
            kwargs.update(
                num_labels=len(classes),
                problem_type="single_label_classification",
                id2label={i: str(c) for i, c in enumerate(classes)},
                label2id={str(c): i for i, c in enumerate(classes)},
            )
        else:
            kwargs.update(num_labels=1, problem_type="regression")
    log = transformers.utils.logging
    verbosity, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()  # "newly initialized head" is expected here
    log.disable_progress_bar()
    try:
        with tempfile.TemporaryDirectory(prefix="fm-finetune-") as folder:
            base.model.save_pretrained(folder)
            net = auto_class(task).from_pretrained(folder, **kwargs)
    finally:
        log.set_verbosity(verbosity)
        if bars:
            log.enable_progress_bar()
    return net.to(base.device)


def lora_config(net, task: str, r: int, alpha: int, dropout: float, targets: Any) -> dict[str, Any]:
    """peft LoraConfig keywords; targets None = peft's default for the architecture."""
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as known,
    )

    if targets is None and net.config.model_type not in known:
        targets = LORA_FALLBACK_TARGETS
    return {
        "r": r,
        "lora_alpha": alpha,
        "lora_dropout": dropout,
        "target_modules": targets,
        "task_type": "CAUSAL_LM" if task == "causal-lm" else "SEQ_CLS",
    }


def training_arguments(
    params: dict, seed: int, n_train: int, has_eval: bool, base: ModelHandle
) -> dict[str, Any]:
    """TrainingArguments keywords shared by the notebook run and the exported script."""
    import math

    per_epoch = max(1, math.ceil(math.ceil(n_train / params["batch_size"]) / params["grad_accum"]))
    total = per_epoch * params["epochs"]
    cuda = base.device.startswith("cuda")
    return {
        "num_train_epochs": params["epochs"],
        "learning_rate": params["lr"],
        "per_device_train_batch_size": params["batch_size"],
        "per_device_eval_batch_size": params["batch_size"],
        "gradient_accumulation_steps": params["grad_accum"],
        "warmup_steps": params["warmup"],
        "weight_decay": params["weight_decay"],
        "seed": seed,
        "logging_strategy": "steps",
        "logging_steps": max(1, total // 40),
        "eval_strategy": "epoch" if has_eval else "no",
        "save_strategy": "no",
        "report_to": "none",
        "dataloader_num_workers": 0,
        "bf16": cuda and base.dtype == "bfloat16",
        "fp16": cuda and base.dtype == "float16",
    }


def encode_rows(tokenizer, texts: list[str], labels: list | None, max_length: int) -> list[dict]:
    """Tokenised rows (padding is left to the collator, batch by batch)."""
    enc = tokenizer(texts, truncation=True, max_length=max_length)
    rows = []
    for i in range(len(texts)):
        row = {k: enc[k][i] for k in enc.keys()}
        if labels is not None:
            row["labels"] = labels[i]
        rows.append(row)
    return rows


def _build_trainer(job: _Job, net, args: dict, scratch: str):
    import transformers

    data, tokenizer = job.data, job.base.tokenizer
    max_length = job.params["max_length"]
    collator: Any
    if data.task == "causal-lm":
        collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)
        compute = None
    else:
        collator = transformers.DataCollatorWithPadding(tokenizer)

        def compute(prediction):
            return scalar_metrics(data.task, prediction.label_ids, prediction.predictions, data.classes)

    arguments = transformers.TrainingArguments(
        output_dir=scratch, disable_tqdm=True, use_cpu=job.base.device == "cpu", **args
    )
    trainer = transformers.Trainer(
        model=net,
        args=arguments,
        data_collator=collator,
        train_dataset=encode_rows(tokenizer, data.train_texts, data.train_labels, max_length),
        eval_dataset=encode_rows(tokenizer, data.eval_texts, data.eval_labels, max_length),
        compute_metrics=compute,
        callbacks=[_callback_class()(job)],
    )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # the monitor shows logs
    return trainer


# One Trainer at a time (see _Job.run); the names of runs not yet registered are reserved, so
# two runs of one base become NAME-ft and NAME-ft-2, never one overwriting the other.
_TRAINING_LOCK = threading.Lock()
_NAMES_LOCK = threading.Lock()
_RESERVED: set[str] = set()


def np_finite(values: Any) -> bool:
    import numpy as np

    return bool(np.isfinite(np.asarray(values, dtype=float)).all())


def _reserve_name(base: ModelHandle, as_: str | None) -> str:
    """The tuned model's name, reserved until its run ends (released by _Job.run or on failure)."""
    with _NAMES_LOCK:
        if as_ is None:
            name, i = f"{base.name}-ft", 2
            while name in registry or name in _RESERVED:
                name, i = f"{base.name}-ft-{i}", i + 1
        elif as_ in registry or as_ in _RESERVED:
            raise BadArgumentError(
                f"The name '{as_}' is already used by a loaded model or a running fine-tune; pick another "
                f"--as name, or free it first with %fm unload {as_}."
            )
        else:
            name = as_
        _RESERVED.add(name)
        return name


def check_arguments(
    *,
    epochs,
    lr,
    batch_size,
    max_length,
    warmup,
    weight_decay,
    grad_accum,
    seed,
    lora_r,
    lora_alpha,
    lora_dropout,
) -> None:
    """Every number of a fine-tune, before the data is read or a model copied."""
    number("epochs", epochs, above=0, high=10_000, hint="it is how many passes over the data")
    if lr is not None:
        number(
            "lr",
            lr,
            above=0,
            hint=f"learning rates are small, e.g. {DEFAULT_LR:g} ({DEFAULT_LORA_LR:g} with --lora)",
        )
    for key, value in (
        ("batch_size", batch_size),
        ("max_length", max_length),
        ("grad_accum", grad_accum),
        ("lora_r", lora_r),
    ):
        number(key, value, low=1, integer=True)
    number("warmup", warmup, low=0, hint="a fraction of the steps (below 1) or a number of steps")
    number("weight_decay", weight_decay, low=0)
    number("seed", seed, low=0, high=2**32 - 1, integer=True)
    number("lora_alpha", lora_alpha, above=0)
    number("lora_dropout", lora_dropout, low=0, high=0.99)


def run_finetune(
    df: Any,
    text: str = "text",
    label: str | None = None,
    task: str | None = None,
    *,
    model: "str | ModelHandle | None" = None,
    epochs: float = 3,
    lr: float | None = None,
    batch_size: int = 8,
    max_length: int = 128,
    warmup: float = 0.0,
    weight_decay: float = 0.0,
    grad_accum: int = 1,
    val_split: float | None = None,
    eval_df: Any = None,
    seed: int = 42,
    lora: bool = False,
    lora_r: int = 8,
    lora_alpha: int = 16,
    lora_dropout: float = 0.05,
    lora_targets: "str | list[str] | None" = None,
    as_: str | None = None,
    output_dir: str | None = None,
    export_script: str | None = None,
    overwrite: bool = False,
    strict: bool = False,
    evaluate: bool = True,
    monitor: TrainingMonitor | None = None,
    background: bool = False,
    engine: str | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
) -> "FinetuneResult | FinetuneRun":
    """Fine-tune a copy of ``model`` on ``df`` and register it as ``as_`` (default NAME-ft).

    The task comes from the label column when not given: text or a few integers ->
    classification, other numbers -> regression, no label -> causal-LM (decoders).  Rows are
    split ``val_split`` (default 0.2, stratified by class; 0 = evaluate on the training rows)
    unless ``eval_df`` is given.  ``lr`` defaults to 5e-5, or 2e-4 with ``lora``; ``warmup`` is
    a fraction of the steps (below 1) or a number of steps.  ``monitor`` receives live progress
    (the notebook's ``fm.finetune`` passes the live view); ``background=True`` returns a
    FinetuneRun at once instead of waiting.  Stopping or interrupting keeps the tuned model, and
    so does a run that diverges (status "diverged", NaN metrics).  ``output_dir`` and
    ``export_script`` must be new or empty unless ``overwrite``; both are checked first.
    ``evaluate=False`` skips every evaluation (before, at each epoch's end, after): the result
    has no metrics, ``result.timings`` shows what the evaluations cost otherwise, and every row
    trains (no rows are held out for an evaluation that never runs).  A ``val_split`` or
    ``eval_df`` given explicitly is still honoured with ``evaluate=False``: the training rows
    are then exactly those of the same call with evaluation (what comparing the two timings
    needs, or an ``export_script`` that evaluates later), and ``result.held_out`` says how
    many rows the split kept out of training.  ``result.train_rows`` (and the record's
    ``train_rows``) is how many rows trained.
    ``engine="ray"`` trains on ``workers`` Ray Train workers (data-parallel) at ``ray_address``
    (default: a local Ray); the curve, Stop and the registered model are the same.
    """
    from ...engines.ray_train import check_train_engine

    engine = check_train_engine(engine, workers)
    check_arguments(
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        max_length=max_length,
        warmup=warmup,
        weight_decay=weight_decay,
        grad_accum=grad_accum,
        seed=seed,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
    )
    base = get_model(model, "finetune")
    # Nothing evaluates the held-out rows of the default split when evaluate=False: train on them.
    split = 0 if not evaluate and val_split is None and eval_df is None else val_split
    data = prepare(df, text, label, task, val_split=split, eval_df=eval_df, strict=strict, seed=seed)
    if data.task == "causal-lm" and base.family != "decoder":
        raise WrongFamilyError(
            f"Model '{base.name}' is an {base.family} and cannot learn to continue texts (causal-LM, "
            f"chosen because {data.task_reason}); pass --label COLUMN to train a classifier or "
            "regressor, or load a GPT-style decoder."
        )
    if export_script:
        script = Path(export_script).expanduser()
        writable_files(
            [
                script,
                script.with_name(f"{script.stem}.train.jsonl"),
                script.with_name(f"{script.stem}.eval.jsonl"),
            ],
            "--export-script",
            overwrite=overwrite,
        )
    if output_dir:
        writable_folder(output_dir, "--output-dir", overwrite=overwrite)
    name = _reserve_name(base, as_)
    try:
        lr = lr if lr is not None else (DEFAULT_LORA_LR if lora else DEFAULT_LR)
        params = dict(
            text=text,
            label=label,
            task=data.task,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            max_length=max_length,
            warmup=warmup,
            weight_decay=weight_decay,
            grad_accum=grad_accum,
            val_split=val_split,
            eval_df=eval_df is not None,
            lora=lora,
            lora_r=lora_r,
            lora_alpha=lora_alpha,
            lora_dropout=lora_dropout,
            lora_targets=lora_targets,
            as_=name,
            output_dir=output_dir,
            export_script=export_script,
            overwrite=overwrite,
            strict=strict,
            evaluate=evaluate,
            train_rows=len(data.train_texts),
            **Engine(engine, workers=workers).params(),
        )
        record = RunRecord.for_model("finetune", base, params, seed=seed, data=df)
        lora_kwargs = (
            lora_config(base.model, data.task, lora_r, lora_alpha, lora_dropout, lora_targets)
            if lora
            else None
        )
        args = training_arguments(
            params, seed, len(data.train_texts), evaluate and bool(data.eval_texts), base
        )
        plan = TrainingPlan(
            model=model_source(base),
            task=data.task,
            classes=data.classes,
            max_length=max_length,
            lora=lora_kwargs,
            arguments=args,
            evaluate=evaluate,
        )
        if export_script:
            params["export_script"] = str(
                write_script(
                    export_script,
                    plan,
                    (data.train_texts, data.train_labels),
                    (data.eval_texts, data.eval_labels),
                )
            )
        if engine == "ray":
            job: _Job = RayTrainJob(
                base,
                data,
                params,
                monitor or TrainingMonitor(),
                name,
                record,
                plan=plan,
                address=ray_address,
                workers=workers,
            )
        else:
            job = _Job(base, data, params, monitor or TrainingMonitor(), name, record)
    except BaseException:
        with _NAMES_LOCK:
            _RESERVED.discard(name)
        raise

    def build(job: _Job, scratch: str):
        set_seed(seed)  # the new head's initial weights
        net = copy_with_head(base, data.task, data.classes)
        if lora_kwargs is not None:
            import peft

            net = peft.get_peft_model(net, peft.LoraConfig(**lora_kwargs))
        return _build_trainer(job, net, args, scratch)

    job.build = build
    return FinetuneRun(job) if background else _run_here(job)


# --------------------------------------------------------------------------------------------
# Prediction with a tuned head


@recorded
def predict(
    texts: Any, model: "str | ModelHandle | None" = None, text: str | None = None, batch_size: int = 32
) -> Any:
    """Labels for ``texts`` from a tuned classifier (the user's label values) or regressor.

    ``texts`` is a str (one label back), a list / Series (a Series back, same index), or a
    DataFrame with ``text=`` naming the column.  Blank texts get None (NaN for a regressor).
    """
    import numpy as np
    import pandas as pd
    import torch

    handle = get_model(model, "predict")
    if isinstance(texts, pd.DataFrame) and text is not None:
        require_columns(texts, [text])
        texts = texts[text]
    single = isinstance(texts, str)
    index = texts.index if isinstance(texts, pd.Series) else None
    raw = as_texts(texts, "texts to predict")
    items, positions = clean_text_list(raw, what="texts to predict")
    labels = handle.extra.get("labels") or [
        handle.config.id2label[i] for i in range(handle.config.num_labels)
    ]
    max_length = handle.extra.get("max_length") or min(512, handle.tokenizer.model_max_length)
    outputs = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            batch = handle.tokenizer(
                items[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(handle.device)
            outputs.append(handle.model(**batch).logits.float().cpu().numpy())
    logits = np.concatenate(outputs)
    if handle.head == "regression":
        values = [float(v) for v in logits.reshape(-1)]
    else:
        values = [labels[i] for i in logits.argmax(-1)]
    if single:
        return values[0]
    full: list = [None] * len(raw)
    for pos, value in zip(positions, values):
        full[pos] = value
    dtype = float if handle.head == "regression" else object  # object keeps the user's label types
    return pd.Series(full, index=index, name="prediction", dtype=dtype)
