"""``fm.repro()``: the session as a script, and ``verify=True``: run it again and compare.

The verification re-runs every recorded call in a fresh namespace, a fresh model registry and
a scratch copy of the store (the user's loaded models, variables, history, evaluation runs and
ratings are untouched and come back afterwards), with
hub models pinned to the recorded commit and sampled calls to their recorded seed.  Each
re-run result is compared with what the call returned the first time (``outcome.verdict``):
texts must match exactly, numbers, projections and metrics within a float tolerance.  Each call
runs again through what its history entry kept (``Entry.rerun``: the function called, or the
``%fm`` runner), so nothing here imports the layers above.

Inputs come from, in order: the argument's own literal, its Parquet snapshot
(``%config FM.snapshot_dir``), or the notebook variable of that name if its fingerprint still
matches; a call whose input changed since is reported as skipped, not run on other data.
Magics re-run through the same parser, on a stand-in shell whose namespace reads the
notebook's variables and writes (``--out``) to the fresh namespace only.

Local models generate every row again: the scratch store holds none of their cached
generations, which would only give back what the first run wrote.  API-served models are not
asked again unless ``call_api=True`` (api_calls.py): their rows come from the generation cache,
and a call whose replies are not cached is skipped.  The ``server``
column says how each such step was checked; a step that sent requests with settings the server
does not repeat (sampling) is "not deterministic" rather than "same" or "different".
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import types
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadArgumentError
from ..records import RunRecord, fingerprint_df
from ..render import Recorded
from ..render.provenance import verification_bundle
from ..store import scratch
from . import api_calls, history
from .literals import Argument
from .outcome import outcome, verdict
from .script import Repro, Step, steps


def repro(
    out: str | os.PathLike | None = None,
    verify: bool = False,
    overwrite: bool = False,
    call_api: bool = False,
):
    """The session's fmwidgets calls as a runnable script / cells, hub revisions and seeds pinned.

    ``out`` ending in ``.ipynb`` writes a notebook, any other name a Python script; an existing
    file is replaced only with ``overwrite=True``.  ``verify=True`` also re-runs the calls in a
    fresh namespace and returns a ``Verification`` (``.table``: one row per call saying whether
    its texts and numbers match).  The re-run sends no request to an API-served model: its rows
    come from the generation cache; ``call_api=True`` asks the servers again (and pays for it).
    ``repro`` itself is not added to the history.
    """
    if call_api and not verify:
        raise BadArgumentError(
            "call_api=True (--call-api) says whether the re-run of verify=True (--verify) may send "
            "requests to API-served models; add verify=True, or leave call_api out."
        )
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    result = Repro(steps=steps(list(history.entries)), created=created)
    if out is not None:
        result.write(out, overwrite=overwrite)
    return verify_steps(result, call_api=call_api) if verify else result


@dataclass
class Verification(Recorded, look=verification_bundle):
    """The re-run of a session: ``table`` has one row per call (step, call, status, texts,
    numbers, difference, server); ``ok`` is True when no call differed or failed.

    ``status`` is "same", "different", "failed", "skipped", "nothing to compare", or "not
    deterministic" for a call that asked an API-served model again with sampling (its texts
    need not repeat); ``server`` says how a call reached its API-served models: "N rows from the
    cache", "N requests sent again", "server not asked" (a load), "" for local models."""

    table: Any
    repro: Repro
    record: RunRecord = field(default_factory=lambda: RunRecord(kind="repro-verify"))

    @property
    def ok(self) -> bool:
        return not self.table["status"].isin(["different", "failed"]).any()

    def __repr__(self) -> str:
        return self.table.to_string(index=False)


def verify_steps(script: Repro, call_api: bool = False) -> Verification:
    """Re-run each step of ``script`` in a fresh session and compare with the recorded outcome
    (API-served models asked again only with ``call_api``)."""
    import pandas as pd

    rows = []
    with _fresh_session() as namespace, _quiet():
        done: dict[int, Any] = {}
        for step in script.steps:
            with api_calls.tally(call_api) as spent:
                row = _verify(step, namespace, done)
            if spent.sent and not spent.deterministic and row["status"] in ("same", "different"):
                row["status"] = "not deterministic"
            rows.append({**row, "server": spent.how})
    columns = ["step", "call", "status", "texts", "numbers", "difference", "server"]
    return Verification(table=pd.DataFrame(rows, columns=columns), repro=script)


