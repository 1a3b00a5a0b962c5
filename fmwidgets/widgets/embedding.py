"""The embedding explorer: a WebGL map of a DataFrame's rows with search, colour-by and selection.

``EmbeddingExplorer`` embeds the rows once (``fm.embed``), projects them (``fm.project``) and
draws them with the same figure builder as ``fm.plot_embeddings``, in a ``FigureView`` (drawn by
the page's plotly.js) so that lasso and box selections come back to Python: ``explorer.selected``
is the DataFrame of the selected rows (and ``%fm embed ... --out VAR`` keeps a notebook variable in step).  The
search box embeds what is typed and lights up its nearest rows; the colour picker re-colours
the map by any column.  Errors inside a callback cannot reach the cell, so they are shown as
one sentence in the status line.

Before the widget, a plain output holds the same map as a static figure (saved once, see
``widgets/fallback.py``), kept in step with searches and colours and hidden once the widget has
drawn, so a saved notebook still shows the map.  That output also brings plotly.js (once per
kernel), which the ``FigureView`` draws with: unlike ``go.FigureWidget``, it saves no copy of
plotly.js per explorer in the notebook.  ``explorer.figure`` is the map as drawn now (a go.Figure).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from ..core.data import as_texts
from ..core.embedding.embed import default_pooling, embed_rows, nearest, similar
from ..core.embedding.project import project
from ..display import figure_html
from ..engines import Engine
from ..errors import FMError
from ..plots.embedding import (
    HOVER_POINTS,
    embedding_figure,
    hover_columns,
    hover_lines,
)
from ..provenance.history import recorded, recording
from ..records import RunRecord
from ..render.style import NO_MATH
from ..signatures import expands
from .fallback import PlainOutput
from .figure_view import FigureView

_NO_COLOUR = "(none)"


@recorded
class EmbeddingExplorer(w.VBox):
    """Interactive map of the rows of ``source`` (a DataFrame, list or Series of texts or images).

    ``text`` names the column to embed (a DataFrame with one column needs none); ``color`` and
    ``hover`` name columns; ``method`` / ``dims`` / ``seed`` go to ``fm.project``; ``k`` is how
    many rows a search lights up; ``on_select`` is called with the selected rows' DataFrame;
    ``engine="ray"`` embeds the rows on a Ray cluster (see ``fm.embed``).
    """

    @expands(Engine, "where")
    def __init__(
        self,
        source: Any,
        text: str | None = None,
        model: Any = None,
        *,
        color: str | None = None,
        hover: Any = None,
        method: str = "pca",
        dims: int = 2,
        pooling: str | None = None,
        seed: int = 0,
        k: int = 10,
        title: str | None = None,
        strict: bool = False,
        on_select: Callable[[Any], None] | None = None,
        where: Engine,
    ) -> None:
        import pandas as pd

        frame = (
            source
            if isinstance(source, pd.DataFrame)
            else pd.DataFrame({"text": as_texts(source, "source to explore")})
        )
        if text is None and frame.shape[1] == 1:
            text = frame.columns[0]
        vectors, positions, handle = embed_rows(
            frame,
            model,
            text=text,
            pooling=pooling,
            strict=strict,
            where=where,
        )
        self.handle = handle
        self.source = source
        self.column = text
        self.data = frame.iloc[positions]
        self.vectors = vectors
        self.points = project(vectors, method=method, dims=dims, seed=seed)
        self.pooling = pooling or default_pooling(handle)
        self.k = k
        self.hover = hover if hover is not None else [self.column]
        self.title = title
        self.on_select = on_select
        self.matches = self.data.iloc[0:0]
        self.record = RunRecord.for_model(
            "embedding_explorer",
            handle,
            {
                "text": self.column,
                "color": color,
                "method": method,
                "dims": dims,
                "pooling": self.pooling,
                "k": k,
            },
            seed=seed,
            data=frame,
        )
        self._trace_rows: list[np.ndarray] = []
        self._query: str | None = None
        self._match_rows = np.arange(0)

        self.search_box = w.Text(
            placeholder="search: type a text and press Enter",
            continuous_update=False,
            layout=w.Layout(width="50%"),
        )
        options = [_NO_COLOUR] + [str(c) for c in self.data.columns]
        self.color_picker = w.Dropdown(
            options=options, value=color if color in options else _NO_COLOUR, description="colour by"
        )
        self.status = w.Label(value=f"{len(self.data):,} rows · {method.upper()} · select with lasso or box")
        for name in NO_MATH.split():  # a Label is typeset by MathJax, and it shows selected rows' text
            self.status.add_class(name)
        self.figure = go.Figure()
        self.plain = PlainOutput()
        self.map = FigureView(fallback_id=self.plain.css_class)
        self._draw()
        self.map.observe(lambda change: self._selection_changed(), names="selection")
        self.search_box.observe(lambda change: self._guard(self.search, change["new"]), names="value")
        self.color_picker.observe(lambda change: self._guard(self._draw), names="value")
        super().__init__([w.HBox([self.search_box, self.color_picker]), self.map, self.status])

    # ---------------------------------------------------------------------------------------
    # What the user reads back

    @property
    def selected(self):
        """The rows selected with lasso or box, as a DataFrame (empty when nothing is selected)."""
        return self.data.iloc[self._selected_rows()]

    def _selected_rows(self) -> np.ndarray:
        """Row numbers of the selected points (the front end sends (trace, point) pairs)."""
        rows = [
            int(self._trace_rows[trace][point])
            for trace, point in self.map.selection
            if 0 <= trace < len(self._trace_rows) and 0 <= point < len(self._trace_rows[trace])
        ]
        return np.unique(np.asarray(rows, dtype=int))

    def search(self, query: str, k: int | None = None):
        """Light up the ``k`` rows nearest to ``query``; returns them with a score column."""
        query = (query or "").strip()
        self._query = query or None
        if not query:
            self.matches = self.data.iloc[0:0]
            self._draw()
            self.status.value = "search cleared"
            return self.matches
        # recorded as the equivalent public call, fm.similar, on the rows the explorer was given
        with recording(
            similar,
            query,
            self.source,
            text=self.column,
            k=k or self.k,
            model=self.handle.name,
            pooling=self.pooling,
        ) as call:
            query_vector = embed_rows([query], self.handle, pooling=self.pooling)[0][0]
            top, scores = nearest(self.vectors, query_vector, k or self.k)
            self.matches = call.done(self.data.iloc[top].assign(score=scores.astype(float)))
        self._match_rows = top
        self._draw()
        self.status.value = f"{len(top)} nearest rows to the search are outlined in red"
        return self.matches

    # ---------------------------------------------------------------------------------------
    # Drawing and events

    def _draw(self) -> None:
        colour = self.color_picker.value
        colour = (
            None
            if colour == _NO_COLOUR
            else self.data.columns[[str(c) for c in self.data.columns].index(colour)]
        )
        fig, trace_rows = embedding_figure(
            self.points, color=colour, hover=self.hover, data=self.data, title=self.title, record=self.record
        )
        traces = list(fig.data)
        if self._query:
            traces.append(self._match_trace())
            trace_rows.append(self._match_rows)
        self._trace_rows = trace_rows
        self.figure = go.Figure(data=traces, layout=fig.layout)
        self.map.show(self.figure)  # clears the selection (no on_select call: nothing was chosen)
        self.plain.update(self.picture(), self.record)

    def picture(self) -> dict[str, str]:
        """The plain output: the map as drawn now, for a notebook opened without a kernel."""
        return {
            "text/html": self.plain.hidden_by_widget(figure_html(self.figure)),
            "text/plain": f"<EmbeddingExplorer: {len(self.data):,} rows>",
        }

    def _match_trace(self):
        rows = self._match_rows
        pts = self.points[rows]
        hover = hover_lines(self.hover, self.data, len(self.data), rows)
        common = dict(
            mode="markers",
            name="search: nearest",
            text=hover.tolist(),
            hovertemplate="%{text}<extra>nearest</extra>",
            marker={"size": 12, "color": "rgba(0,0,0,0)", "line": {"color": "red", "width": 2}},
        )
        if pts.shape[1] == 3:
            return go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **common)
        return go.Scattergl(x=pts[:, 0], y=pts[:, 1], **common)

    def _selection_changed(self) -> None:
        chosen = self.selected
        self.status.value = f"{len(chosen):,} rows selected (explorer.selected)" + self._selected_text()
        if self.on_select is not None:
            self.on_select(chosen)

    def _selected_text(self, shown: int = 3, chars: int = 60) -> str:
        """A big map has no hover text (HOVER_POINTS): the status line reads the first selected rows."""
        rows = self._selected_rows()[:shown]
        if len(self.data) <= HOVER_POINTS or not len(rows):
            return ""
        columns = hover_columns(self.hover, self.data, len(self.data))
        texts = [" · ".join(" ".join(str(values[r]).split())[:chars] for _, values in columns) for r in rows]
        return ": " + " | ".join(texts) + (" | …" if len(self.selected) > shown else "")

    def _guard(self, action: Callable, *args: Any) -> None:
        """Run a callback; an FMError becomes the status line (a callback cannot raise to the cell)."""
        try:
            action(*args)
        except FMError as exc:
            self.status.value = f"{type(exc).__name__}: {exc}"

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        return data, {"fmwidgets": self.record.to_dict()}

    def _ipython_display_(self) -> None:
        """The static map (with plotly.js, once per kernel), then the widget that draws with it and
        hides the static map once it has drawn."""
        from IPython.display import display

        self.plain.show(self.picture(), self.record)
        data, metadata = self._repr_mimebundle_()
        display(data, raw=True, metadata=metadata)
