"""The public functions that show their work while they run, each defined here and nowhere else.

One public function per feature.  ``core/`` holds the headless function, named for what it
computes, which reports through plain callbacks (``on_text(texts)`` after every token,
``progress(done, total)`` after every batch) and never displays anything.  The public function,
named as the user calls it (``fm.generate``), is that core function plus the one display chosen
here, and it alone is ``@recorded`` in the history:

==================  ================================================  ===================================
public              headless core function                            display while it runs
==================  ================================================  ===================================
``fm.generate``     ``core.prompting.generate.generate_text``         the text streams into the cell
``fm.chat``         ``core.prompting.chat.chat_reply``                the reply streams into the cell
``fm.rag``          ``core.retrieval.rag.rag_answer``                 the answer streams into the cell
``fm.run_prompt``   ``core.prompting.releases.generate_from_prompt``  the text streams into the cell
``fm.generate_df``  ``core.prompting.generate_df.generate_table``     a progress bar
``fm.evaluate``     ``core.evaluation.run.run_evaluation``            a progress bar
``fm.finetune``     ``core.training.finetune.run_finetune``           the TrainingView (training.py)
==================  ================================================  ===================================

Outside a Jupyter kernel (``stream=False`` / ``progress=False``) the public function is exactly
its core function.  How the finished result looks is ``render/<feature>.py``; the live text
area is ``widgets/stream.py``.  Widgets that run these calls for the user (Playground, Chat)
call the core function with their own callbacks and record the public call
(``provenance.history.recording(core_function, ..., public="generate")``), so they import nothing from here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .core.evaluation.run import run_evaluation
from .core.evaluation.stored import Evaluation
from .core.models.registry import get_model
from .core.prompting.chat import ChatReply, chat_reply
from .core.prompting.generate import Generation, generate_text
from .core.prompting.generate_df import generate_table
from .core.prompting.releases import generate_from_prompt
from .core.retrieval.rag import RagAnswer, rag_answer
from .core.training.finetune import run_finetune
from .core.training.jobs import FinetuneRun
from .core.training.monitor import TrainingMonitor
from .core.training.result import FinetuneResult
from .provenance.history import recorded
from .render.generate import dollars
from .signatures import over
from .widgets.stream import StreamDisplay, in_kernel


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


@contextlib.contextmanager
def progress_bar(desc: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A ``progress(done, total)`` callback drawing a tqdm bar: at once when ``total`` is given,
    else at the first report (so a run served from a cache, or refused, draws none).  An
    API-served model's rows also report ``{"tokens", "cost"}`` so far, shown beside the bar."""
    bars: list[Any] = []

    def start(total: int) -> None:
        from tqdm.auto import tqdm

        bars.append(tqdm(total=total, desc=desc, unit="row"))

    def advance(done: int, total: int, spent: dict[str, Any] | None = None) -> None:
        if not bars:
            start(total)
        if spent is not None:
            money = dollars(spent.get("cost"), unknown="cost unknown")
            bars[0].set_postfix_str(f"{spent.get('tokens', 0):,} tokens, {money}", refresh=False)
        bars[0].update(done - bars[0].n)

    if total is not None:
        start(total)
    try:
        yield advance
    finally:
        if bars:
            bars[0].close()


@recorded
@over(generate_text)
def generate(
    prompt: str, model: Any = None, *, stream: bool | None = None, keep: bool = True, **params: Any
) -> Generation:
    """Continue ``prompt`` with a decoder; in a notebook the text streams into the cell.

    Parameters are those of ``fmwidgets.core.prompting.generate.generate_text`` (max_new_tokens,
    temperature, top_p, top_k, greedy, seed, n, stop, chat, system, strict, and any transformers
    generate keyword).  ``stream=None`` streams inside a Jupyter kernel; ``keep=False`` clears
    the live text at the end (the ``%%fm prompt`` magic does, because its returned value is
    displayed anyway).
    """
    return streamed(generate_text, stream, keep, prompt, model, **params)


@recorded
@over(chat_reply)
def chat(
    message: str, *, model: Any = None, stream: bool | None = None, keep: bool = True, **params: Any
) -> ChatReply:
    """Send ``message`` to a chat model (``core.prompting.chat.chat_reply``); the reply streams in a
    notebook."""
    return streamed(chat_reply, stream, keep, message, model=model, **params)


@recorded
@over(rag_answer)
def rag(
    question: str,
    *,
    index: Any,
    model: Any = None,
    k: int = 3,
    prompt: str | None = None,
    stream: bool | None = None,
    keep: bool = True,
    **generation: Any,
) -> RagAnswer:
    """Answer ``question`` from the ``k`` nearest passages of ``index``; see
    ``core.retrieval.rag.rag_answer``.  The answer streams into the cell like ``fm.generate``'s
    text, then the finished ``RagAnswer`` (answer and sources) replaces it.
    """
    return streamed(
        rag_answer, stream, keep, question, index=index, model=model, k=k, prompt=prompt, **generation
    )


@recorded
@over(generate_from_prompt)
def run_prompt(
    name: str, tag: str | None = None, *, stream: bool | None = None, keep: bool = True, **values: Any
) -> Generation:
    """Run the saved prompt ``name`` (``"qa@3"``, ``"qa:production"``, or ``"qa"`` with
    ``tag=``; the name alone is its newest version) on the model it is pinned to, its fields
    filled from ``values``; the text streams into the cell like ``fm.generate``'s.  The same as
    ``fmwidgets.prompts.get(name, tag).run(**values)`` in an application, which returns the text.
    """
    return streamed(generate_from_prompt, stream, keep, name, tag, **values)


@recorded
@over(generate_table)
def generate_df(df: Any, template: str, model: Any = None, *, progress: bool | None = None, **params: Any):
    """One generation per row of ``df`` from ``template`` (``{column}`` placeholders), with a
    progress bar; parameters are those of ``fmwidgets.core.prompting.generate_df.generate_table``."""
    if progress is False:
        return generate_table(df, template, model, **params)
    get_model(model, "generate")  # a wrong model fails before a progress bar is drawn
    with progress_bar("generating", total=len(df)) as advance:
        return generate_table(df, template, model, progress=advance, **params)


@recorded
@over(run_evaluation)
def evaluate(data: Any, prompt: Any = None, *, progress: bool | None = None, **kwargs: Any) -> Evaluation:
    """Evaluate a prompt or model over ``data``; see ``fmwidgets.core.evaluation.run.run_evaluation``.

    The bar appears with the first generated batch, so a run served from the cache (or one
    that fails its checks) draws none.  An interrupt keeps the finished rows.
    """
    if progress is False:
        return run_evaluation(data, prompt, **kwargs)
    with progress_bar("evaluating") as advance:
        return run_evaluation(data, prompt, progress=advance, **kwargs)


@recorded
@over(run_finetune)
def finetune(
    *args: Any, monitor: TrainingMonitor | None = None, **kwargs: Any
) -> FinetuneResult | FinetuneRun:
    """Fine-tune a copy of a model on a DataFrame; see ``fmwidgets.core.training.finetune.run_finetune``.

    Inside a Jupyter kernel the live ``TrainingView`` (loss curve, metrics, ETA, Stop) is the
    monitor unless ``monitor=`` gives your own (a plain ``core.training.monitor.TrainingMonitor()``
    shows nothing).
    """
    if monitor is None and in_kernel():
        from IPython.display import display

        from .widgets.training import TrainingView  # ipywidgets and plotly: only when a view is shown

        monitor = TrainingView()
        display(monitor)
    return run_finetune(*args, monitor=monitor, **kwargs)
