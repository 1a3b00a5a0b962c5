"""The one place where fmwidgets touches other libraries' private APIs.

Private names (``_string``, ``plotly.io._utils``, ipykernel's subshell manager, transformers'
``_attn_implementation``...) can change in any release.  Each use lives here, behind a check of
the version it was written against and of the names it needs, with a fallback that keeps
fmwidgets working (perhaps slower, or without a nicety) when the check fails.  Nothing else in the
package may use another library's private name: tests/test_compat.py greps for it.

Imports stay inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import threading
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Iterator


def _major(package: str) -> int | None:
    """The installed major version of ``package``, or None when it is not installed."""
    try:
        return int(version(package).split(".")[0])
    except (PackageNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# CPython: the field-name parser behind str.format (core/prompting/template.py)


def split_field_name(field: str) -> tuple[Any, list[tuple[bool, Any]]]:
    """('obj', [(True, 'attr'), (False, 'key')]) for 'obj.attr[key]', as str.format parses it.

    A numeric first part or ``[0]`` key comes back as an int, as in str.format.  Raises
    ValueError for a malformed field.  Uses CPython's ``_string`` module (what
    ``string.Formatter`` itself calls) where it exists, else the same parser in Python.
    """
    try:
        import _string
    except ImportError:  # another Python implementation
        return _split_field_name_py(field)
    first, rest = _string.formatter_field_name_split(field)
    return first, list(rest)


def _split_field_name_py(field: str) -> tuple[Any, list[tuple[bool, Any]]]:
    """Pure-Python twin of ``_string.formatter_field_name_split`` (same results, same errors)."""
    end = len(field)
    for i, char in enumerate(field):
        if char in ".[":
            end = i
            break
    first: Any = field[:end]
    if first.isdigit():
        first = int(first)
    steps: list[tuple[bool, Any]] = []
    i = end
    while i < len(field):
        if field[i] == ".":
            j = i + 1
            while j < len(field) and field[j] not in ".[":
                j += 1
            name = field[i + 1 : j]
            if not name:
                raise ValueError("Empty attribute in format string")
            steps.append((True, name))
        elif field[i] == "[":
            j = field.find("]", i)
            if j < 0:
                raise ValueError("Missing ']' in format string")
            key: Any = field[i + 1 : j]
            if not key:
                raise ValueError("Empty attribute in format string")
            steps.append((False, int(key) if key.isdigit() else key))
            j += 1
            if j < len(field) and field[j] not in ".[":
                raise ValueError("Only '.' or '[' may follow ']' in format field specifier")
        else:
            raise ValueError("Only '.' or '[' may follow ']' in format field specifier")
        i = j
    return first, steps


# --------------------------------------------------------------------------------------------
# plotly: activate the default renderers once per kernel (display.py)


_ACTIVATED: set[str] = set()


def activate_plotly_renderers() -> None:
    """Activate plotly's default renderers once per kernel, as displaying a plain figure would.

    The "notebook" renderer publishes plotly.js (4 MB) when activated, so this is how plotly.js
    gets into a notebook once, shared by plain plotly figures and fmwidgets figures.  plotly 5-7
    keep the renderers still to activate in the private ``_to_activate``; elsewhere each default
    renderer is activated once by name through its public ``activate``.
    """
    import plotly.io as pio
    from plotly.io.base_renderers import MimetypeRenderer

    if _major("plotly") in (5, 6, 7) and hasattr(pio.renderers, "_activate_pending_renderers"):
        pio.renderers._activate_pending_renderers(cls=MimetypeRenderer)
        return
    for name in (pio.renderers.default or "").split("+"):
        if name and name not in _ACTIVATED and isinstance(pio.renderers[name], MimetypeRenderer):
            pio.renderers[name].activate()
            _ACTIVATED.add(name)


# --------------------------------------------------------------------------------------------
# transformers: which attention a loaded model runs (core/embedding/embed.py)


def attn_implementation(model: Any) -> str | None:
    """'eager', 'sdpa', ... as the model's config records it, or None where it cannot tell."""
    if _major("transformers") not in (4, 5):
        return None
    return getattr(model.config, "_attn_implementation", None)


def supports_sdpa(model: Any) -> bool:
    """Whether the model class can run SDPA attention (False where it cannot tell)."""
    if _major("transformers") not in (4, 5) or not hasattr(model, "set_attn_implementation"):
        return False
    return bool(getattr(model, "_supports_sdpa", False))


# --------------------------------------------------------------------------------------------
# ipykernel: widget messages handled on a kernel subshell while a cell waits (widgets/training.py)


def kernel_subshells(kernel: Any) -> bool:
    """Whether ``kernel`` can route a comm's messages to a subshell (ipykernel 7's JEP 91).

    Needs ipykernel 7's subshell manager and the comm routing hook; False means the caller
    pumps widget messages itself (jupyter-ui-poll).
    """
    if _major("ipykernel") != 7 or not getattr(kernel, "_supports_kernel_subshells", False):
        return False
    manager = getattr(getattr(kernel, "shell_channel_thread", None), "manager", None)
    return hasattr(manager, "_create_subshell") and hasattr(manager, "_delete_subshell")


@contextlib.contextmanager
def subshell_route(kernel: Any, comm: Any) -> Iterator[None]:
    """Send ``comm``'s front-end messages to a kernel subshell thread while the cell waits.

    ipykernel >= 7 runs a cell and the widget messages of the main shell on one thread, so a
    click would wait for the cell to end; a subshell (its own thread) handles the click at
    once.  Subshells are created on the shell channel thread, as a client's create_subshell
    request would be.  Call only where ``kernel_subshells(kernel)`` is True.
    """
    thread = kernel.shell_channel_thread

    def on_channel_thread(fn, *args):
        box, done = {}, threading.Event()

        def call():
            try:
                box["value"] = fn(*args)
            finally:
                done.set()

        thread.io_loop.add_callback(call)
        done.wait(10)
        return box.get("value")

    subshell = on_channel_thread(thread.manager._create_subshell)
    comm._reply_subshell_for = lambda data, default: subshell
    try:
        yield
    finally:
        del comm._reply_subshell_for
        on_channel_thread(thread.manager._delete_subshell, subshell)


# --------------------------------------------------------------------------------------------
# datasets: the fingerprint of a Dataset's content and transforms (core/evaluation/data.py)


def datasets_fingerprint(dataset: Any) -> str | None:
    """The hash ``datasets`` keeps of a Dataset's data and the transforms applied, or None.

    It names the exact data an evaluation read; where the private attribute is gone the
    record still has fmwidgets' own fingerprint of the DataFrame.
    """
    if _major("datasets") not in (2, 3, 4, 5):
        return None
    return getattr(dataset, "_fingerprint", None)
