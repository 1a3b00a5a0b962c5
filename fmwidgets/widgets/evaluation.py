"""``fm.evaluate`` in a notebook: the core run plus a progress bar while rows are generated.

The bar appears with the first generated batch, so a run served from the cache (or one that
fails its checks) draws none.  An interrupt keeps the finished rows (core/evaluation/run.py).
"""

from __future__ import annotations

from typing import Any

from ..core.evaluation import run as core_run
from ..records import recorded


@recorded
def evaluate(
    data: Any, prompt: Any = None, *, progress: bool | None = None, **kwargs: Any
) -> core_run.Evaluation:
    """Evaluate a prompt or model over ``data``; see ``fmwidgets.core.evaluation.run.evaluate``."""
    if progress is False:
        return core_run.evaluate(data, prompt, **kwargs)
    bars: list = []

    def advance(done: int, total: int) -> None:
        if not bars:
            from tqdm.auto import tqdm

            bars.append(tqdm(total=total, desc="evaluating", unit="row"))
        bars[0].update(done - bars[0].n)

    try:
        return core_run.evaluate(data, prompt, progress=advance, **kwargs)
    finally:
        if bars:
            bars[0].close()
