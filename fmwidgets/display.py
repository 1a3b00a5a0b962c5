"""Plotly figures that still show in a saved notebook opened without a kernel or internet.

Inside a Jupyter kernel plotly's default renderer is ``plotly_mimetype`` alone: JupyterLab draws
it through its plotly extension, but nbconvert HTML and notebook viewers have no renderer for
that mimetype and show nothing.  ``plotly_mimetype+notebook`` adds a ``text/html`` rendering and
embeds plotly.js once per kernel (no CDN), so the exported HTML draws every figure offline.
"""

from __future__ import annotations

import os
import sys

RENDERER = "plotly_mimetype+notebook"


def static_plotly() -> None:
    """Make plotly figures self-contained in saved notebooks, without importing plotly.

    Before plotly is imported, its ``PLOTLY_RENDERER`` variable picks the default; after, the
    default is changed only where it is plotly's own kernel default, so a renderer the user
    chose is kept.
    """
    os.environ.setdefault("PLOTLY_RENDERER", RENDERER)
    pio = sys.modules.get("plotly.io")
    if pio is not None and pio.renderers.default == "plotly_mimetype":
        pio.renderers.default = RENDERER
