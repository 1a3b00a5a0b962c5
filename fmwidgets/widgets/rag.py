"""``fm.rag`` in a notebook: the answer streams into the cell like ``fm.generate``'s text, then
the finished ``RagAnswer`` (answer and sources, render/retrieval.py) replaces it."""

from __future__ import annotations

from typing import Any

from ..core.retrieval import rag as core_rag
from ..records import recorded
from .stream import streamed


@recorded
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
) -> core_rag.RagAnswer:
    """Answer ``question`` from the ``k`` nearest passages of ``index``; see ``core.retrieval.rag.rag``.

    ``stream=None`` streams inside a Jupyter kernel; ``keep=False`` clears the live text at the end.
    """
    return streamed(
        core_rag.rag, stream, keep, question, index=index, model=model, k=k, prompt=prompt, **generation
    )
