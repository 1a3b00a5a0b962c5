"""One fine-tuning run: the Trainer callback, the job (here, in a thread, or on Ray Train), the
background run, and how a run ends (its result, its error explained, its warnings).

A job trains whatever Trainer trainer.py builds for its plan, so the live curve, Stop, an
interrupt, the evaluations and registering the tuned model are the same for every method.
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
from typing import Any, Iterator

from ...engines import Engine
from ...errors import OutOfMemoryError
from ...notices import FMWarning
from ...records import RunRecord
from ...render import Recorded
from ...render.training import finetune_run_bundle
from ..models.registry import ModelHandle, registry
from ..targets import writable_folder
from .checks import release_name
from .data import TrainingData
from .export_script import TrainingPlan, script_files
from .metrics import classification_metrics, perplexity, regression_metrics, scalar_metrics
from .monitor import TrainingInfo, TrainingMonitor, TrainingPoint
from .preference import CURVES, reward_values
from .result import FinetuneResult, FinetuneTimings
from .settings import FinetuneSettings
from .trainer import build_trainer

# One Trainer at a time (see FinetuneJob.run): Trainers share accelerate's state and torch's generator.
_TRAINING_LOCK = threading.Lock()


def _lap(start: float) -> tuple[float, float]:
    """(seconds since ``start``, now): one part of a run timed, the next one's start."""
    now = time.perf_counter()
    return now - start, now


def np_finite(values: Any) -> bool:
    import numpy as np

    return bool(np.isfinite(np.asarray(values, dtype=float)).all())


# --------------------------------------------------------------------------------------------
# The Trainer callback: progress to the monitor, Stop to the Trainer


def callback_class():
    from transformers import TrainerCallback

    class MonitorCallback(TrainerCallback):
        """Feeds a TrainingMonitor and the run's history; stops when the stop event is set."""

        def __init__(self, job: "FinetuneJob") -> None:
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


class FinetuneJob:
    """A prepared run: its settings and plan, the data, and what happens after training.

    ``params`` are the record's parameters, with what the run resolved (the tuned model's name,
    the learning rate, the exported script's path); the tuned model keeps them too.
    """

    def __init__(
        self,
        base: ModelHandle,
        data: TrainingData,
        settings: FinetuneSettings,
        plan: TrainingPlan,
        params: dict,
        monitor: TrainingMonitor,
        name: str,
        record: RunRecord,
    ) -> None:
        self.base, self.data, self.settings, self.plan = base, data, settings, plan
        self.params, self.monitor, self.name, self.record = params, monitor, name, record
        self.stop = monitor.stop_event
        self.interrupted = False
        self.history: list[dict[str, Any]] = []
        self.steps = self.total_steps = 0
        self.started = time.perf_counter()
        self.result: FinetuneResult | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()  # set when run() returns, whatever happened
        self.trainer: Any = None  # transformers.Trainer (or one of its kind), built in run()
        self.save_error: str | None = None
        self.timings = FinetuneTimings()

    def info(self) -> TrainingInfo:
        return TrainingInfo(
            name=self.name,
            base=self.base.name,
            task=self.data.task,
            reason=self.data.task_reason,
            total_steps=self.total_steps,
            epochs=self.settings.epochs,
            train_rows=len(self.data.train_texts),
            eval_rows=self.eval_rows,
            curves=CURVES.get(self.plan.method, ()),
        )

    @property
    def eval_rows(self) -> int:
        """How many rows are evaluated: none when evaluate=False."""
        return len(self.data.eval_texts) if self.settings.evaluate else 0

    def log(self, state, logs: dict[str, Any]) -> None:
        values: dict[str, float] = {}
        if "loss" in logs:
            kind, values["loss"] = "train", float(logs["loss"])
            values.update(reward_values(logs))  # a preference run's reward margin and accuracy
        elif "eval_loss" in logs and self.plan.method != "supervised":
            kind = "eval"
            values = {"eval_loss": float(logs["eval_loss"]), **reward_values(logs, "eval_")}
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
        if kind == "eval" and any(p["kind"] == "eval" and p["step"] == point.step for p in self.history):
            return  # the evaluation after training, of the weights the last epoch's already scored
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
                self.trainer = build_trainer(
                    self.plan, self.base, self.data, scratch, [callback_class()(self)]
                )
                timings.prepare, clock = _lap(clock)
                before: dict[str, float] = {}
                if self.settings.evaluate:
                    before = self._evaluate_before()
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
            release_name(self.name)
            self.finished.set()

    def _train(self):
        """Train ``self.trainer.model`` (here, in this thread; engines/ray_train.py on Ray workers)."""
        return self.trainer.train()

    def _evaluate_before(self) -> dict[str, float]:
        """The metrics of the weights training starts from (those ``_evaluate_after`` reports)."""
        if self.plan.method != "supervised":
            return self._preference_scores()
        return self._evaluate_loss_only() if self.data.task == "causal-lm" else self._scores()

    def _preference_scores(self) -> dict[str, float]:
        """Loss, reward margin and accuracy, log-probability margin on the evaluation rows."""
        out = self.trainer.evaluate()
        return {"loss": float(out["eval_loss"]), **reward_values(out, "eval_")}

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
        if self.settings.evaluate:
            metrics, extra, finite = self._evaluate_after()
            timings.evaluate_after, clock = _lap(clock)
        else:  # no evaluation: the last training loss tells whether it diverged
            losses = [p["loss"] for p in self.history if p["kind"] == "train"]
            finite = not losses or math.isfinite(losses[-1])
        if not finite:
            status = "diverged"
        if self.plan.lora is not None:
            net = net.merge_and_unload()
            net.eval()
        vars(net).pop("forward", None)  # TRL patches forward on the instance; keep the class's
        handle = self._register(net)
        output_dir = None
        if self.settings.output_dir:
            try:
                output_dir = self._save(handle, metrics, self.settings.output_dir)
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
            evaluated=self.settings.evaluate,
            record=self.record,
            **extra,
        )

    def _evaluate_after(self) -> tuple[dict[str, float], dict[str, Any], bool]:
        """(metrics, per-row results for the result, whether loss and predictions are finite)."""
        data, trainer = self.data, self.trainer
        if self.plan.method != "supervised" or data.task == "causal-lm":
            metrics = self._evaluate_before()
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
            head=data.head,
            device=base.device,
            dtype=str(net.dtype).replace("torch.", ""),
            commit=base.commit,
            source="tuned",
            revision=base.revision,
            base=base.name,
            extra={
                "labels": list(data.classes),
                "max_length": self.plan.max_length,
                "finetune": dict(self.params),
            },
        )
        return registry.add(handle)

    def _save(self, handle: ModelHandle, metrics: dict, output_dir: str) -> str:
        import json

        folder = writable_folder(output_dir, "--output-dir", overwrite=True)
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


