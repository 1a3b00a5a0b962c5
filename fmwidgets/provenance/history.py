"""The session history: one structured ``Entry`` per user-level call, for ``fm.history()`` and
``fm.repro()``.

Each call is recorded where it happens (``@recorded`` on public functions, ``recording(...)`` in
the magics and widgets): the function, each argument as a literal, a notebook variable (found
by identity in IPython's namespace) or an earlier call's result, the loaded models, the result's
``RunRecord`` and its outcome (outcome.py), and the callable that ran, so that ``fm.repro(verify=
True)`` can run it again.  How each argument is written back as code is literals.py.

Core's public functions record themselves, so this module sits below core and imports nothing
of it: what it reads of the layers above arrives as values (the callable an entry keeps; the
model registry, which ``core.models.registry`` hands to ``track``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import functools
import inspect
import math
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..handles import Handle
from ..paths import home_as_tilde
from ..records import RunRecord, fingerprint_df
from .literals import Argument, call_code, keyword_names


@dataclass
class Entry:
    """One user-level call: a public function with its arguments, or a ``%fm`` magic.

    ``function``/``arguments`` are the public call (for a magic: the first public call it made,
    which says which notebook variables it read); ``magic`` is the magic's text; ``models`` is
    the registry after the call (name -> id, source, commit); ``record`` the result's
    ``RunRecord``; ``outcome`` what ``fm.repro(verify=True)`` compares (texts, numbers, arrays);
    ``rerun`` what runs it again: the function called, or for a magic the ``%fm`` runner
    (``rerun(line, cell, shell)``).
    """

    step: int
    source: str  # "python" | "magic" | "widget"
    function: str | None = None
    arguments: dict[str, Argument] = field(default_factory=dict)
    magic: str | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    outcome: dict[str, Any] = field(default_factory=dict, repr=False)
    result_name: str | None = None  # the registry name of the model a call returned (load)
    started: str = ""
    seconds: float = 0.0
    rerun: Callable | None = field(default=None, repr=False, compare=False)

    @property
    def code(self) -> str:
        """The magic as written, else the call as ``fm.function(name=value, ...)``."""
        if self.magic is not None:
            return self.magic
        return call_code(self.function, self.arguments)

    @property
    def runnable(self) -> bool:
        return self.magic is not None or all(a.runnable for a in self.arguments.values())


entries: list[Entry] = []
# The kernel's model registry (an iterable of handles with ``set_aside()``), handed over by
# core.models.registry when it is imported: before that no model can be loaded.
_registry: Any = None
_current: contextvars.ContextVar[Entry | None] = contextvars.ContextVar("fm_entry", default=None)
_lock = threading.Lock()
# id(result) -> (weak reference to it, step): a later call that passes it is linked to that step
_results: dict[int, tuple[Any, int]] = {}


def track(registry: Any) -> None:
    """Read the loaded models from ``registry`` (each entry notes them; a re-run sets them aside)."""
    global _registry
    _registry = registry


def loaded_models() -> Any:
    """The tracked registry, or an empty tuple when no model was ever loaded."""
    return _registry if _registry is not None else ()


def models_set_aside() -> contextlib.AbstractContextManager:
    """No model loaded inside the block (a re-run's fresh session); they come back after it."""
    return _registry.set_aside() if _registry is not None else contextlib.nullcontext()


def user_namespace() -> dict[str, Any]:
    """The notebook's variables when IPython runs this process (never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "user_ns", None) or {}


class _Active:
    """What a ``recording`` block hands its body: ``done(result)`` attaches the result."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.result: Any = None

    def done(self, result: Any) -> Any:
        self.result = result
        return result


@contextlib.contextmanager
def recording(
    call: str | Callable,
    *args: Any,
    public: str | None = None,
    rerun: Callable | None = None,
    **kwargs: Any,
) -> Iterator[_Active]:
    """Record one user-level call; fmwidgets calls made inside it are not recorded again.

    ``recording("%fm load gpt2", rerun=run)`` records a magic as written (``run(line, cell,
    shell)`` runs such a line again); ``recording(generate_text, prompt, public="generate",
    model=name)`` records the public call ``fm.generate(prompt, model=name)`` that a widget makes
    on the user's behalf through the core function (with the user's own arguments, not the
    widget's internal callbacks; a re-run calls the core function).  The block's body may hand
    the result to ``done(result)``; the entry is added only when the block finishes without an
    error.
    """
    keyword_names(kwargs)
    outer = _current.get()
    if outer is not None:
        yield _Active(outer)
        return
    if isinstance(call, str):
        entry = Entry(step=-1, source="magic", magic=call, rerun=rerun)
    else:
        entry = Entry(
            step=-1,
            source="widget",
            function=public or _public_name(call),
            arguments=_describe_all(inspect.signature(call), args, kwargs),
            rerun=call,
        )
    with _entering(entry) as active:
        yield active


def recorded(func: Callable) -> Callable:
    """Decorator for public API functions (or a widget class): a successful call enters the history.

    Keyword names are checked first (``**{"top p": 0.9}`` is one sentence, before any work): a
    name that is not a Python name could never be written back into a replay script.
    """
    if inspect.isclass(func):
        init = func.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            keyword_names(kwargs)
            outer = _current.get()
            if outer is not None:
                _note_inner(outer, func, inspect.signature(func), args, kwargs)
                return init(self, *args, **kwargs)
            with _python_call(func, inspect.signature(func), args, kwargs) as active:
                init(self, *args, **kwargs)
                active.done(self)

        setattr(func, "__init__", __init__)  # noqa: B010 - mypy forbids assigning to a method
        return func
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        keyword_names(kwargs)
        outer = _current.get()
        if outer is not None:
            _note_inner(outer, func, signature, args, kwargs)
            return func(*args, **kwargs)
        with _python_call(func, signature, args, kwargs) as active:
            return active.done(func(*args, **kwargs))

    return wrapper


def _note_inner(outer: Entry, func: Callable, signature: inspect.Signature, args, kwargs) -> None:
    """The first public call a magic makes is kept on its entry: it says which data it read."""
    if outer.function is None:
        outer.function = _public_name(func)
        outer.arguments = _describe_all(signature, args, kwargs)


def _python_call(func: Callable, signature: inspect.Signature, args, kwargs):
    entry = Entry(
        step=-1,
        source="python",
        function=_public_name(func),
        arguments=_describe_all(signature, args, kwargs),
        rerun=func,
    )
    return _entering(entry)


@contextlib.contextmanager
def _entering(entry: Entry) -> Iterator[_Active]:
    """Make ``entry`` the current one while the call runs; add it to the history if it succeeds."""
    active = _Active(entry)
    token = _current.set(entry)
    start = time.perf_counter()
    entry.started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    try:
        yield active
        _finish(entry, active.result, time.perf_counter() - start)
    finally:
        _current.reset(token)


def _public_name(func: Callable) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _finish(entry: Entry, result: Any, seconds: float) -> None:
    """Complete ``entry`` with what the call produced and append it to the history."""
    from .outcome import outcome

    entry.seconds = round(seconds, 3)
    entry.models = _models()
    record = getattr(result, "record", None)
    entry.record = record.to_dict() if isinstance(record, RunRecord) else None
    entry.outcome = outcome(result)
    if isinstance(result, Handle):
        entry.result_name = result.name
    with _lock:
        entry.step = len(entries)
        entries.append(entry)
        if result is not None and not isinstance(result, _SCALARS):
            try:
                _results[id(result)] = (weakref.ref(result), entry.step)
            except TypeError:  # lists, tuples: a later call shows them as literals anyway
                pass


def _models() -> dict[str, dict[str, Any]]:
    """name -> id, source, commit of every loaded model."""
    return {h.name: {"id": h.model_id, "source": h.source, "commit": h.commit} for h in loaded_models()}


def _describe_all(signature: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Argument]:
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:  # the call itself will raise the clearer error
        return {}
    namespace = user_namespace()
    return {k: describe(v, namespace) for k, v in _flat_arguments(signature, bound).items()}


def _flat_arguments(signature: inspect.Signature, bound: inspect.BoundArguments) -> dict[str, Any]:
    """The bound arguments with ``**kwargs`` spread out, so passthrough keywords replay as keywords."""
    arguments = dict(bound.arguments)
    arguments.pop("self", None)
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD and param.name in arguments:
            arguments.update(arguments.pop(param.name))
    return arguments


_SCALARS = (type(None), bool, int, float, str)


def describe(value: Any, namespace: dict[str, Any]) -> Argument:
    """An ``Argument`` for ``value``: its literal, the notebook variable holding it (found by
    identity in ``namespace``), the earlier call that returned it, or a placeholder."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()  # np.float64(0.5) -> 0.5, which a script can write
    if type(value) in _SCALARS:
        return Argument("literal", value)
    if isinstance(value, Handle) and isinstance(getattr(value, "name", None), str):
        return Argument("literal", value.name)
    name = next(
        (k for k, v in namespace.items() if v is value and k.isidentifier() and not k.startswith("_")), None
    )
    linked = _results.get(id(value))
    if linked is not None and linked[0]() is value:
        return Argument("result", name=name, step=linked[1], type=type(value).__name__)
    literal = _literal(value)
    if literal is not None and name is None:
        return Argument("literal", literal)
    argument = Argument("variable" if name else "object", name=name, type=type(value).__name__, value=literal)
    if type(value).__name__ in ("DataFrame", "Series"):
        argument.fingerprint = fingerprint_df(value)
        argument.snapshot = _snapshot(value, argument.fingerprint)
    return argument


def _literal(value: Any) -> Any:
    """``value`` itself when it is a list/tuple/dict of literals (at most 10,000 of them), else None.

    Checked by type, without ``repr``: a namespace dict full of DataFrames costs nothing here.
    """
    budget = [10_000]

    def plain(v: Any) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if type(v) in _SCALARS:
            return not isinstance(v, float) or math.isfinite(v)
        if type(v) in (list, tuple):
            return all(plain(x) for x in v)
        if type(v) is dict:
            return all(type(k) in _SCALARS and plain(x) for k, x in v.items())
        return False

    try:
        return value if type(value) in (list, tuple, dict) and plain(value) else None
    except RecursionError:  # nested deeper than a script could write anyway
        return None


def _snapshot(value: Any, fingerprint: dict[str, Any]) -> str | None:
    """With ``%config FM.snapshot_dir = "folder"``: save the DataFrame there as Parquet, once."""
    from ..config import settings

    folder = settings().snapshot_dir
    if not folder:
        return None
    import pandas as pd

    frame = value.to_frame() if isinstance(value, pd.Series) else value
    path = os.path.join(os.path.expanduser(folder), f"{fingerprint['sha256']}.parquet")
    try:
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            frame.to_parquet(path)
    except Exception as exc:  # noqa: BLE001 - an unsaveable frame only loses its snapshot
        warnings.warn(
            f"The DataFrame could not be saved as Parquet ({exc}); the replay will need "
            "the notebook variable.",
            stacklevel=4,
        )
        return None
    return path


def clear() -> None:
    """Forget the session history (tests; a fresh start)."""
    with _lock:
        entries.clear()
        _results.clear()


def history():
    """The session's fmwidgets calls as a DataFrame, one row per call, in the order they ran.

    Columns: step, source (python / magic / widget), call (the code a replay runs), function,
    arguments (name -> how it is given again), models (name -> id@commit after the call),
    kind and seed (from the result's record), started, seconds, record.
    """
    import pandas as pd

    rows = [
        {
            "step": e.step,
            "source": e.source,
            "call": e.code,
            "function": e.function,
            "arguments": {k: a.describe() for k, a in e.arguments.items()},
            "models": {
                n: f"{home_as_tilde(m['id'])}@{m['commit']}" if m["commit"] else home_as_tilde(m["id"])
                for n, m in e.models.items()
            },
            "kind": (e.record or {}).get("kind"),
            "seed": (e.record or {}).get("seed"),
            "started": e.started,
            "seconds": e.seconds,
            "record": e.record,
        }
        for e in list(entries)
    ]
    columns = [
        "step",
        "source",
        "call",
        "function",
        "arguments",
        "models",
        "kind",
        "seed",
        "started",
        "seconds",
        "record",
    ]
    return pd.DataFrame(rows, columns=columns)
