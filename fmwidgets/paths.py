"""Paths as fmwidgets shows and stores them: the home folder written as ``~``.

Records, ``%fm env`` and fine-tuning run cards end up in shared notebooks and folders, and an
absolute path such as ``/home/ada.lovelace/clients/acme/model`` tells every reader the user's
login and folder layout.  ``home_as_tilde`` writes the home folder as ``~`` (which
``Path.expanduser`` and ``fm.load`` read back), and ``tilde_paths`` does it for every string in
a record's nested dicts and lists.
"""

from __future__ import annotations

import os
import re
from typing import Any


def _home_pattern() -> re.Pattern | None:
    """The home folder where it starts a path (not inside a longer name), or None for a root home."""
    home = os.path.expanduser("~").rstrip("/\\")
    if len(home) < 2:  # "/" (some containers): every path would start with it
        return None
    return re.compile(r"(?<![\w.~-])" + re.escape(home) + r"(?=[/\\]|$|[\s'\",;:)\]}])")


def home_as_tilde(text: str) -> str:
    """``text`` with the home folder written as ``~`` wherever a path starts with it."""
    pattern = _home_pattern()
    return text if pattern is None else pattern.sub("~", text)


def tilde_paths(value: Any) -> Any:
    """``value`` (a record's dict, list or string) with ``home_as_tilde`` applied to every string."""
    if isinstance(value, str):
        return home_as_tilde(value)
    if isinstance(value, dict):
        return {k: tilde_paths(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tilde_paths(v) for v in value]
    return value
