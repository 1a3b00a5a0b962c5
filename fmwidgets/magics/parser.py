"""The grammar of `%fm`: one argparse parser per subcommand, errors as one-line UsageErrors.

A subcommand is declared once with ``@command(name, help, arg(...), ..., calls=...)`` next to its
handler; the handler receives the parsed arguments, the cell body (or None), the IPython shell and
the line's keywords, and calls exactly one public API function.  Flags map to keywords by
argparse's own rule (``--max-new-tokens`` -> ``max_new_tokens``), so magics and Python stay
spelled alike.

Defaults are the API's, kept one way: a flag that stands for a keyword of the function a
subcommand calls is declared without a default.  Left out of the line, it is left out of the
call (``argparse.SUPPRESS``), so that function's own default applies, and ``--help`` shows that
default, read from the signature of the public functions named by ``calls``.  The handler gets
the flags the line gave (and, for a ``passthrough`` command, its unknown ``--flags``) as
``**given`` and passes them on.  Positional arguments, and the flags a handler reads itself
(``--out VAR``, ``--new``), are read from ``args`` and state their own default.
"""

from __future__ import annotations

import argparse
import ast
import enum
import inspect
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError


class HelpShown(Exception):
    """Raised after argparse printed --help, so the magic returns quietly."""


@dataclass(frozen=True)
class AlreadyShown:
    """What a handler returns when its live view already shows the result in the cell: the
    history records ``result``, and the magic returns nothing for ``Out[]`` to show again."""

    result: Any


