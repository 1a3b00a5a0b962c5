"""`%fm SUB ...` and `%%fm SUB ...`: split the line, parse it, call the handler, return its result.

The magic text itself is what enters the session history (``fm.repro()``), so a repro script
repeats the user's own cells.  Errors are raised, never printed: an executed notebook fails on
a bad call, and IPython shows UsageError and FMError as one line.

IPython would expand ``{name}`` and ``$name`` in the line before we see it, which silently
fills a ``--template "Review: {item}"`` from a notebook variable ``item`` instead of each row.
So ``%fm`` is ``@no_var_expand`` and expands plain ``{name}``/``$name`` itself, in every
argument except templates (``TEMPLATE_FLAGS``): ``%fm load {path}`` keeps working.
"""

from __future__ import annotations

import importlib
import pkgutil
import shlex
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from ..config import attach
from ..display import static_plotly
from ..provenance.history import recording
from .parser import COMMANDS, AlreadyShown, Cell, HelpShown, expand_variables, parse, split

_GROUPS = (
    "models",
    "prompts",
    "fine-tuning",
    "embeddings",
    "retrieval",
    "labelling",
    "inside",
    "evaluation",
    "reproducibility",
)


def load_commands() -> None:
    """Import every module of this package, which registers its subcommands (@command)."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(f".{module.name}", __package__)


def overview() -> str:
    """`%fm help`: every subcommand with one line, grouped as in the README."""
    load_commands()
    lines = ["fmwidgets magics — `%fm SUB --help` for the options of one subcommand.", ""]
    for group in _GROUPS:
        cmds = [c for c in COMMANDS.values() if c.group == group]
        if not cmds:
            continue
        lines.append(f"{group}:")
        for c in cmds:
            prefix = "%%fm" if c.cell is Cell.NEEDED else "%fm"
            lines.append(f"  {prefix + ' ' + c.name:<22} {c.help}")
        lines.append("")
    return "\n".join(lines).rstrip()


def run(line: str, cell: str | None, shell) -> object:
    """Parse and run one magic invocation; returns what the handler returns."""
    load_commands()
    argv = split(line)
    expanded = expand_variables(argv, shell.user_ns if shell is not None else {})
    if expanded != argv:  # the history keeps the line that ran, so a replay needs no variable
        argv, line = expanded, shlex.join(expanded)
    if not argv or argv[0] in ("help", "-h", "--help"):
        if len(argv) > 1 and argv[1] in COMMANDS:
            COMMANDS[argv[1]].parser.print_help()
        else:
            print(overview())
        return None
    name, rest = argv[0], argv[1:]
    if rest and f"{name} {rest[0]}" in COMMANDS:  # a two-word subcommand: %fm prompt tag ...
        name, rest = f"{name} {rest[0]}", rest[1:]
    if name not in COMMANDS:
        raise UsageError(f"%fm: unknown subcommand '{name}'; `%fm help` lists them ({', '.join(COMMANDS)}).")
    cmd = COMMANDS[name]
    body = cell if cell is not None and cell.strip() else None
    if cmd.cell is Cell.NEEDED and body is None and "--help" not in rest and "-h" not in rest:
        raise UsageError(
            f"%%fm {name} needs a cell body: write %%fm {name} on the first line and the text below it."
        )
    if cmd.cell is Cell.NO and body is not None:
        raise UsageError(f"%fm {name} takes no cell body; use the line form %fm {name} ... on its own.")
    try:
        args, given = parse(cmd, rest)
    except HelpShown:
        return None
    code = f"%fm {line}" if cell is None else f"%%fm {line}\n{cell}"
    with recording(code, rerun=run) as call:
        result = cmd.handler(args, body, shell, **given)
        if isinstance(result, AlreadyShown):
            call.done(result.result)
            return None
        return call.done(result)


@magics_class
class FMMagics(Magics):
    """The %fm line magic and %%fm cell magic."""

    @no_var_expand
    @line_cell_magic
    def fm(self, line: str, cell: str | None = None):
        return run(line, cell, self.shell)


def register(ipython) -> None:
    attach(ipython)
    static_plotly()
    ipython.register_magics(FMMagics)
