"""Where batch work runs: in this process (the default), or on a Ray cluster with one keyword.

A batch feature (``generate_df``, ``embed``, ...) never loops over rows itself: it cuts its
rows into chunks and hands them to ``run_chunks`` with a *task*, a picklable callable
``task(handle, chunk) -> list`` that returns one result per row of the chunk.  The local engine
calls the task chunk after chunk on the loaded model; the Ray engine (``engines/ray.py``) runs
it in Ray Data actors, one model replica each, loaded from the model's hub id or folder, and
gives back the same results in the same order.  Chunks are the feature's own batches, so a
seeded or greedy run gives the same rows on either engine.

Both engines report ``progress(done_rows, total_rows)`` and keep the finished chunks when
interrupted: ``run_chunks`` returns one entry per chunk, ``None`` where a chunk did not finish.

engines/ sits below core/ and imports nothing from it: core hands in what a worker needs from
it, the model loader (``load``, a ``Loader``) here and the exported training script for Ray Train.

Which engine, and its settings, travel as one ``Engine``: the public batch functions take its
fields as keywords (``engine=``, ``ray_address=``, ``workers=``; see ``signatures.expands``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from ..config import settings
from ..errors import BadArgumentError

ENGINES = ("local", "ray", "vllm")

Task = Callable[[Any, Any], list]


class Loader(Protocol):
    """How a worker loads the notebook's model again (``fmwidgets.core.models.loading.load``);
    it travels to the workers by reference, so it must be a module-level function."""

    def __call__(
        self,
        source: str | None,
        *,
        as_: str,
        task: str | None,
        device: str,
        dtype: str,
        revision: str | None,
        trust_remote_code: bool,
    ) -> Any: ...


def resolve_engine(engine: str | None) -> str:
    """The engine to use: the argument, else ``FM.engine``; an unknown name is one sentence."""
    name = (engine or settings().engine or "local").lower()
    if name not in ENGINES:
        raise BadArgumentError(
            f"'{name}' is not an engine fmwidgets knows; use one of {', '.join(ENGINES)} "
            "(or leave it out to run in this kernel)."
        )
    return name


def ray_address(address: str | None = None) -> str | None:
    """Where the Ray cluster is: the argument, then ``FM.ray_address``, then ``RAY_ADDRESS``.

    None means "start (or reuse) a local Ray for this kernel".
    """
    return address or settings().ray_address or os.environ.get("RAY_ADDRESS") or None


def check_workers(workers: int | None) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise BadArgumentError(f"workers={workers!r} must be a whole number of at least 1.")


@dataclass(frozen=True)
class Engine:
    """Where a call's batches run: ``engine`` (local, ray or vllm; None: ``FM.engine``), the Ray
    cluster's ``ray_address`` (None: ``FM.ray_address``, ``RAY_ADDRESS``, else a local Ray) and
    ``workers``, the model replicas (for fine-tuning: the training workers)."""

    engine: str | None = None
    ray_address: str | None = None
    workers: int | None = None

    @property
    def name(self) -> str:
        """The engine to use; an unknown one is one sentence."""
        return resolve_engine(self.engine)

    @property
    def address(self) -> str | None:
        return ray_address(self.ray_address)

    def given(self) -> bool:
        """Whether the call said anything about the engine."""
        return self != Engine()

    def check(self) -> str:
        """The engine's name, with the workers checked."""
        check_workers(self.workers)
        return self.name

    def batches(self) -> str:
        """The engine for work other than text generation (vLLM only generates text), checked."""
        name = self.check()
        if name == "vllm":
            raise BadArgumentError(
                "engine='vllm' runs text generation only (generate_df, evaluate); use engine='ray' or "
                "leave engine out for this call."
            )
        return name

    def params(self) -> dict[str, Any]:
        """What a RunRecord notes about the engine (nothing for the default, in-process run)."""
        name = self.name
        return {} if name == "local" else {"engine": name, "workers": self.workers}


def run_chunks(
    handle: Any,
    task: Task,
    chunks: Sequence[Any],
    sizes: Sequence[int],
    where: Engine | None = None,
    *,
    load: Loader,
    progress: Callable[[int, int], None] | None = None,
) -> list[list | None]:
    """Run ``task`` over ``chunks`` (``sizes[i]`` rows each) on the chosen engine, in order;
    ``load`` is how each Ray replica loads the model (the local engine has it loaded already)."""
    where = where or Engine()
    if where.batches() == "ray":
        from .ray import run

        return run(
            handle,
            task,
            chunks,
            sizes,
            load=load,
            address=where.address,
            workers=where.workers,
            progress=progress,
        )
    return run_local(handle, task, chunks, sizes, progress)


def run_local(
    handle: Any,
    task: Task,
    chunks: Sequence[Any],
    sizes: Sequence[int],
    progress: Callable[[int, int], None] | None = None,
) -> list[list | None]:
    """The chunks one after another on the model loaded in this kernel; an interrupt keeps them."""
    results: list[list | None] = [None] * len(chunks)
    done, total = 0, sum(sizes)
    try:
        for i, chunk in enumerate(chunks):
            results[i] = task(handle, chunk)
            done += sizes[i]
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:  # between or inside a chunk: keep the ones already done
        pass
    return results


def run_parts(
    handle: Any,
    task: Task,
    items: Sequence[Any],
    where: Engine,
    *,
    load: Loader,
    least: int = 1,
    what: str = "rows",
) -> list[Any]:
    """``task`` over ``items`` cut into contiguous parts (of at least ``least`` items), with one
    progress bar; the parts' results in order.

    A few parts per worker, so that one slow worker does not hold up all the rows.  For features
    that give one array for all rows (embed, label, index) a half-done result is no result: an
    interrupt that leaves a part unfinished is re-raised as KeyboardInterrupt.
    """
    from tqdm.auto import tqdm

    parts = max(1, (where.workers or 2) * 4)
    size = max(least, -(-len(items) // parts))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    with tqdm(total=len(items), desc=f"{what} on {where.batches()}", unit="row") as bar:
        results = run_chunks(
            handle,
            task,
            chunks,
            [len(c) for c in chunks],
            where,
            load=load,
            progress=lambda done, total: bar.update(done - bar.n),
        )
    if any(r is None for r in results):
        done = sum(len(c) for c, r in zip(chunks, results) if r is not None)
        raise KeyboardInterrupt(f"{what} interrupted after {done} of {len(items)} rows")
    return results
