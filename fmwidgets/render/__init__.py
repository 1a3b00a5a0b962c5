"""The render layer: how a result looks in a notebook, decided outside ``core/``.

``core/`` result classes are data plus a ``RunRecord``; they build no HTML.  Each one names its
look where it is defined, a function of this package that turns it into a mimebundle::

    class Generation(BatchRow, Recorded, look=generation_bundle): ...

``Shown`` / ``Recorded`` (below) hand that function's bundle to IPython, ``Recorded`` with the
record in the output metadata.  A look returns ``text/plain`` always, ``text/html`` with every
piece of data-derived text escaped, and a static picture where the live view is a widget, so a
saved notebook reads without a kernel.  ``display_data`` puts the HTML in a container MathJax
skips (``style.no_math``).

This package sits below ``core/``: its modules take results by duck typing and import nothing
from core, plots, widgets or the magics (tests/test_layers.py checks it), so any core module
can import the look of its results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..records import RunRecord

Look = Callable[[Any], dict[str, Any]]


class Shown:
    """Mixin for results that show themselves: ``class X(Shown, look=f)`` displays as ``f(x)``."""

    _look: Look

    def __init_subclass__(cls, look: Look | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if look is not None:
            cls._look = staticmethod(look)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return display_data(self)


class Recorded(Shown):
    """Mixin for displayable results that carry a ``record``: it goes into the output metadata,
    and with ``%config FM.show_record = True`` its one-line summary is shown under the result."""

    record: RunRecord

    def _repr_mimebundle_(self, include=None, exclude=None):
        from ..config import settings
        from .style import no_math, note

        data = dict(super()._repr_mimebundle_(include, exclude))
        if settings().show_record:
            line = self.record.summary()
            if "text/html" in data:
                data["text/html"] += no_math(note(line, css_class="fm-record"))
            data["text/plain"] = data.get("text/plain", "") + "\n" + line
        return data, {"fmwidgets": self.record.to_dict()}


def display_data(result: Shown) -> dict[str, Any]:
    """The mimebundle of ``result``, from the look its class names (without the record)."""
    look = getattr(type(result), "_look", None)
    if look is None:
        raise LookupError(
            f"{type(result).__name__} names no look; define it as class {type(result).__name__}"
            "(..., look=f) with f in fmwidgets/render/."
        )
    from .style import no_math

    bundle = look(result)
    if "text/html" in bundle:  # text from data or a model is never typeset as TeX
        bundle = {**bundle, "text/html": no_math(bundle["text/html"])}
    return bundle
