"""A plotly Figure that carries the RunRecord of what produced it.

It behaves as a ``go.Figure`` in every way (``update_layout``, ``write_html``...); displaying it
adds the record to the cell output's metadata under ``fmwidgets``, as every fmwidgets result does,
and saves the figure once (``display.figure_bundle``).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..display import figure_bundle
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
        # one text/html with the data once, plotly.js once per kernel (see display.py)
        data = figure_bundle(self)
        if self._fm_record is None:
            return data
        return data, {"fmwidgets": self._fm_record.to_dict()}


def with_record(fig: go.Figure, record: RunRecord | None) -> RecordedFigure:
    """Wrap a figure built by plotly express or by hand so that it carries ``record``."""
    return RecordedFigure(fig, record=record)
