"""Streaming generated text into a notebook output: the live display of ``fm.generate`` (api.py).

``core.prompting.generate.generate_text`` is headless and calls ``on_text`` after every token; here that
callback updates one display area, at most every ``FM.stream_interval`` seconds (0.1 s by
default) so a fast model does not flood the front end with messages.  The text is escaped
before it is shown.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ..config import settings
from ..render.generate import text_bundle


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where outputs can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Throttle:
    """Calls ``show(texts)`` at most every ``interval`` seconds; ``flush()`` shows the last one."""

    def __init__(self, show: Callable[[list[str]], None], interval: float | None = None) -> None:
        self.show = show
        self.interval = settings().stream_interval if interval is None else interval
        self.last = float("-inf")
        self.pending: list[str] | None = None
        self.updates = 0

    def __call__(self, texts: list[str]) -> None:
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last, self.pending = now, None
            self.updates += 1
            self.show(texts)
        else:
            self.pending = texts

    def flush(self) -> None:
        if self.pending is not None:
            self.updates += 1
            self.show(self.pending)
            self.pending = None


class StreamDisplay(Throttle):
    """One output area that shows the text so far, then the finished result (or nothing).

    The area is created with the first token, so a call that fails before generating (a wrong
    model, an empty prompt) leaves no empty output behind.
    """

    def __init__(self, interval: float | None = None) -> None:
        super().__init__(self._update, interval)
        self.handle: Any = None

    def _show(self, data: dict, metadata: dict | None = None) -> None:
        from IPython.display import display

        if self.handle is None:
            self.handle = display(data, metadata=metadata, raw=True, display_id=True)
        else:
            self.handle.update(data, metadata=metadata, raw=True)

    def _update(self, texts: list[str]) -> None:
        self._show(text_bundle(texts, "generating… (interrupt the kernel to stop)"))

    def finish(self, result: Any | None) -> None:
        """Replace the live text by ``result``'s own display (with its record), or clear it."""
        self.pending = None
        if result is not None:
            self._show(*result._repr_mimebundle_())
        elif self.handle is not None:
            self.handle.update({"text/plain": ""}, raw=True)
