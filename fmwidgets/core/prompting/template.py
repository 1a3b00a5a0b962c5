"""Filling ``{name}`` / ``{obj.attr}`` / ``{d[key]}`` placeholders without evaluating code.

A prompt cell is text, not code: it must not be able to run anything in the kernel.  Python's
own ``str.format`` already avoids ``eval`` but lets a placeholder walk into dunder attributes
(``{obj.__class__.__init__.__globals__}``), which leaks the kernel's state into a prompt.  Here
``string.Formatter`` only parses; each field is resolved by plain ``getattr`` / ``[]`` steps,
attributes that start with ``_`` are refused, and an unknown name is an InterpolationError that
names it.  ``{{`` and ``}}`` stay literal braces, as in f-strings.

Two more things a prompt may not do.  Reach into a module (``{os.environ[HF_TOKEN]}`` would put a
secret into the prompt, and ``%%fm compare`` would then store it in the notebook): module objects,
anything reached through one, and the process environment are refused.  And ask for a huge
width or precision (``{x:999999999}`` builds a gigabyte string and kills the kernel): numbers in
a format spec above ``MAX_FORMAT_WIDTH`` are refused before anything is formatted.
"""

from __future__ import annotations

import os
import re
import string
import types
from typing import Any, Callable, Mapping

from ..._compat import split_field_name
from ...errors import InterpolationError

_PARSER = string.Formatter()
MAX_FORMAT_WIDTH = 1000  # the largest width or precision a format spec may ask for
_SPEC_NUMBER = re.compile(r"\d+")


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
    """The top-level names the template's placeholders use, in order, without repeats."""
    names: list[str] = []
    for _, field, _, _ in _parse(template):
        if field is not None:
            first, _ = _split_field(field)
            if first not in names:
                names.append(first)
    return names


def _parse(template: str) -> list[tuple]:
    try:
        return list(_PARSER.parse(template))
    except ValueError as exc:
        raise InterpolationError(
            f"The prompt has an unmatched brace ({exc}); write {{{{ or }}}} for a literal brace."
        ) from exc


def _resolve(field: str, namespace: Mapping[str, Any]) -> Any:
    first, steps = _split_field(field)
    if first not in namespace:
        raise InterpolationError(
            f"The prompt uses '{{{field}}}' but nothing named '{first}' is defined; define the "
            "variable first, or write {{ and }} for literal braces."
        )
    value = namespace[first]
    path = first
    _refuse_module(value, path, field)
    for is_attr, key in steps:
        if is_attr:
            if key.startswith("_"):
                raise InterpolationError(
                    f"The placeholder '{{{field}}}' reads the private attribute '{key}', which prompts "
                    "may not do; use a public attribute or put the value in a variable."
                )
            try:
                value = getattr(value, key)
            except AttributeError as exc:
                raise InterpolationError(
                    f"'{path}' has no attribute '{key}' (placeholder '{{{field}}}'); check the name."
                ) from exc
            path += f".{key}"
        else:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError) as exc:
                raise InterpolationError(
                    f"'{path}' has no item [{key!r}] (placeholder '{{{field}}}'); check the key."
                ) from exc
            path += f"[{key!r}]"
        _refuse_module(value, path, field)
    if callable(value) and not isinstance(value, type):
        # A bound method would be shown as "<bound method ...>": almost surely a mistake.
        raise InterpolationError(
            f"The placeholder '{{{field}}}' names a function, and prompts do not call functions; "
            "call it in a code cell and put the result in a variable."
        )
    return value


def _refuse_module(value: Any, path: str, field: str) -> None:
    """A module (or the environment) on the way to a value: the placeholder could read secrets."""
    if isinstance(value, types.ModuleType) or value is os.environ:
        what = (
            "the process environment"
            if value is os.environ
            else f"the module '{getattr(value, '__name__', '?')}'"
        )
        raise InterpolationError(
            f"The placeholder '{{{field}}}' reaches {what} through '{path}', which prompts may not read; "
            "put the value you want in a variable first."
        )


def _check_spec(spec: str, field: str) -> None:
    """Refuse widths and precisions that would build a huge string (checked before formatting)."""
    for number in _SPEC_NUMBER.findall(spec):
        if int(number) > MAX_FORMAT_WIDTH:
            raise InterpolationError(
                f"The format ':{spec}' of '{{{field}}}' asks for {int(number):,} characters; use a width "
                f"and precision of at most {MAX_FORMAT_WIDTH:,}."
            )


_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}


def fill(template: str, namespace: Mapping[str, Any]) -> str:
    """``template`` with every placeholder replaced by its value from ``namespace``.

    Conversions (``!r``) and format specs (``{x:.2f}``) work as in ``str.format``; nested
    placeholders inside a format spec are resolved the same safe way, and a width or precision
    above ``MAX_FORMAT_WIDTH`` is refused.
    """
    out: list[str] = []
    for literal, field, spec, conversion in _parse(template):
        out.append(literal)
        if field is None:
            continue
        value = _resolve(field, namespace)
        if conversion:
            value = _CONVERSIONS[conversion](value)
        if spec and "{" in spec:
            spec = fill(spec, namespace)
        _check_spec(spec or "", field)
        try:
            out.append(format(value, spec or ""))
        except (ValueError, TypeError) as exc:
            raise InterpolationError(
                f"The format '{spec}' does not apply to '{{{field}}}' ({exc}); fix or drop the ':{spec}'."
            ) from exc
    return "".join(out)


def escape(text: str) -> str:
    """``text`` with its braces doubled, so that ``fill`` gives it back unchanged."""
    return text.replace("{", "{{").replace("}", "}}")
