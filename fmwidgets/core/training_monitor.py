"""What a live training view gets told, and how it asks training to stop.

Core cannot import ipywidgets, so the live view (widgets/training.py) plugs in through this
small interface: training calls the ``on_*`` methods from its background thread, and the view
sets ``stop_event`` (a Stop button) to end training after the current step.  A plain script
can subclass it to print progress; the base class does nothing.
"""

from __future__ import annotations

import threading
from typing import Any


class TrainingMonitor:
    """Receives training progress; ``request_stop()`` ends training after the current step."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()

    def request_stop(self) -> None:
        self.stop_event.set()

    def on_start(self, info: dict[str, Any]) -> None:
        """Before the first step: task, reason, name, total_steps, epochs, train_rows, eval_rows."""

    def on_step(self, step: int, total: int, epoch: float, elapsed: float) -> None:
        """After each optimizer step (``elapsed``: seconds since training started)."""

    def on_log(self, point: dict[str, Any]) -> None:
        """A logged point: ``kind`` "train" (with ``loss``) or "eval" (eval_loss and metrics)."""

    def on_end(self, result: Any) -> None:
        """After training and the final evaluation, with the FinetuneResult."""

    def on_fail(self, error: BaseException) -> None:
        """Training or evaluation raised ``error`` (the waiting call re-raises it, explained)."""

    def wait(self, finished: threading.Event) -> None:
        """Block the waiting cell until ``finished`` is set; a widget pumps UI events here."""
        while not finished.wait(0.1):
            pass
