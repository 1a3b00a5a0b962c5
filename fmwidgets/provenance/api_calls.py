"""Whether a re-run may send requests to API-served models, and what each re-run step did.

``fm.repro(verify=True)`` runs the session's calls again.  A request to an API-served model
costs money and time, and a sampled one need not come back the same, so by default the re-run
sends none: its evaluation rows come from the generation cache (core/evaluation/generation.py),
a load registers the model without asking the server, and a call whose replies are not cached
is skipped with the keyword that sends it again, ``fm.repro(verify=True, call_api=True)``.

core/models/remote calls ``sending`` before it sends a request and ``replayed`` for API rows it
took from the cache; verify.py wraps each step in ``tally`` and reads what it counted (how the
step was checked, and whether it ran with settings the server does not repeat).  Outside a
re-run nothing is counted or refused.  Nothing here imports core.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


class NotSent(Exception):
    """A re-run step needed a request the re-run may not send (verify reports it skipped)."""


@dataclass
class Tally:
    """What one re-run step did with API-served models."""

    call_api: bool  # whether requests may be sent
    sent: int = 0
    replayed: int = 0  # rows taken from the generation cache
    unasked: int = 0  # loads that registered a model without asking its server
    deterministic: bool = True  # every request sent had settings the server repeats (greedy)

    @property
    def how(self) -> str:
        """How the step reached its API-served models, in a few words ('' when it used none)."""
        cached = _count(self.replayed, "row") + " from the cache"
        if self.sent:
            return _count(self.sent, "request") + " sent again" + (f", {cached}" if self.replayed else "")
        if self.replayed:
            return cached
        return "server not asked" if self.unasked else ""


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("fm_api_tally", default=None)


@contextlib.contextmanager
def tally(call_api: bool) -> Iterator[Tally]:
    """Count (and, unless ``call_api``, refuse) the API requests made inside the block."""
    counted = Tally(call_api=call_api)
    token = _tally.set(counted)
    try:
        yield counted
    finally:
        _tally.reset(token)


def sending(host: str, deterministic: bool) -> None:
    """Before a request to ``host``: refused (``NotSent``) in a re-run that may not call the API."""
    counted = _tally.get()
    if counted is None:
        return
    if not counted.call_api:
        raise NotSent(
            f"its replies from {host} are not in the generation cache; fm.repro(verify=True, "
            "call_api=True) (--call-api) sends the requests again"
        )
    counted.sent += 1
    counted.deterministic = counted.deterministic and deterministic


def replayed(rows: int) -> None:
    """``rows`` API rows came from the generation cache instead of the server."""
    counted = _tally.get()
    if counted is not None:
        counted.replayed += rows


def may_ask_server() -> bool:
    """Whether a load may ask the server if it serves the model (not in a re-run that calls no API)."""
    counted = _tally.get()
    if counted is None:
        return True
    if counted.call_api:
        counted.sent += 1
    else:
        counted.unasked += 1
    return counted.call_api
