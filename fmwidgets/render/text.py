"""Data text in Plotly figures: shown as written, never as markup.

Plotly draws every label (titles, legend and trace names, tick labels, annotations, hover and
cell text) through its own pseudo-HTML: ``<a href=...>`` becomes a live link, ``<b>`` bold,
``<br>`` a line break, and a text with two ``$`` is typeset as TeX when MathJax is on the page.
Plotly then decodes a few entities (``&amp; &lt; &gt;`` and numeric ones such as ``&#36;``) back
into plain characters.  So ``plotly_text`` writes ``&``, ``<``, ``>`` and ``$`` as those
entities: the reader sees ``a<b`` and ``$5``, and nothing in the data can become markup.  It is
not ``html.escape``: Plotly does not decode ``&quot;``, so a quote escaped that way would show
as the six characters ``&quot;``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"})


def plotly_text(value: Any, limit: int | None = None) -> str:
    """``value`` as text Plotly shows literally, cut to ``limit`` characters (with an ellipsis) first."""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_ENTITIES)


def plotly_texts(values: Iterable[Any], limit: int | None = None) -> list[str]:
    """``plotly_text`` of each value."""
    return [plotly_text(v, limit) for v in values]
