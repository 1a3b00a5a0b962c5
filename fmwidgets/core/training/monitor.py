"""What a live training view gets told, and how it asks training to stop.

Core cannot import ipywidgets, so the live view (widgets/training.py) plugs in through this
small interface: training calls the ``on_*`` methods (with a ``TrainingInfo`` at the start and
a ``TrainingPoint`` per logged point), and the view sets ``stop_event`` (a Stop button) to end
training after the current step.  A plain script can subclass it to print progress; the base
class does nothing.

A waiting ``fm.finetune`` trains in the calling thread (torch's OpenMP threads spin less in a
second thread's pool, which made training there up to a third slower on a quiet CPU), so a
view hears its Stop button inside ``attending()``; a background run trains in its own thread
and the cell that calls ``FinetuneRun.wait()`` blocks in ``wait()``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingInfo:
    """What is about to be trained, told to the monitor before the first step."""

    name: str  # the tuned model's name
    base: str
    task: str
    reason: str  # why this task (given, or inferred from the label column)
    total_steps: int
    epochs: float
    train_rows: int
    eval_rows: int
    curves: tuple[str, ...] = ()  # training values logged beside the loss (a DPO run's reward margin)


@dataclass(frozen=True)
class TrainingPoint:
    """One logged point: ``kind`` "train" (``values``: loss) or "eval" (eval_loss and metrics)."""

    kind: str
    step: int
    epoch: float
    values: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The point as one row of ``FinetuneResult.history`` (kind, step, epoch, then values)."""
        return {"kind": self.kind, "step": self.step, "epoch": self.epoch, **self.values}


class TrainingMonitor:
    """Receives training progress; ``request_stop()`` ends training after the current step."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()

    def request_stop(self) -> None:
        self.stop_event.set()

    def on_start(self, info: TrainingInfo) -> None:
        """Before the first step."""

    def on_step(self, step: int, total: int, epoch: float, elapsed: float) -> None:
        """After each optimizer step (``elapsed``: seconds since training started)."""

    def on_log(self, point: TrainingPoint) -> None:
        """A logged point (training loss, or an evaluation's loss and metrics)."""

    def on_end(self, result: Any) -> None:
        """After training and the final evaluation, with the FinetuneResult."""

    def on_fail(self, error: BaseException) -> None:
        """Training or evaluation raised ``error`` (the waiting call re-raises it, explained)."""

    @contextlib.contextmanager
    def attending(self) -> Iterator[None]:
        """Around a run that trains in this thread: a widget makes its Stop button heard here."""
        yield

    def wait(self, finished: threading.Event) -> None:
        """Block the waiting cell until ``finished`` is set; a widget pumps UI events here."""
        while not finished.wait(0.1):
            pass
