"""Provenance: what produced a result, and what the session did.

A ``RunRecord`` travels with every result (``Generation``, ``FinetuneResult``, figures...):
model id and resolved commit, dtype and device, every parameter, the seed, library versions and
a fingerprint of any DataFrame used.  ``Recorded._repr_mimebundle_`` puts it in the cell
output's metadata under the ``fmwidgets`` key, so a saved .ipynb says what produced each output.

The session ``history`` keeps the fmwidgets calls in the order they ran (the magic line when a
magic made the call, else the Python call), which ``fm.repro()`` turns into a runnable script.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import datetime as _dt
import functools
import hashlib
import html
import inspect
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterator

from .paths import home_as_tilde, tilde_paths

_LIBRARIES = ("fmwidgets", "torch", "transformers", "peft", "datasets", "plotly")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results (read without importing them)."""
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def fingerprint_df(df: Any) -> dict[str, Any]:
    """Shape, columns and a content hash of a DataFrame (or Series / list of texts)."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    elif not isinstance(df, pd.DataFrame):
        df = pd.DataFrame({"value": list(df)})
    hashed = pd.util.hash_pandas_object(df.astype(str), index=True).to_numpy().tobytes()
    return {
        "shape": list(df.shape),
        "columns": [str(c) for c in df.columns],
        "sha256": hashlib.sha256(hashed).hexdigest()[:16],
    }


@dataclass
class RunRecord:
    """What produced one result; plain data, JSON-serialisable through ``to_dict``."""

    kind: str
    model: str | None = None
    model_name: str | None = None
    commit: str | None = None
    family: str | None = None
    dtype: str | None = None
    device: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    data: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=library_versions)
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @classmethod
    def for_model(cls, kind: str, handle: Any, params: dict | None = None, seed=None, data=None):
        """A record of ``kind`` for work done by the model behind ``handle``."""
        return cls(
            kind=kind,
            model=handle.model_id,
            model_name=handle.name,
            commit=handle.commit,
            family=handle.family,
            dtype=handle.dtype,
            device=handle.device,
            params={k: _jsonable(v) for k, v in (params or {}).items()},
            seed=seed,
            data=fingerprint_df(data) if data is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data, the home folder written as ``~`` (it goes into shared notebooks)."""
        return tilde_paths(asdict(self))

    def summary(self) -> str:
        """One short line: model@commit, the parameters that were set, the seed."""
        model = home_as_tilde(self.model_name or self.model or "-")
        if self.commit:
            model += f"@{self.commit[:8]}"
        params = ", ".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        seed = f" seed={self.seed}" if self.seed is not None else ""
        return home_as_tilde(f"{self.kind} · {model} · {params}{seed}".rstrip(" ·"))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class Recorded:
    """Mixin for displayable results: subclasses give ``record``; the render layer gives the look.

    The display (``fmwidgets.render.display_data``) carries the record in the output metadata;
    with ``%config FM.show_record = True`` the one-line summary is shown under the result too.
    """

    record: RunRecord

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .config import settings
        from .render import display_data

        data = dict(display_data(self))
        if settings().show_record:
            line = self.record.summary()
            if "text/html" in data:
                data["text/html"] += (
                    f'<div class="fm-record" style="font-size:11px;color:#777">'
                    f"{html.escape(line)}</div>"
                )
            data["text/plain"] = data.get("text/plain", "") + "\n" + line
        return data, {"fmwidgets": self.record.to_dict()}


# ---------------------------------------------------------------------------------------------
# Session history, for fm.repro()

history: list[str] = []
_inside_call: contextvars.ContextVar[bool] = contextvars.ContextVar("fm_inside", default=False)


@contextlib.contextmanager
def recording(code: str) -> Iterator[None]:
    """Record ``code`` once; fmwidgets calls made inside it are not recorded again."""
    if _inside_call.get():
        yield
        return
    token = _inside_call.set(True)
    try:
        yield
        history.append(code)
    finally:
        _inside_call.reset(token)


def recorded(func: Callable) -> Callable:
    """Decorator for public API functions: a successful call is added to the history."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _inside_call.get():
            return func(*args, **kwargs)
        arguments = _flat_arguments(signature, signature.bind_partial(*args, **kwargs))
        names = _caller_names(inspect.currentframe().f_back, arguments.values())
        parts = [f"{k}={_arg_code(v, names)}" for k, v in arguments.items()]
        with recording(f"fm.{func.__name__}({', '.join(parts)})"):
            return func(*args, **kwargs)

    return wrapper


def _flat_arguments(signature: inspect.Signature, bound: inspect.BoundArguments) -> dict[str, Any]:
    """The bound arguments with ``**kwargs`` spread out, so passthrough keywords replay as keywords."""
    arguments = dict(bound.arguments)
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD and param.name in arguments:
            arguments.update(arguments.pop(param.name))
    return arguments


def _caller_names(frame: Any, values: Any) -> dict[int, str]:
    """id(value) -> the caller's variable name, for arguments with no literal form.

    ``fm.finetune(df, ...)`` is then recorded as ``fm.finetune(df=df, ...)``, which a replay
    can run once ``df`` is defined, instead of an unrunnable ``<DataFrame>`` placeholder.
    """
    wanted = {id(v) for v in values if not isinstance(v, (type(None), bool, int, float, str))}
    if not wanted or frame is None:
        return {}
    found: dict[int, str] = {}
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in scope.items():
            if id(value) in wanted and name.isidentifier() and not name.startswith("_") \
                    and id(value) not in found:
                found[id(value)] = name
    return found


def _arg_code(value: Any, names: dict[int, str]) -> str:
    """The literal when there is one, else the caller's variable name, else a placeholder."""
    code = _code_repr(value)
    return names.get(id(value), code) if code.startswith("<") else code


def _code_repr(value: Any) -> str:
    """repr() for literals; a named placeholder for objects (DataFrames...) with no literal form."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (list, tuple, dict)) and len(repr(value)) < 200:
        try:
            if ast.literal_eval(repr(value)) == value:  # literals only, nothing is evaluated
                return repr(value)
        except Exception:
            pass
    name = getattr(value, "name", None)
    if isinstance(name, str) and type(value).__name__ == "ModelHandle":
        return repr(name)
    return f"<{type(value).__name__}>"
