"""Streaming generated text into a notebook output, and the public ``fm.generate`` around it.

``core.generate`` is headless and calls ``on_text`` after every token; here that callback
updates one display area, at most every ``FM.stream_interval`` seconds (0.1 s by default) so a
fast model does not flood the front end with messages.  The text is escaped before it is shown.
``fm.generate`` / ``fm.generate_df`` are the core functions plus this display (or a progress
bar) when they run inside a Jupyter kernel.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ..config import settings
from ..core import generate as core_generate
from ..core import generate_df as core_generate_df
from ..core.registry import get_model
from ..records import recorded
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


@recorded
def generate(
    prompt: str, model: Any = None, *, stream: bool | None = None, keep: bool = True, **params: Any
) -> core_generate.Generation:
    """Continue ``prompt`` with a decoder; in a notebook the text streams into the cell.

    Parameters are those of ``fmwidgets.core.generate.generate`` (max_new_tokens, temperature,
    top_p, top_k, greedy, seed, n, stop, chat, system, strict, and any transformers generate
    keyword).  ``stream=None`` streams inside a Jupyter kernel; ``keep=False`` clears the live text at the
    end (the ``%%fm prompt`` magic does, because its returned value is displayed anyway).
    """
    return streamed(core_generate.generate, stream, keep, prompt, model, **params)


@recorded
def chat(
    message: str, *, model: Any = None, stream: bool | None = None, keep: bool = True, **params: Any
) -> Any:
    """Send ``message`` to a chat model (``fmwidgets.core.chat.chat``); the reply streams in a notebook."""
    from ..core import chat as core_chat

    return streamed(core_chat.chat, stream, keep, message, model=model, **params)


def streamed(func: Callable, stream: bool | None, keep: bool, *args: Any, **params: Any) -> Any:
    """``func(*args, **params)`` with its text streaming into one output area when ``stream``
    (None: inside a Jupyter kernel); ``keep=False`` clears the live text at the end."""
    if stream is None:
        stream = in_kernel()
    if not stream:
        return func(*args, **params)
    view = StreamDisplay()
    result = None
    try:
        result = func(*args, on_text=view, **params)
    finally:
        view.finish(result if keep else None)
    return result


@recorded
def generate_df(df: Any, template: str, model: Any = None, *, progress: bool | None = None, **params: Any):
    """One generation per row of ``df`` from ``template`` (``{column}`` placeholders), with a
    progress bar; parameters are those of ``fmwidgets.core.generate_df.generate_df``."""
    if progress is False:
        return core_generate_df.generate_df(df, template, model, **params)
    get_model(model, "generate")  # a wrong model fails before a progress bar is drawn
    from tqdm.auto import tqdm

    with tqdm(total=len(df), desc="generating", unit="row") as bar:

        def advance(done: int, total: int) -> None:
            bar.update(done - bar.n)

        return core_generate_df.generate_df(df, template, model, progress=advance, **params)
