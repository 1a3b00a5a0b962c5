"""How a recorded call is written back as code: ``literal_code`` and ``call_code`` are the only
way a recorded value reaches a replay script (script.py), so nothing from data can turn into code.

An ``Argument`` is how one argument of a recorded call can be given again (a literal, a notebook
variable, an earlier call's result); ``keyword_names`` refuses, before any work, a ``**params``
key that could not be written back as ``name=value``.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..errors import BadArgumentError, short


def is_name(text: Any) -> TypeGuard[str]:
    """True for a Python name (``top_p``), i.e. something a call can take as ``name=value``."""
    return isinstance(text, str) and text.isidentifier() and not keyword.iskeyword(text)


def keyword_names(keywords: Iterable[Any]) -> None:
    """A ``**params`` key that is not a Python name (``"top p"``, ``"x=1) and ..."``) is refused.

    Such a key could not be written back as ``name=value`` in a replay script; every function
    that takes ``**params`` gets its keys checked here (``recorded`` does it for the public ones)
    before any work.
    """
    for key in keywords:
        if not is_name(key):
            guess = re.sub(r"[\s-]+", "_", key.strip()) if isinstance(key, str) else ""
            raise BadArgumentError(
                f"The keyword {short(key, 40)} is not a Python name; write it with letters, digits "
                f"and _ only, e.g. {guess if is_name(guess) else 'max_new_tokens'}."
            )


class NotALiteral(ValueError):
    """A value ``literal_code`` cannot write (anything but plain data)."""


def literal_code(value: Any) -> str:
    """Python source for plain data: None, bool, int, float, str and lists/tuples/dicts of them.

    The only path by which a recorded value reaches a replay script.  It is built from exact
    types (``type(v) is str``, never a subclass with its own ``__repr__``): a ``str``'s ``repr``
    is always one string literal, whatever quotes, newlines or code the text holds, and the
    rest is digits and brackets, so nothing from data can turn into code.  ``NotALiteral`` for
    any other value.
    """
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return repr(value)
    if kind is int:
        return int.__repr__(value) if abs(value) < 10**4000 else hex(value)  # str() stops at 4,300 digits
    if kind is float:
        return float.__repr__(value) if math.isfinite(value) else f"float({str(value)!r})"
    if kind is list:
        return "[" + ", ".join(literal_code(v) for v in value) + "]"
    if kind is tuple:
        return "(" + ", ".join(literal_code(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if kind is dict:
        return "{" + ", ".join(f"{literal_code(k)}: {literal_code(v)}" for k, v in value.items()) + "}"
    raise NotALiteral(f"{kind.__name__} is not plain data")


@dataclass
class Argument:
    """How one argument of a recorded call can be given again.

    ``kind`` is ``literal`` (``value`` is written as it is), ``variable`` (a notebook variable
    ``name``; ``value`` holds its literal form when it has one), ``result`` (what the call at
    ``step`` returned, known in the notebook as ``name`` when the user kept it in a variable) or
    ``object`` (nothing to refer to it by).  DataFrames carry a ``fingerprint`` and, with
    ``%config FM.snapshot_dir``, the ``snapshot`` Parquet file they were saved to.
    """

    kind: str
    value: Any = None
    name: str | None = None
    step: int | None = None
    type: str = ""
    fingerprint: dict[str, Any] | None = None
    snapshot: str | None = None

    @property
    def runnable(self) -> bool:
        if self.kind == "literal":
            return not self.code().startswith("<")
        if self.kind == "variable" and is_name(self.name):
            return True
        return self.kind == "result" or self.snapshot is not None

    def code(self) -> str:
        """How the argument is written in a replay script (see ``literal_code``: data stays data)."""
        if self.kind == "literal":
            try:
                return literal_code(self.value)
            except NotALiteral:
                return f"<{type(self.value).__name__}>"
        if self.kind == "result":
            return self.name if is_name(self.name) else f"step{int(self.step or 0)}"
        if self.kind == "variable" and is_name(self.name):
            return str(self.name)
        if self.snapshot:
            return f"pd.read_parquet({literal_code(self.snapshot)})"
        return f"<{self.type}>"

    def describe(self) -> str:
        """One line for the history table and the script's notes."""
        text = self.code()
        if self.fingerprint:
            shape = "x".join(str(s) for s in self.fingerprint["shape"])
            text += f" ({self.type} {shape}, sha256 {self.fingerprint['sha256']})"
        return text


def call_code(function: str | None, arguments: dict[str, Argument]) -> str:
    """``fm.function(name=value, ...)``: values through ``Argument.code`` (data stays data), and a
    keyword that is not a Python name (never accepted by a call, see ``keyword_names``) as a string
    key of a trailing ``**{...}``, so even then the text is one call and nothing else."""
    named = [f"{k}={a.code()}" for k, a in arguments.items() if is_name(k)]
    other = [f"{literal_code(str(k))}: {a.code()}" for k, a in arguments.items() if not is_name(k)]
    if other:
        named.append("**{" + ", ".join(other) + "}")
    return f"fm.{function if is_name(function) else '<function>'}({', '.join(named)})"
