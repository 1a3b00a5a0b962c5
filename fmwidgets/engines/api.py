"""The concurrent batcher for API-served models: many requests in flight, rows back in order.

A Jupyter kernel already runs an event loop in its main thread, so the requests run on a loop of
their own in one daemon thread (started once, kept for the session, so the async clients keep
their connections).  ``run_requests`` hands it one coroutine per row, made by the caller's
``request(i)`` (this module knows nothing of models or SDKs; the SDK retries with backoff inside
each coroutine), with at most ``concurrency`` in flight, and waits in the calling thread, where
a KeyboardInterrupt arrives: it cancels what is in flight and keeps what finished.

A row that still fails is never dropped.  When ``fatal(error)`` says the failure is the server's
(down, rate limit after every retry), no further rows are started; either way the call raises
one ``EngineError`` naming the failed rows, with the finished results on ``.partial`` (None for
the others), as the Ray engine does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import EngineError

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def event_loop() -> asyncio.AbstractEventLoop:
    """The session's request loop, running in its own daemon thread (started on first use)."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="fm-api-requests", daemon=True).start()
            _loop = loop
        return _loop


def run_soon(coroutine: Awaitable[Any]) -> concurrent.futures.Future:
    """Schedule ``coroutine`` on the request loop."""
    return asyncio.run_coroutine_threadsafe(coroutine, event_loop())  # type: ignore[arg-type]


@dataclass
class Outcome:
    """What ``run_requests`` got back: one result per row (None where it did not finish)."""

    results: list[Any]
    failed: dict[int, BaseException] = field(default_factory=dict)
    unsent: list[int] = field(default_factory=list)
    interrupted: bool = False
    finished: int = 0  # rows done so far (read by the waiting thread for progress)


async def _rows(
    request: Callable[[int], Awaitable[Any]],
    count: int,
    concurrency: int,
    fatal: Callable[[BaseException], bool],
    done: Callable[[int, Any], None],
    outcome: Outcome,
    ended: threading.Event,
) -> None:
    """Every row, ``concurrency`` at a time; ``ended`` is set once none is left running."""
    gate = asyncio.Semaphore(concurrency)
    stop = asyncio.Event()  # set by the first failure that is the server's: start no more rows

    async def one(i: int) -> None:
        async with gate:
            if stop.is_set():
                outcome.unsent.append(i)
                return
            try:
                result = await request(i)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - every failure is reported with its row
                outcome.failed[i] = error
                if fatal(error):
                    stop.set()
                return
            outcome.results[i] = result
            done(i, result)
            outcome.finished += 1

    try:
        await asyncio.gather(*(one(i) for i in range(count)))
    finally:
        ended.set()


def run_requests(
    request: Callable[[int], Awaitable[Any]],
    count: int,
    *,
    concurrency: int,
    fatal: Callable[[BaseException], bool] = lambda error: False,
    done: Callable[[int, Any], None] = lambda i, result: None,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Run ``request(i)`` for ``i`` in ``range(count)``, ``concurrency`` at a time, on the request
    loop; ``done(i, result)`` is called (in the loop's thread) as each row finishes, and
    ``progress(finished)`` in the calling thread (where a notebook's progress bar lives) at most
    ten times a second.

    An interrupt cancels the requests in flight and returns what finished (``interrupted``)."""
    outcome = Outcome(results=[None] * count)
    if count == 0:
        return outcome
    ended = threading.Event()
    future = run_soon(_rows(request, count, max(1, concurrency), fatal, done, outcome, ended))
    shown = 0
    try:
        while True:
            try:
                future.result(timeout=0.1)  # short waits, so that a KeyboardInterrupt gets through
                break
            except concurrent.futures.TimeoutError:
                finished = outcome.finished
                if progress is not None and finished != shown:
                    shown = finished
                    progress(finished)
    except KeyboardInterrupt:
        future.cancel()  # cancels the gather, and with it every request in flight
        ended.wait(10)  # until every row has stopped writing its result
        outcome.interrupted = True
    if progress is not None and outcome.finished != shown:
        progress(outcome.finished)
    return outcome


def failure(
    outcome: Outcome,
    describe: Callable[[BaseException], str],
    names: Sequence[Any] | None = None,
    what: str = "rows",
) -> EngineError:
    """The one sentence for an outcome with failed rows; ``.partial`` holds the finished results.

    ``names`` says how each row is called in the message (its DataFrame position), ``describe``
    words the first failure (the SDK's error, already one clause)."""
    label = (lambda i: names[i]) if names is not None else (lambda i: i)
    failed = sorted(outcome.failed)
    shown = ", ".join(str(label(i)) for i in failed[:10]) + (", ..." if len(failed) > 10 else "")
    finished = sum(r is not None for r in outcome.results)
    unsent = f"; {len(outcome.unsent)} were not sent after that" if outcome.unsent else ""
    why = describe(outcome.failed[failed[0]]).rstrip(".")
    error = EngineError(
        f"{len(failed)} of {len(outcome.results)} {what} failed ({'row' if len(failed) == 1 else 'rows'} "
        f"{shown}: {why}){unsent}; the {finished} finished are kept on .partial, and running the same "
        "call again sends only the missing ones."
    )
    error.partial = list(outcome.results)
    return error
