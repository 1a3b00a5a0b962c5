"""Filling ``{name}`` / ``{obj.attr}`` / ``{d[key]}`` placeholders without evaluating code.

A prompt cell is text, not code: it must not be able to run anything in the kernel.  Python's
own ``str.format`` already avoids ``eval`` but lets a placeholder walk into dunder attributes
(``{obj.__class__.__init__.__globals__}``), which leaks the kernel's state into a prompt.  Here
``string.Formatter`` only parses; each field is resolved by plain ``getattr`` / ``[]`` steps,
attributes that start with ``_`` are refused, and an unknown name is an InterpolationError that
names it.  ``{{`` and ``}}`` stay literal braces, as in f-strings.

What a placeholder may not reach, checked on every value along its path, by type first:

- modules (``{os.environ[HF_TOKEN]}``), the interpreter's insides (frames, code, tracebacks,
  generators, coroutines, async generators, closure cells: ``{rows.gi_frame.f_globals}`` for any
  generator, even ``df.iterrows()``) and a module's globals dict;
- the process environment in every form: ``os.environ``, ``os.environb`` (their type), a copy
  of either (a mapping holding several of their entries), and any field whose text holds the
  value of a secret-looking environment variable (``*TOKEN*``, ``*KEY*``, ``*SECRET*``...).

And nothing may grow without bound: a width or precision above ``MAX_FORMAT_WIDTH`` is refused
before formatting, so is a number whose fixed-point form would be longer than
``MAX_FIELD_LENGTH`` (``{d:f}`` with ``Decimal("1e20000000")`` is 20 million digits), and every
field's text is cut off at that length with an error, never more.  Any other failure of a value
(an unknown conversion ``{x!z}``, specs nested deeper than ``str.format`` allows, a property
that raises) is one InterpolationError sentence too.
"""

from __future__ import annotations

import decimal
import os
import re
import string
import sys
import types
from collections.abc import Mapping as MappingABC
from typing import Any, Callable, Mapping

from ..._compat import split_field_name
from ...errors import InterpolationError

_PARSER = string.Formatter()
MAX_FORMAT_WIDTH = 1000  # the largest width or precision a format spec may ask for
MAX_FIELD_LENGTH = 1_000_000  # the longest text one placeholder may put into a prompt
_SPEC_NUMBER = re.compile(r"\d+")
_SPEC_TAIL = re.compile(r"(?:\.(\d+))?([a-zA-Z%])?$")  # [.precision][type] at the end of a spec

# Values a placeholder may not pass through: the interpreter's own insides.
_INTERNALS: dict[type, str] = {
    types.ModuleType: "a module",
    types.FrameType: "a stack frame",
    types.CodeType: "a code object",
    types.TracebackType: "a traceback",
    types.GeneratorType: "a generator",
    types.CoroutineType: "a coroutine",
    types.AsyncGeneratorType: "an async generator",
    types.CellType: "a closure cell",
    type(os.environ): "the process environment",  # os.environ and os.environb
}
# Their attribute names too, for look-alike objects that forward them (a second line of defence).
_INTERNAL_NAMES = frozenset(
    "gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await ag_frame ag_code ag_await tb_frame "
    "tb_next f_globals f_locals f_back f_builtins f_code func_globals".split()
)
_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSW|CREDENTIAL|AUTH", re.IGNORECASE)


def _split_field(field: str) -> tuple[str, list[tuple[bool, Any]]]:
    """('obj', [(True, 'attr'), (False, 'key')]) for 'obj.attr[key]'."""
    try:
        first, steps = split_field_name(field)
    except ValueError as exc:
        raise InterpolationError(
            f"The placeholder '{{{field}}}' cannot be read; write {{name}}, {{obj.attr}} or "
            "{d[key]}, and double a brace ({{ or }}) to keep it as text."
        ) from exc
    if first == "" or isinstance(first, int):
        raise InterpolationError(
            f"The prompt has a placeholder '{{{field}}}' with no variable name; put a name inside "
            "the braces, or write {{ and }} for literal braces."
        )
    if first.startswith("__"):
        raise InterpolationError(
            f"The placeholder '{{{field}}}' reads the special name '{first}', which prompts may not "
            "do; put the value in an ordinary variable."
        )
    return first, steps


def fields(template: str) -> list[str]:
    """The top-level names the template's placeholders use, in order, without repeats; those in a
    format spec too (``w`` of ``{x:>{w}}``), since filling reads them from the same row."""
    names: list[str] = []
    for _, field, spec, _ in _placeholders(template):
        if field is None:
            continue
        for name in [_split_field(field)[0], *(fields(spec) if spec and "{" in spec else [])]:
            if name not in names:
                names.append(name)
    return names