class RayTrainJob(FinetuneJob):
    """A fine-tuning run whose training step runs on Ray Train workers (engines/ray_train.py)."""

    def __init__(self, *args: Any, where: Engine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address, self.workers = where.address, where.workers

    def _train(self) -> Any:
        from ...engines.ray_train import train_on_ray

        script, files = script_files(self.plan, self.data.rows("train"), self.data.rows("eval"))
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


class FinetuneRun(Recorded, look=finetune_run_bundle):
    """A fine-tuning run in its own thread: ``stop()``, ``wait()`` -> FinetuneResult, ``done``.

    ``fm.finetune(..., background=True)`` returns one at once; a kernel interrupt while its
    ``wait()`` blocks stops training after the current step.  It looks like render/training.py says.
    """

    def __init__(self, job: FinetuneJob) -> None:
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


def run_here(job: FinetuneJob) -> FinetuneResult:
    """Train in the calling thread (as a plain Trainer would), the monitor attending to its Stop
    button, and a kernel interrupt (SIGINT) stopping training after the current step."""
    with job.monitor.attending(), _interrupt_stops(job):
        job.run()
    return _outcome(job)


@contextlib.contextmanager
def _interrupt_stops(job: FinetuneJob) -> Iterator[None]:
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


def _outcome(job: FinetuneJob) -> FinetuneResult:
    """The finished job's result, its error explained, or its warnings (diverged, not saved)."""
    if job.error is not None:
        raise _explain(job.error, job) from job.error
    result = job.result
    assert result is not None  # run() sets a result or an error
    if result.status == "diverged":
        warnings.warn(
            f"Training '{result.name}' diverged: its loss or predictions became NaN or infinite, so "
            f"its metrics are NaN (the model is kept as '{result.name}'); lower --lr (it was "
            f"{job.settings.learning_rate:g}) or check the labels.",
            FMWarning,
            stacklevel=3,
        )
    if job.save_error is not None:
        warnings.warn(
            f"'{result.name}' is loaded but could not be saved to "
            f"'{job.settings.output_dir}' ({job.save_error}); save it with "
            "result.model.model.save_pretrained(FOLDER).",
            FMWarning,
            stacklevel=3,
        )
    return result


def _explain(exc: BaseException, job: FinetuneJob) -> BaseException:
    text = str(exc).lower()
    if type(exc).__name__ in ("OutOfMemoryError", "MemoryError") or "out of memory" in text:
        return OutOfMemoryError(
            f"Training '{job.name}' ran out of memory at step {job.steps}; lower --batch-size or "
            "--max-length, or train adapters only with --lora."
        )
    return exc
