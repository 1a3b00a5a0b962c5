"""What a fine-tuning run gives back: ``FinetuneResult`` (the tuned model's name, metrics before
and after, the loss history) and ``FinetuneTimings``.  How it looks is render/training.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...records import RunRecord
from ...render import Recorded
from ...render.training import finetune_bundle
from ..models.registry import ModelHandle, get_model


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
class FinetuneResult(Recorded, look=finetune_bundle):
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
    record: RunRecord = field(default=None)  # type: ignore[assignment]  # set by FinetuneJob._finish

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