def _parse(template: str) -> list[tuple]:
    try:
        return list(_PARSER.parse(template))
    except ValueError as exc:
        raise InterpolationError(
            f"The prompt has an unmatched brace ({exc}); write {{{{ or }}}} for a literal brace."
        ) from exc


def _placeholders(template: str, nested: bool = False) -> list[tuple]:
    """The parsed pieces of ``template`` with what parsing lets through checked: conversions, and
    placeholders in a format spec at most one level deep (``{x:>{w}}``), as ``str.format`` allows."""
    pieces = _parse(template)
    for _, field, spec, conversion in pieces:
        if field is None:
            continue
        if conversion is not None and conversion not in _CONVERSIONS:
            raise InterpolationError(
                f"The placeholder '{{{field}!{conversion}}}' asks for the conversion '!{conversion}', which "
                "does not exist; use !r, !s or !a, or none."
            )
        if spec and "{" in spec:
            if nested:
                raise InterpolationError(
                    f"The format of '{{{field}}}' holds placeholders inside placeholders; a format spec may "
                    "hold plain placeholders only, as in {x:>{width}}."
                )
            _placeholders(spec, nested=True)
    return pieces


def _resolve(field: str, namespace: Mapping[str, Any]) -> Any:
    first, steps = _split_field(field)
    if first not in namespace:
        raise InterpolationError(
            f"The prompt uses '{{{field}}}' but nothing named '{first}' is defined; define the "
            "variable first, or write {{ and }} for literal braces."
        )
    value = namespace[first]
    path = first
    _refuse(value, path, field)
    for is_attr, key in steps:
        if is_attr:
            if key.startswith("_") or key in _INTERNAL_NAMES:
                raise InterpolationError(
                    f"The placeholder '{{{field}}}' reads the {'private' if key.startswith('_') else 'internal'} "
                    f"attribute '{key}', which prompts may not do; use a public attribute or put the value in a variable."
                )
            try:
                value = getattr(value, key)
            except AttributeError as exc:
                raise InterpolationError(
                    f"'{path}' has no attribute '{key}' (placeholder '{{{field}}}'); check the name."
                ) from exc
            except Exception as exc:  # a property that fails is the value's problem
                raise InterpolationError(
                    f"Reading '{path}.{key}' failed ({type(exc).__name__}) in the placeholder '{{{field}}}'; "
                    "put the value in a variable first."
                ) from exc
            path += f".{key}"
        else:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError) as exc:
                raise InterpolationError(
                    f"'{path}' has no item [{key!r}] (placeholder '{{{field}}}'); check the key."
                ) from exc
            except Exception as exc:  # as above, for a __getitem__ that fails
                raise InterpolationError(
                    f"Reading '{path}[{key!r}]' failed ({type(exc).__name__}) in the placeholder "
                    f"'{{{field}}}'; put the value in a variable first."
                ) from exc
            path += f"[{key!r}]"
        _refuse(value, path, field)
    if callable(value) and not isinstance(value, type):
        # A bound method would be shown as "<bound method ...>": almost surely a mistake.
        raise InterpolationError(
            f"The placeholder '{{{field}}}' names a function, and prompts do not call functions; "
            "call it in a code cell and put the result in a variable."
        )
    return value


def _refuse(value: Any, path: str, field: str) -> None:
    """A module, an interpreter internal or the environment on the way to a value (see the top)."""
    what = next((name for kind, name in _INTERNALS.items() if isinstance(value, kind)), None)
    if what == "a module":
        what = f"the module '{getattr(value, '__name__', '?')}'"
    elif what is None and isinstance(value, dict):
        module = dict.get(value, "__name__")
        if isinstance(module, str) and getattr(sys.modules.get(module), "__dict__", None) is value:
            what = f"the globals of the module '{module}'"
    if what is None and isinstance(value, MappingABC) and _environment_entries(value) >= 3:
        what = "a copy of the process environment"
    if what is not None:
        raise InterpolationError(
            f"The placeholder '{{{field}}}' reaches {what} through '{path}', which prompts may not read; "
            "put the value you want in a variable first."
        )


def _environment_entries(value: MappingABC) -> int:
    """How many entries of ``os.environ`` / ``os.environb`` the mapping ``value`` holds unchanged."""
    found = 0
    for env in (os.environ, getattr(os, "environb", {})):
        for key, item in env.items():
            try:
                found += key in value and value[key] == item
            except Exception:  # noqa: BLE001 - a mapping that cannot answer holds none of them
                return found
    return found


def _secrets() -> dict[str, str]:
    """value -> name of the environment variables that look like secrets (tokens, keys, passwords)."""
    return {
        v: k
        for k, v in os.environ.items()
        if _SECRET_NAME.search(k) and len(v) >= 12 and not any(c.isspace() for c in v)
    }