def _verify(step: Step, namespace: ChainMap, done: dict[int, Any]) -> dict[str, Any]:
    entry = step.entry
    row = {
        "step": entry.step,
        "call": step.code.split("\n", 1)[0][:120],
        "status": "",
        "texts": None,
        "numbers": None,
        "difference": "",
    }
    try:
        result = _run(step, namespace, done)
    except (_Skip, api_calls.NotSent) as why:
        return {**row, "status": "skipped", "difference": str(why)}
    except Exception as exc:  # noqa: BLE001 - a failing re-run is a finding, not a crash
        return {**row, "status": "failed", "difference": f"{type(exc).__name__}: {exc}"}
    done[entry.step] = result
    if step.target and not step.is_magic:  # a later call reads it by this name (magics: --out)
        namespace[step.target] = result
    again = outcome(result)
    if not entry.outcome and not again:
        return {**row, "status": "nothing to compare"}
    found = verdict(entry.outcome, again)
    same = found["texts"] is not False and found["numbers"] is not False
    return {**row, **found, "status": "same" if same else "different"}


class _Skip(Exception):
    """A step that cannot be re-run faithfully (its input changed, or has no name)."""


def _run(step: Step, namespace: ChainMap, done: dict[int, Any]) -> Any:
    entry = step.entry
    if entry.rerun is None:
        raise _Skip("the history kept nothing that runs this call again")
    if step.is_magic:  # the variables it read must still hold what they held (or a snapshot)
        for arg in entry.arguments.values():
            if arg.kind == "variable" and arg.name not in namespace.maps[0]:
                namespace.maps[0][arg.name] = _value(arg, namespace, done)
        first, newline, body = step.code.partition("\n")
        line = first.lstrip("%").removeprefix("fm").strip()
        return entry.rerun(line, body if newline else None, types.SimpleNamespace(user_ns=namespace))
    return entry.rerun(**{k: _value(a, namespace, done) for k, a in step.arguments.items()})


def _value(arg: Argument, namespace: ChainMap, done: dict[int, Any]) -> Any:
    """The value of a recorded argument for the re-run (see the module docstring for the order)."""
    if arg.kind == "literal":
        return arg.value
    if arg.kind == "result":
        if arg.step not in done:
            raise _Skip(f"it reads the result of step {arg.step}, which was not re-run")
        return done[arg.step]
    if arg.value is not None:
        return arg.value
    if arg.snapshot:
        import pandas as pd

        frame = pd.read_parquet(arg.snapshot)
        return frame.iloc[:, 0] if arg.type == "Series" else frame
    if arg.kind == "object":
        raise _Skip(f"an argument ({arg.type}) had no variable name and no snapshot")
    if arg.name not in namespace:
        raise _Skip(f"the notebook variable '{arg.name}' is not defined any more")
    value = namespace[arg.name]
    if arg.fingerprint and fingerprint_df(value) != arg.fingerprint:
        raise _Skip(f"the notebook variable '{arg.name}' changed since the call (its fingerprint differs)")
    return value


@contextlib.contextmanager
def _fresh_session() -> Iterator[ChainMap]:
    """An empty registry, a scratch copy of the store (the re-run's evaluations and prompt
    versions go there, the user's runs and ratings stay as they are) and a namespace that reads
    the notebook's variables but writes its own; nothing done inside is recorded, and the user's
    models and history come back afterwards."""
    token = history._current.set(history.Entry(step=-1, source="verify"))
    try:
        with history.models_set_aside(), scratch():
            yield ChainMap({}, history.user_namespace())
    finally:
        history._current.reset(token)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the re-run's streamed text, progress bars and figures out of the user's cell."""
    if "IPython" not in sys.modules:
        yield
        return
    from IPython.utils.capture import capture_output

    with capture_output():
        yield
