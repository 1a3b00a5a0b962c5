"""A plain output beside a live widget, so a saved notebook shows the view without a kernel.

nbconvert, GitHub and nbviewer draw ``text/html`` outputs but no ipywidgets without a kernel (or
saved widget state).  A view displays its widget and then a ``PlainOutput``: ordinary HTML (a
figure saved once through ``display.figure_html``, tables, status text), updated in place
through a display handle as the view changes.  Parts that only repeat what the widget shows are
wrapped in ``hidden_by_widget``; the widget carries ``hider()``, a style rule that hides them as
soon as the widget renders.  So a live notebook shows each thing once, and a saved one still
shows it.
"""

from __future__ import annotations

import uuid
from typing import Any

import ipywidgets as w

from ..display import plotly_js_once
from ..render.style import no_math


class PlainOutput:
    """One display area of plain HTML that a widget view keeps up to date."""

    def __init__(self) -> None:
        self.css_class = f"fm-fallback-{uuid.uuid4().hex[:12]}"
        self.handle: Any = None

    def hidden_by_widget(self, html: str) -> str:
        """``html`` shown only where the widget does not render (a saved notebook)."""
        return f"<div class='{self.css_class}'>{html}</div>"

    def hider(self) -> w.HTML:
        """The widget part that hides the ``hidden_by_widget`` parts once it renders."""
        return w.HTML(f"<style>.{self.css_class} {{ display: none; }}</style>")

    def show(self, bundle: dict[str, str], record: Any = None, figures: bool = True) -> None:
        """Display the area (plotly.js first, once per kernel, where it will hold ``figures``);
        later ``update`` calls replace it.

        ``record`` (a RunRecord) goes into the output metadata, as for every fmwidgets result.
        """
        from IPython.display import display

        if figures:
            plotly_js_once()
        self.handle = display(_no_math(bundle), raw=True, display_id=True, metadata=_metadata(record))

    def update(self, bundle: dict[str, str], record: Any = None) -> None:
        if self.handle is not None:
            self.handle.update(_no_math(bundle), raw=True, metadata=_metadata(record))


def _no_math(bundle: dict[str, str]) -> dict[str, str]:
    return {**bundle, "text/html": no_math(bundle["text/html"])} if "text/html" in bundle else bundle


def _metadata(record: Any) -> dict[str, Any]:
    return {"fmwidgets": record.to_dict()} if record is not None else {}


class StaticBeside:
    """For a widget that draws one item at a time (the review views, the chat window): displayed,
    it shows the widget and then ``static_picture()`` as a ``PlainOutput`` hidden while the widget
    renders.

    Putting that HTML in the widget's own bundle is not enough: nbconvert, nbviewer and GitHub
    draw the widget-view part first and drop the ``text/html`` beside it, so a saved notebook
    showed nothing.  ``refresh_static()`` (called whenever the item on screen changes) keeps the
    plain output current, so a saved notebook shows the last state."""

    _static: PlainOutput | None = None

    def static_picture(self) -> dict[str, str]:
        """``text/html`` (escaped) and ``text/plain`` of the item on screen."""
        raise NotImplementedError

    def static_record(self) -> Any:
        """The RunRecord put in the plain output's metadata (None: the widget has none)."""
        return None

    def _plain_bundle(self, plain: PlainOutput) -> dict[str, str]:
        picture = self.static_picture()
        return {**picture, "text/html": plain.hidden_by_widget(picture["text/html"])}

    def refresh_static(self) -> None:
        if self._static is not None:
            self._static.update(self._plain_bundle(self._static), self.static_record())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._static = plain = PlainOutput()
        display(w.VBox([self, plain.hider()]))
        plain.show(
            self._plain_bundle(plain), self.static_record(), figures=False
        )  # text only: no 4 MB plotly.js
