"""Where a run will write (a folder for a model, a script file): checked before the run starts.

A target that already holds something is refused unless the user says ``overwrite`` (two models
in one folder, or last week's script replaced, are silent losses), and a target that cannot be
written (a file where a folder is expected, a read-only place, ``/proc``) is found by writing a
probe file there, before an hour of training rather than after it.  Checking rights with
``os.access`` would not do: as root it says yes to everything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from ..errors import BadArgumentError


def writable_folder(path: str | os.PathLike, flag: str, *, overwrite: bool) -> Path:
    """The folder ``path`` (created if missing), refused when it holds files and not ``overwrite``."""
    folder = _path(path, flag)
    if folder.exists() and not folder.is_dir():
        raise BadArgumentError(f"{flag} '{path}' is a file, not a folder; pick a folder path.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise BadArgumentError(
            f"{flag} '{path}' already holds files, and a second model there would mix with them; "
            "pick an empty or new folder, or pass --overwrite (overwrite=True) to replace them."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(flag, path, exc) from exc
    _probe(folder, flag, path)
    return folder


def writable_files(paths: Iterable[str | os.PathLike], flag: str, *, overwrite: bool) -> None:
    """Refuse files that exist (unless ``overwrite``) or whose folder cannot be written."""
    for path in paths:
        target = _path(path, flag)
        if target.is_dir():
            raise BadArgumentError(f"{flag} '{path}' is a folder; give a file path.")
        if target.exists() and not overwrite:
            raise BadArgumentError(
                f"{flag} would replace the existing file '{path}'; pick another path, or pass "
                "--overwrite (overwrite=True) to replace it."
            )
        if not target.parent.is_dir():
            raise BadArgumentError(
                f"The folder '{target.parent}' of {flag} does not exist; create it or pick another path."
            )
        _probe(target.parent, flag, path)


def _path(path: str | os.PathLike, flag: str) -> Path:
    if "\x00" in str(path):
        raise BadArgumentError(f"{flag} {str(path)!r} holds a NUL character; retype the path.")
    return Path(path).expanduser()


def _probe(folder: Path, flag: str, path: str | os.PathLike) -> None:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".fm-write-check-"):
            pass
    except OSError as exc:
        raise _unwritable(flag, path, exc) from exc


def _unwritable(flag: str, path: str | os.PathLike, exc: OSError) -> BadArgumentError:
    why = exc.strerror or type(exc).__name__
    return BadArgumentError(f"{flag} '{path}' cannot be written ({why}); pick a folder you can write to.")
