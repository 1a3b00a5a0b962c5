"""FigureView: a Plotly figure drawn by the page's plotly.js, with lasso and box selections sent back.

plotly's own ``go.FigureWidget`` is an anywidget whose front end bundles all of plotly.js (5 MB),
and ipywidgets saves that bundle in the notebook's widget state once per widget.  This view's
front end (js/src/figure_view.js, built into static/figure_view.js) holds no plotly.js: it draws
with the ``window.Plotly`` that the plain output beside it loaded (plotly.js is published once
per kernel, ``display.plotly_js_once``).  So a saved notebook holds plotly.js once, however many
maps it shows.

The figure travels as plotly's JSON (``figure``), with numeric arrays as base64 typed arrays, and
the front end answers a selection by setting ``selection``: one ``[trace, point]`` pair per
selected point (empty when the selection is cleared).  ``fallback_id`` is the CSS class of the
static copy of the figure; the front end hides it once it has drawn the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..render.style import CSS


class FigureView(anywidget.AnyWidget):
    """A figure drawn with the page's plotly.js; ``selection`` holds the selected (trace, point) pairs."""

    _esm = Path(__file__).parent / "static" / "figure_view.js"
    _css = CSS

    figure = t.Unicode("{}").tag(sync=True)  # plotly JSON: arrays as {"dtype", "bdata"} typed arrays
    selection = t.List(t.List(t.Int(), minlen=2, maxlen=2)).tag(sync=True)
    fallback_id = t.Unicode("").tag(sync=True)

    def show(self, fig: Any) -> None:
        """Draw ``fig`` (a go.Figure) in place of the current figure; the selection is cleared."""
        import plotly.io as pio

        with self.hold_sync():
            self.selection = []
            self.figure = pio.to_json(fig, validate=False)
