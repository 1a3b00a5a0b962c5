"""A plotly Figure that carries the RunRecord of what produced it.

It behaves as a ``go.Figure`` in every way (``update_layout``, ``write_html``...); displaying it
adds the record to the cell output's metadata under ``fmwidgets``, as every fmwidgets result does.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from .._compat import plotly_mime_bundle
from ..display import static_plotly
from ..records import RunRecord


class RecordedFigure(go.Figure):
    """``go.Figure`` plus ``record`` (a RunRecord or None)."""

    def __init__(self, *args: Any, record: RunRecord | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fm_record = record

    # plotly's _ipython_display_ publishes its own bundle and bypasses _repr_mimebundle_, which
    # would drop the record from the output metadata; without it IPython uses the bundle below.
    _ipython_display_ = None

    @property
    def record(self) -> RunRecord | None:
        return self._fm_record

    def _repr_mimebundle_(self, include=None, exclude=None, validate=True, **kwargs):
        static_plotly()  # the saved notebook shows the figure without a kernel or a CDN
        # Default renderers, activated once per kernel: go.Figure._repr_mimebundle_ names them
        # explicitly, which re-activates them and embeds plotly.js (4 MB) again for every figure.
        data = plotly_mime_bundle(self, validate, **kwargs)
        # a short text form, so IPython does not fall back to the figure's full repr; the title
        # is stored with its markup characters as entities (plots/text.py), read back here
        title = html.unescape(self.layout.title.text or f"{len(self.data)} traces")
        data.setdefault("text/plain", f"<Figure: {title}>")
        if self._fm_record is None:
            return data
        return data, {"fmwidgets": self._fm_record.to_dict()}


def with_record(fig: go.Figure, record: RunRecord | None) -> RecordedFigure:
    """Wrap a figure built by plotly express or by hand so that it carries ``record``."""
    return RecordedFigure(fig, record=record)
