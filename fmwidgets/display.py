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
transparent backgrounds and the theme's text colour.
"""

from __future__ import annotations

import html
import os
import sys
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


# Run after the figure is drawn (plotly's post_script; {plot_id} is its div).  In JupyterLab's
# dark theme the figure's template gets transparent backgrounds and the theme's --jp-* text and
# border colours (plotly.js takes no CSS variables, so they are read here); back in a light
# theme it gets its own template again.  Outside Lab (nbconvert HTML, GitHub) nothing changes.
THEME_SCRIPT = """
var gd = document.getElementById('{plot_id}'), own = gd.layout.template || {};
function fmTheme() {
  var dark = document.body.dataset.jpThemeLight === 'false';
  if (dark === (gd.dataset.fmTheme === 'dark')) return;
  gd.dataset.fmTheme = dark ? 'dark' : 'light';
  var template = own;
  if (dark) {
    var css = getComputedStyle(gd), v = function (name, dflt) { return css.getPropertyValue(name).trim() || dflt; };
    var text = v('--jp-ui-font-color1', '#e0e0e0'), line = v('--jp-border-color2', '#555'), none = 'rgba(0,0,0,0)';
    var axis = {gridcolor: line, linecolor: line, zerolinecolor: line, tickcolor: line};
    template = JSON.parse(JSON.stringify(own));
    var l = template.layout = template.layout || {};
    l.paper_bgcolor = l.plot_bgcolor = none;
    l.font = Object.assign(l.font || {}, {color: text});
    l.xaxis = Object.assign(l.xaxis || {}, axis);
    l.yaxis = Object.assign(l.yaxis || {}, axis);
    l.scene = l.scene || {};
    ['xaxis', 'yaxis', 'zaxis'].forEach(function (k) {
      l.scene[k] = Object.assign(l.scene[k] || {}, axis, {backgroundcolor: none});
    });
  }
  Plotly.react(gd, gd.data, Object.assign({}, gd.layout, {template: template}));
}
fmTheme();
new MutationObserver(fmTheme).observe(document.body, {attributes: true, attributeFilter: ['data-jp-theme-light']});
"""


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
    # the title is stored with its markup characters as entities (plots/text.py): read them back
    title = html.unescape(fig.layout.title.text or f"{len(fig.data)} traces")
    return {"text/html": figure_html(fig), "text/plain": f"<Figure: {title}>"}