def _check_spec(spec: str, field: str) -> None:
    """Refuse widths and precisions that would build a huge string (checked before formatting)."""
    for number in _SPEC_NUMBER.findall(spec):
        if len(number) > 6 or int(number) > MAX_FORMAT_WIDTH:
            raise InterpolationError(
                f"The format ':{spec[:40]}' of '{{{field}}}' asks for {int(number[:12]):,}{'...' if len(number) > 12 else ''} "
                f"characters; use a width and precision of at most {MAX_FORMAT_WIDTH:,}."
            )


def _check_size(value: Any, spec: str, field: str) -> None:
    """A number whose fixed-point text would be longer than ``MAX_FIELD_LENGTH``, before building it.

    Only ``Decimal`` grows without bound from a short value (``Decimal("1e20000000")`` with ``:f``
    is 20 million digits); a float's ``:f`` has at most 309 digits before the point, and ints
    stop at Python's 4,300-digit limit.
    """
    if not isinstance(value, decimal.Decimal) or not value.is_finite():
        return
    match = _SPEC_TAIL.search(spec)
    precision, kind = match.groups() if match else (None, None)
    if kind not in ("f", "F", "%"):
        return
    _, digits, exponent = value.as_tuple()
    shift = 2 if kind == "%" else 0
    whole = max(len(digits) + int(exponent) + shift, 1)
    whole += whole // 3 if "," in spec or "_" in spec else 0  # thousands separators
    fraction = int(precision) if precision else max(-int(exponent) - shift, 0)
    if whole + fraction > MAX_FIELD_LENGTH:
        raise InterpolationError(
            f"The placeholder '{{{field}}}' would write a number of {whole + fraction:,} digits with ':{spec}'; "
            f"use ':e' or ':g' (or a precision) to keep it under {MAX_FIELD_LENGTH:,} characters."
        )


def _format(value: Any, spec: str, conversion: str | None, field: str, secrets: dict[str, str]) -> str:
    """One field's text: converted, formatted, at most ``MAX_FIELD_LENGTH`` long, no secret in it."""
    _check_spec(spec, field)
    try:
        if conversion:
            value = _CONVERSIONS[conversion](value)
        _check_size(value, spec, field)
        text = format(value, spec)
    except InterpolationError:
        raise
    except Exception as exc:  # a value's own __format__ / __repr__ failing, a number too large
        how = f"with the format ':{spec[:40]}'" if spec else "as text"
        why = " ".join(str(exc).split(";")[0].split())[:80]
        why = "a value it holds" if any(secret in why for secret in secrets) else why
        raise InterpolationError(
            f"'{{{field}}}' cannot be written {how} ({type(exc).__name__}: {why.rstrip('.')}); fix or drop "
            "the format, or put a plain value in the variable."
        ) from exc
    if len(text) > MAX_FIELD_LENGTH:
        raise InterpolationError(
            f"The placeholder '{{{field}}}' would put {len(text):,} characters into the prompt; a field may "
            f"hold at most {MAX_FIELD_LENGTH:,}: shorten the value first."
        )
    leaked = next((name for secret, name in secrets.items() if secret in text), None)
    if leaked is not None:
        raise InterpolationError(
            f"The placeholder '{{{field}}}' would put the value of the environment variable {leaked} "
            "into the prompt, which prompts may not do; leave secrets out of prompts."
        )
    return text


_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}


def fill(template: str, namespace: Mapping[str, Any]) -> str:
    """``template`` with every placeholder replaced by its value from ``namespace``.

    Conversions (``!r``) and format specs (``{x:.2f}``) work as in ``str.format``; nested
    placeholders inside a format spec are resolved the same safe way.  Whatever the template
    and the values, the result is text within the bounds above or an InterpolationError.
    """
    return filler(template)(namespace)


def filler(template: str) -> Callable[[Mapping[str, Any]], str]:
    """``fill`` for many namespaces (one per DataFrame row): the template is parsed and checked,
    and the environment's secrets are read, once."""
    pieces, secrets = _placeholders(template), _secrets()
    return lambda namespace: _fill(pieces, namespace, secrets)


def _fill(pieces: list[tuple], namespace: Mapping[str, Any], secrets: dict[str, str]) -> str:
    out: list[str] = []
    for literal, field, spec, conversion in pieces:
        out.append(literal)
        if field is None:
            continue
        value = _resolve(field, namespace)
        if spec and "{" in spec:
            spec = _fill(_placeholders(spec, nested=True), namespace, secrets)
        out.append(_format(value, spec or "", conversion, field, secrets))
    return "".join(out)


def escape(text: str) -> str:
    """``text`` with its braces doubled, so that ``fill`` gives it back unchanged."""
    return text.replace("{", "{{").replace("}", "}}")


def fenced(value: Any) -> str:
    """``value`` as text to put between markers (``<text>`` ... ``</text>``) in a prompt to a
    judging or labelling model: a closing marker inside it cannot end the block."""
    return str(value).replace("</", "<\\/")
