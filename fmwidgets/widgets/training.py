"""The live fine-tuning view that ``fm.finetune`` (api.py) shows in a notebook.

``TrainingView`` is a ``TrainingMonitor`` (core/training/monitor.py) in two outputs: ipywidgets
for what needs a kernel (a progress bar with ETA and a Stop button), and one plain output for the
pictures (the loss curve, a table with one row per evaluation, and once training ends the result
with its confusion matrix), updated in place through a display handle.  That plain output is
what a saved notebook, nbconvert, GitHub or nbviewer show without a kernel or widget manager;
each figure in it is saved once (``display.figure_html``), and no FigureWidget copy exists.  Its
status line repeats the widget's and is hidden by the widget when the widget renders.  The view
redraws at most every ``interval`` seconds (0.5 s) so a fast GPU does not flood the front end.
While the cell trains (or waits for a background run), a click on Stop is still heard: on
ipykernel >= 7 the button's messages go to a kernel subshell (a thread of its own), on older
kernels jupyter-ui-poll handles pending messages after each step.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from .._compat import kernel_subshells, subshell_route
from ..core.training.monitor import TrainingInfo, TrainingMonitor, TrainingPoint
from ..display import figure_html
from ..plots.training import loss_layout, loss_traces, result_figures
from ..render import display_data
from ..render.training import metrics_table
from .fallback import PlainOutput
from .stream import in_kernel


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


class TrainingView(TrainingMonitor):
    """Progress with ETA, live loss curve, metrics per evaluation, and a Stop button."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__()
        self.interval = interval
        self.header = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, layout=w.Layout(width="50%"))
        self.status = w.Label("starting...")
        self.stop_button = w.Button(
            description="Stop",
            icon="stop",
            button_style="danger",
            tooltip="end training after the current step and keep the model",
        )
        self.stop_button.on_click(lambda _button: self.request_stop())
        self.curves: tuple[str, ...] = ()  # values drawn beside the loss (TrainingInfo.curves)
        self.figure = go.Figure(data=loss_traces([]), layout=loss_layout())
        self.table = ""  # HTML, one row per evaluation
        self.results = ""  # HTML of the result and its figures, once training ends
        self.plain = PlainOutput()
        self.record: Any = None  # the run's RunRecord, once training ends
        self.box = w.VBox(
            [self.header, w.HBox([self.progress, self.status, self.stop_button]), self.plain.hider()]
        )
        self.points: list[dict[str, Any]] = []
        self.draws = 0  # how many times the curve was redrawn (tests check the throttle)
        self._step = (0, 1, 0.0, 0.0)  # step, total, epoch, elapsed
        self._last_draw = float("-inf")
        self._lock = threading.Lock()
        self._poll: Callable[[int], Any] | None = None  # older kernels: handles pending UI messages

    # -- TrainingMonitor ------------------------------------------------------------------------

    def request_stop(self) -> None:
        super().request_stop()
        self.stop_button.disabled = True
        self.status.value = "stopping after the current step..."

    def on_start(self, info: TrainingInfo) -> None:
        e = html.escape
        self.header.value = (
            f"<b>Training '{e(info.name)}'</b> from '{e(info.base)}' for "
            f"<b>{e(info.task)}</b> ({e(info.reason)}): {info.train_rows} training rows, "
            f"{info.eval_rows} evaluation rows, {info.epochs:g} epoch{'' if info.epochs == 1 else 's'}."
        )
        self.progress.max = max(1, info.total_steps)
        if info.curves:  # a preference run: its reward margin and accuracy beside the loss
            self.curves = info.curves
            self.figure = go.Figure(data=loss_traces([], info.curves), layout=loss_layout(curves=info.curves))

    def on_step(self, step: int, total: int, epoch: float, elapsed: float) -> None:
        self._step = (step, total, epoch, elapsed)
        if self._poll is not None:
            self._poll(5)
        self._draw()

    def on_log(self, point: TrainingPoint) -> None:
        with self._lock:
            self.points.append(point.row())
        self._draw(force=point.kind == "eval")

    def on_end(self, result: Any) -> None:
        self._draw(force=True)
        end = {
            "finished": "finished",
            "stopped": "stopped",
            "interrupted": "interrupted",
            "diverged": "diverged (NaN or infinite loss)",
        }[result.status]
        self.progress.bar_style = "success" if result.status == "finished" else "warning"
        self.status.value = f"{end} at step {result.steps}/{result.total_steps} in {_clock(result.seconds)}"
        self.stop_button.disabled = True
        self.record = result.record
        self.results = display_data(result)["text/html"] + "".join(
            figure_html(fig) for fig in result_figures(result)[1:]
        )
        self._publish()

    def on_fail(self, error: BaseException) -> None:
        self.stop_button.disabled = True
        self.progress.bar_style = "danger"
        self.status.value = f"failed at step {self._step[0]}: {type(error).__name__}"
        self._publish()

    @contextlib.contextmanager
    def attending(self) -> Iterator[None]:
        """While this thread trains: Stop clicks go to a subshell, or are polled after each step."""
        if not in_kernel():
            yield
            return
        from IPython import get_ipython

        kernel = get_ipython().kernel
        if kernel_subshells(kernel):
            with subshell_route(kernel, self.stop_button.comm):
                yield
            return
        from jupyter_ui_poll import ui_events  # older kernels: pump their events ourselves

        with ui_events() as poll:
            self._poll = poll
            try:
                yield
            finally:
                self._poll = None

    def wait(self, finished: threading.Event) -> None:
        with self.attending():
            while not finished.wait(0.1):
                if self._poll is not None:
                    self._poll(5)

    # -- drawing --------------------------------------------------------------------------------

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        step, total, epoch, elapsed = self._step
        self.progress.value = min(step, self.progress.max)
        if not self.stop_event.is_set() and step:
            eta = elapsed / step * (total - step)
            self.status.value = (
                f"step {step}/{total} · epoch {epoch:.2f} · {_clock(elapsed)} elapsed · ETA {_clock(eta)}"
            )
        with self._lock:
            points = list(self.points)
        with self.figure.batch_update():
            for shown, line in zip(self.figure.data, loss_traces(points, self.curves)):
                shown.x, shown.y = line.x, line.y
        self.table = metrics_table([p for p in points if p["kind"] == "eval"])
        self.draws += 1
        self._publish()

    def pictures(self) -> dict[str, str]:
        """The plain output: header and status (hidden under a live widget), curve, table, result."""
        e = html.escape
        words = self.plain.hidden_by_widget(f"{self.header.value}<div>{e(self.status.value)}</div>")
        return {
            "text/html": f"<div class='fm-training'>{words}{figure_html(self.figure)}{self.table}"
            f"{self.results}</div>",
            "text/plain": f"<TrainingView: {self.status.value}>",
        }

    def _publish(self) -> None:
        self.plain.update(self.pictures(), self.record)

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.box._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        """The widget (progress, Stop), then the pictures as a plain output updated in place."""
        from IPython.display import display

        display(self.box)
        self.plain.show(self.pictures())