class Cell(enum.Enum):
    """Whether a subcommand takes a cell body."""

    NO = "line only: %fm NAME ..."
    NEEDED = "needs a body: %%fm NAME ... with the text below"
    OPTIONAL = "either"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line in the notebook) instead of exiting, leaves an
    unset flag out of the namespace, and shows in ``--help`` the defaults of ``calls`` (names of
    public functions, looked up when the help is first shown: a widget's module is heavy)."""

    def __init__(self, prog: str, calls: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.declared: list[argparse.Action] = []  # every argument, as add_argument made it
        super().__init__(prog=prog, argument_default=argparse.SUPPRESS, **kwargs)
        self.calls, self._defaults_shown = calls, False

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.declared.append(action)
        return action

    def format_help(self) -> str:
        if not self._defaults_shown:
            import fmwidgets

            functions = [getattr(fmwidgets, name) for name in self.calls]
            for action in self.declared:
                if action.default is argparse.SUPPRESS and action.option_strings and action.nargs != 0:
                    action.help = help_with_default(action.help, functions, action.dest)
            self._defaults_shown = True
        return super().format_help()

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see {self.prog} --help.")

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            raise UsageError(f"{self.prog}: {message.strip()}")
        raise HelpShown()


@dataclass
class Command:
    name: str
    help: str
    handler: Callable
    parser: ArgumentParser
    cell: Cell = Cell.NO
    passthrough: bool = False  # unknown --flags become keyword arguments
    group: str = "models"


COMMANDS: dict[str, Command] = {}


@dataclass
class Arg:
    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **kwargs: Any) -> Arg:
    """One argparse argument, as for ``parser.add_argument``."""
    return Arg(flags, kwargs)


def default_of(func: Callable, name: str) -> Any:
    """``func``'s default for its parameter ``name`` (``inspect.Parameter.empty`` when it has none)."""
    parameter = inspect.signature(func).parameters.get(name)
    return inspect.Parameter.empty if parameter is None else parameter.default


def help_with_default(help: str | None, functions: list[Callable], name: str) -> str | None:
    """``help`` ending with the default for ``name`` of the first of ``functions`` that has one.
    A default of None or a bool is not shown: None's meaning (e.g. "the current model") is the
    help's to say, and a switch's default is its absence."""
    value = next(
        (v for v in (default_of(f, name) for f in functions) if v is not inspect.Parameter.empty), None
    )
    if value is None or isinstance(value, bool):
        return help
    shown = f"default {value}".replace("%", "%%")  # argparse %-formats help strings
    return f"{help} ({shown})" if help else shown


def command(
    name: str,
    help: str,
    *args: Arg,
    calls: str | tuple[str, ...] = (),
    cell: Cell = Cell.NO,
    passthrough: bool = False,
    group: str = "models",
    usage: str | None = None,
):
    """Register the decorated handler as `%fm NAME` with the given arguments.

    ``calls``: the public function (or functions, by their ``fm.`` names) whose keywords the
    flags are; their defaults are the flags' defaults (see the module's docstring).
    """

    def decorate(handler: Callable) -> Callable:
        prefix = "%%fm" if cell is Cell.NEEDED else "%fm"
        parser = ArgumentParser(
            prog=f"{prefix} {name}",
            description=help,
            usage=usage,
            add_help=True,
            calls=(calls,) if isinstance(calls, str) else calls,
        )
        for a in args:
            parser.add_argument(*a.flags, **a.kwargs)
        COMMANDS[name] = Command(name, help, handler, parser, cell, passthrough, group)
        return handler

    return decorate


# `--engine ray` and its settings, on every magic whose work runs in batches
ENGINE_ARGS = (
    arg(
        "--engine",
        choices=("local", "ray", "vllm"),
        help="where the batches run: local (this kernel), ray, or vllm (text generation on CUDA; default: %%config FM.engine)",
    ),
    arg(
        "--ray-address",
        metavar="ADDR",
        help="with --engine ray: the cluster (default: FM.ray_address, RAY_ADDRESS, else a local Ray)",
    ),
    arg(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine ray: model replicas (for finetune: training workers)",
    ),
)
ENGINE_KEYWORDS = ("engine", "ray_address", "workers")


# Flags whose value is a prompt template: its {column} placeholders belong to fmwidgets, so the
# line's own {name} / $name expansion leaves them alone.
TEMPLATE_FLAGS = {"--template", "--prompt"}
_NOTEBOOK_NAME = re.compile(r"\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")


def expand_variables(argv: list[str], namespace: dict[str, Any]) -> list[str]:
    """``{name}`` and ``$name`` in the arguments -> the notebook variable's text, as IPython would,
    except in template values (``--template T``, ``--prompt=T``...).

    Only plain names are filled (no expressions are evaluated, unlike IPython's own expansion),
    and only with strings, numbers and paths; anything else stays as written.
    """

    def fill(match: re.Match) -> str:
        value = namespace.get(match.group(1) or match.group(2), None)
        if isinstance(value, (str, int, float, os.PathLike)) and not isinstance(value, bool):
            return str(value)
        return match.group(0)

    out = []
    for i, token in enumerate(argv):
        is_template = token.split("=", 1)[0] in TEMPLATE_FLAGS and "=" in token
        if is_template or (i > 0 and argv[i - 1] in TEMPLATE_FLAGS):
            out.append(token)
        else:
            out.append(_NOTEBOOK_NAME.sub(fill, token))
    return out


def split(line: str) -> list[str]:
    """shlex split with a UsageError for unbalanced quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"%fm: cannot read the line ({exc}); check that every quote is closed.") from exc


def parse(cmd: Command, argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    """Parsed arguments, and the keywords the line gave: the flags declared without a default
    that it set, and for passthrough commands the unknown flags."""
    if cmd.passthrough:
        ns, rest = cmd.parser.parse_known_args(argv)
        extra = extra_keywords(cmd, rest)
    else:
        ns, extra = cmd.parser.parse_args(argv), {}
    given = {
        a.dest: getattr(ns, a.dest)
        for a in cmd.parser.declared
        if a.option_strings and a.default is argparse.SUPPRESS and hasattr(ns, a.dest)
    }
    return ns, {**given, **extra}


def take(given: dict[str, Any], func: Callable) -> dict[str, Any]:
    """The keywords of ``given`` that name parameters of ``func``, taken out of ``given`` (for the
    one handler whose line also sets a display: %fm attention's --view)."""
    names = inspect.signature(func).parameters
    return {k: given.pop(k) for k in list(given) if k in names}


def extra_keywords(cmd: Command, rest: list[str]) -> dict[str, Any]:
    """['--repetition-penalty', '1.2', '--flag'] -> {'repetition_penalty': 1.2, 'flag': True}."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(rest):
        token = rest[i]
        if not token.startswith("--") or len(token) < 3:
            cmd.parser.error(f"unrecognized argument '{token}'")
        key, _, value = token[2:].partition("=")
        key = key.replace("-", "_")
        if not value and i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            value, i = rest[i + 1], i + 1
        out[key] = literal(value) if value else True
        i += 1
    return out


def literal(text: str) -> Any:
    """'1.2' -> 1.2, 'true' -> True, "[1, 2]" -> [1, 2], anything else stays a string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def variable(shell: Any, name: str, what: str = "variable") -> Any:
    """A notebook variable by name, or a UsageError that names it."""
    ns = shell.user_ns if shell is not None else {}
    if name not in ns:
        raise UsageError(
            f"%fm: there is no {what} named '{name}' in the notebook; define it first or check the spelling."
        )
    return ns[name]


def set_variable(shell: Any, name: str | None, value: Any) -> None:
    """``--out VAR``: put a result into the notebook's namespace."""
    if name:
        if not name.isidentifier():
            raise UsageError(f"%fm: --out needs a Python variable name, not '{name}'.")
        shell.user_ns[name] = value
