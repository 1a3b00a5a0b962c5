"""Signatures written once: a public function shows the keywords of the code it wraps.

Two decorators keep one definition of each keyword, so that ``help()``, editors, the history
and the magics' defaults (all read ``inspect.signature``) see every keyword with its default,
while the code passes one object around:

- ``expands(Sampling, "sampling")``: the fields of a settings dataclass become keyword-only
  parameters of the signature (``max_new_tokens=64, temperature=None, ...``); the call packs them
  into one instance given as ``sampling=``.  The dataclass is where each setting and its
  default are written; ``Sampling`` (decoding) and ``Engine`` (where batches run) are two.
- ``over(core)``: a public function that wraps a core one (``fm.generate`` over
  ``generate_text``) takes the core function's signature, with the core's callbacks replaced by
  the public function's own display keywords.

This module imports nothing of fmwidgets, so every layer can use it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

CALLBACKS = ("on_text", "stop_event", "progress")  # what core functions take instead of a display
REST = "rest"  # field metadata: this field gathers the keywords no other parameter takes


def settings_from(kind: type, keywords: dict[str, Any]) -> Any:
    """A ``kind`` dataclass from ``keywords``, taking (popping) the ones that name its fields;
    the field marked ``metadata={"rest": ...}`` (if any) gathers all the others, else they stay."""
    rest = rest_field(kind)
    values = {f.name: keywords.pop(f.name) for f in dataclasses.fields(kind) if f.name in keywords}
    if rest is not None:
        values[rest.name] = {**values.get(rest.name, {}), **keywords}
        keywords.clear()
    return kind(**values)


def rest_field(kind: type) -> dataclasses.Field | None:
    """The field of ``kind`` that gathers the keywords no other parameter takes, if it has one."""
    return next((f for f in dataclasses.fields(kind) if f.metadata.get(REST)), None)


def expands(
    kind: type, into: str, *, without: Iterable[str] = (), **defaults: Any
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Decorator: ``func``'s keyword ``into`` (a ``kind`` dataclass) is given field by field.

    The signature lists ``kind``'s fields as keyword-only parameters where ``into`` stood
    (``defaults`` override the class's defaults; the fields in ``without`` are not offered), and
    ``**NAME`` at the end when a field is marked ``metadata={"rest": "NAME"}``: it takes the
    keywords that no parameter names.  A call may also pass ``into=`` a ready instance.
    """
    rest = rest_field(kind)
    skipped = set(without)
    offered = [f for f in dataclasses.fields(kind) if f is not rest and f.name not in skipped]

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        where = [p.name for p in params].index(into)
        fields = [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(f.name, f.default),
                annotation=f.type,
            )
            for f in offered
        ]
        tail = [p for p in params[where + 1 :] if p.kind is not p.VAR_KEYWORD]
        var = [p for p in params if p.kind is p.VAR_KEYWORD]
        gathers = rest.name if rest is not None and not var else None  # else func's **kwargs take them
        if rest is not None and gathers:
            var = [inspect.Parameter(rest.metadata[REST], inspect.Parameter.VAR_KEYWORD, annotation="Any")]
        named = {p.name for p in params if p.kind is not p.VAR_KEYWORD}

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            if into in kwargs:
                return func(*args, **kwargs)
            given = {k: kwargs.pop(k) for k in [f.name for f in offered] if k in kwargs}
            if gathers:
                given[gathers] = {k: kwargs.pop(k) for k in list(kwargs) if k not in named}
            values = {f.name: defaults[f.name] for f in offered if f.name in defaults}
            return func(*args, **{into: kind(**{**values, **given})}, **kwargs)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=params[:where] + fields + tail + var
        )
        return wrapper

    return decorate


def over(core: Callable, hide: Iterable[str] = CALLBACKS) -> Callable[[F], F]:
    """Decorator: the public function's signature is ``core``'s (what ``help()``, editors and the
    history show), with the parameters named in ``hide`` (core's callbacks) replaced by the
    public function's display keywords, which come first among the keywords."""
    hidden = set(hide)

    def decorate(public: F) -> F:
        theirs = inspect.signature(core)
        core_params = [p for p in theirs.parameters.values() if p.name not in hidden]
        display = [
            p
            for name, p in inspect.signature(public).parameters.items()
            if p.kind is p.KEYWORD_ONLY and (name in hidden or name not in theirs.parameters)
        ]
        first_keyword = next(
            (i for i, p in enumerate(core_params) if p.kind >= p.KEYWORD_ONLY), len(core_params)
        )
        params = core_params[:first_keyword] + display + core_params[first_keyword:]
        public.__signature__ = theirs.replace(parameters=params)  # type: ignore[attr-defined]
        return public

    return decorate
