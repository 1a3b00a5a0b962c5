"""FMWarnings shown as one clean line: ``FMWarning: 3 empty rows were skipped.``

Python prints a warning as ``/path/to/fmwidgets/magics/inside.py:35: FMWarning: ...`` followed
by that source line, which tells a notebook user nothing.  ``install()`` wraps
``warnings.formatwarning`` so that warnings whose category is an ``FMWarning`` (defined here) print
the message alone; every other warning keeps Python's format.  Filters (``ignore``, ``error``)
are untouched.
"""

from __future__ import annotations

import warnings
from typing import Any


class FMWarning(UserWarning):
    """A fix fmwidgets made to the user's data (shown once, in the cell's output)."""


def _is_notice(category: Any) -> bool:
    return isinstance(category, type) and issubclass(category, FMWarning)


def install() -> None:
    """Wrap ``warnings.formatwarning`` once (calling it again changes nothing)."""
    current = warnings.formatwarning
    if getattr(current, "_fm_notice", False):
        return

    def formatwarning(message, category, filename, lineno, line=None):
        if _is_notice(category):
            return f"{category.__name__}: {message}\n"
        return current(message, category, filename, lineno, line)

    formatwarning._fm_notice = True  # type: ignore[attr-defined]
    warnings.formatwarning = formatwarning
