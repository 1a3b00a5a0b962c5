"""FMWarnings shown as one clean line: ``FMWarning: 3 empty rows were skipped.``

Python prints a warning as ``/path/to/fmwidgets/magics/inside.py:35: FMWarning: ...`` followed
by that source line, which tells a notebook user nothing.  ``install()`` wraps
``warnings.formatwarning`` so that warnings whose category is an FMWarning (core/data.py) print
the message alone; every other warning keeps Python's format.  Filters (``ignore``, ``error``)
are untouched.
"""

from __future__ import annotations

import warnings
from typing import Any


def _is_notice(category: Any) -> bool:
    # by name along the class hierarchy, so that this module imports nothing of fmwidgets.core
    return any(
        c.__name__ == "FMWarning" and c.__module__.startswith("fmwidgets")
        for c in getattr(category, "__mro__", ())
    )


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
