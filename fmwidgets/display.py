"""Plotly figures saved once, that still draw in a saved notebook opened without a kernel or internet.

A figure's output is one ``text/html``: a div and the script that draws it from the figure's
JSON, so its data is in the notebook once.  plotly.js (4 MB) is embedded once per kernel, as an
output of its own before the first figure (plotly's "notebook" renderer does exactly that), and
sets ``window.Plotly`` for every later figure; nothing comes from a CDN.  JupyterLab runs the
scripts of outputs it trusts (everything the session produced, and notebooks it signed on save);
nbconvert HTML, VS Code and nbviewer run them as any page does.

``application/vnd.plotly.v1+json`` is left out on purpose: it would save the data a second time,
and nbconvert and notebook viewers have no renderer for it.  Known limit: a host that isolates
each output in its own frame (Colab) sees plotly.js in the first output only.

JupyterLab's own plotly renderer (jupyterlab-plotly) draws only the mimetype above and has no
dark theme, so the figures theme themselves (``THEME_SCRIPT``): in Lab's dark theme they take
transparent backgrounds and the theme's text colour.  Those rules live in one JavaScript file,
js/src/plotly_theme.js, with two users: built as a plain script (widgets/static/plotly_theme.js,
where all built front-end code goes) it runs after every static figure drawn here, and the
explorer's live map (the FigureView anywidget) bundles the same module.  JavaScript, because
the rules need the page (the theme's colours are CSS variables, which plotly.js cannot read);
one file, so that a static figure and a live map cannot drift apart in a theme.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from typing import Any

RENDERER = "plotly_mimetype+notebook"
_NOTEBOOK_ACTIVATED = False


def static_plotly() -> None:
    """Make plain plotly figures self-contained in saved notebooks, without importing plotly.

    Before plotly is imported, its ``PLOTLY_RENDERER`` variable picks the default; after, the
    default is changed only where it is plotly's own kernel default, so a renderer the user
    chose is kept.
    """
    os.environ.setdefault("PLOTLY_RENDERER", RENDERER)
    pio = sys.modules.get("plotly.io")
    if pio is not None and pio.renderers.default == "plotly_mimetype":
        pio.renderers.default = RENDERER


def plotly_js_once() -> None:
    """Publish plotly.js, once per kernel, as an output of its own (before the first figure).

    It goes through plotly's own "notebook" renderer activation, so a notebook that mixes plain
    plotly figures and fmwidgets figures still embeds plotly.js only once.
    """
    global _NOTEBOOK_ACTIVATED
    import plotly.io as pio

    from ._compat import activate_plotly_renderers

    static_plotly()
    activate_plotly_renderers()
    if "notebook" not in (pio.renderers.default or "").split("+") and not _NOTEBOOK_ACTIVATED:
        pio.renderers["notebook"].activate()  # the user picked other renderers: plotly.js once, here
        _NOTEBOOK_ACTIVATED = True


# Run after the figure is drawn (plotly's post_script; {plot_id} is its div): the figure follows
# JupyterLab's theme from now on, by the rules of js/src/plotly_theme.js (see the docstring above).
THEME_SCRIPT = (Path(__file__).parent / "widgets" / "static" / "plotly_theme.js").read_text(
    encoding="utf-8"
) + "fmPlotlyTheme.followTheme(Plotly, document.getElementById('{plot_id}'));\n"


def figure_html(fig: Any) -> str:
    """The figure as one HTML fragment: its div and drawing script, with the data inline once."""
    import plotly.io as pio

    page = pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        default_width="100%",
        default_height=fig.layout.height or 525,
        validate=False,
        post_script=THEME_SCRIPT,
    )
    # plotly writes "/" in its JSON as \u002f so no "</script>" can occur; "\/" is as safe, and
    # a sixth the size where it counts: every 64th character of base64-packed point data.
    return page.replace("\\u002f", "\\/")


def figure_bundle(fig: Any) -> dict[str, str]:
    """The mimebundle of a figure in a notebook: plotly.js once per kernel, then ``figure_html``."""
    plotly_js_once()
    # the title is stored with its markup characters as entities (render/text.py): read them back
    title = html.unescape(fig.layout.title.text or f"{len(fig.data)} traces")
    return {"text/html": figure_html(fig), "text/plain": f"<Figure: {title}>"}
