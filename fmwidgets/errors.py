"""The errors a user of fmwidgets can meet.

Every failure caused by the user's input (a wrong name, a missing column, a model that cannot
do what was asked) is an ``FMError`` whose message is one plain sentence: what was wrong and
what to do.  In IPython it is shown as that one line instead of a traceback wall
(``_render_traceback_``), but it is still raised, so an executed notebook fails on it.  The
library exception that caused it stays chained as ``__cause__`` for whoever wants the details.
"""

from __future__ import annotations

from typing import Any


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting user input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FMError(Exception):
    """Base class: a mistake the user can fix, described in one sentence."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the traceback.
        name = type(self).__name__
        return [f"\x1b[31m{name}\x1b[0m: {self}"]


class ModelNotFoundError(FMError):
    """A hub id or folder that holds no model."""


class ModelLoadError(FMError):
    """A model exists but could not be loaded (remote code, memory, broken files)."""


class RemoteCodeRequiredError(ModelLoadError):
    """The model ships its own Python code and the user has not allowed it to run."""


class OutOfMemoryError(ModelLoadError):
    """The model does not fit in the memory of the chosen device."""


class UnknownModelNameError(FMError):
    """A name given to use/unload/--model that is not in the session registry."""


class NoModelLoadedError(FMError):
    """A feature needs a model and none has been loaded yet."""


class WrongFamilyError(FMError):
    """The model's family cannot do what was asked (an encoder asked to generate...)."""


class DataError(FMError):
    """Bad input data: missing or empty columns, NaN rows, empty inputs."""


class BadArgumentError(FMError, ValueError):
    """An argument of a Python call has a value that makes no sense."""


class InterpolationError(FMError, KeyError):
    """A ``{placeholder}`` in a prompt names nothing in the notebook."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(FMError, ImportError):
    """An optional package is needed for this feature."""


class EngineError(FMError):
    """Batch work on another engine (a Ray cluster) could not start or did not finish."""

    partial: Any = None  # when it stopped part-way: the finished results, None for the others
    usage: list | None = None  # an API-served model's accounting of those results, per row


class RemoteModelError(FMError):
    """An API-served model's server could not be reached, refused the key, or failed a request."""

    status: int | None = None  # the HTTP status the server answered with, when it answered
