"""The shared look of fmwidgets HTML: JupyterLab theme colours, with fallbacks outside Lab.

Every colour is a ``--jp-*`` variable of the JupyterLab theme with a light-theme fallback, so
the same output reads well in a dark Lab theme, in classic Notebook, and in nbconvert HTML or
on GitHub (where no ``--jp-*`` variable exists and the fallback is used).  Inline styles go
through the constants and helpers below; anywidgets put ``CSS`` in their ``_css``.
"""

from __future__ import annotations

import html

TEXT = "var(--jp-ui-font-color1, #222)"
MUTED = "var(--jp-ui-font-color2, #666)"
BACKGROUND = "var(--jp-layout-color1, #fff)"
PANEL = "var(--jp-layout-color2, #eee)"
BORDER = "var(--jp-border-color2, #ddd)"
ACCENT = "var(--jp-brand-color1, #1976d2)"
ON_ACCENT = "var(--jp-ui-inverse-font-color1, #fff)"  # text on ACCENT (dark in the dark theme)
ERROR = "var(--jp-error-color1, #b00)"
MONO = "var(--jp-code-font-family, monospace)"
# Translucent tints for panels under TEXT (chat bubbles, diff marks): the same tint reads on a
# light and on a dark background, where a fixed pastel would put light text on a light panel.
TINT_BLUE = "rgba(33,150,243,.16)"
TINT_GREY = "rgba(128,128,128,.14)"
TINT_YELLOW = "rgba(255,193,7,.2)"
TINT_PURPLE = "rgba(124,58,237,.16)"
TINT_RED = "rgba(244,67,54,.22)"
TINT_GREEN = "rgba(76,175,80,.25)"

# For anywidgets (``_css``) and HTML outputs that carry a <style>: classes scoped under .fm-ui.
# A selected button is ``.fm-on``; a framed panel (a review card) is ``.fm-box``; a framed part of
# one (an output beside another) is ``.fm-panel``, marked when chosen with ``.fm-on`` too.
CSS = f"""
.fm-ui {{ color: {TEXT}; background: {BACKGROUND}; font-family: var(--jp-ui-font-family, sans-serif); }}
.fm-ui .fm-muted {{ color: {MUTED}; font-size: 11px; }}
.fm-ui .fm-error {{ color: {ERROR}; }}
.fm-ui .fm-box {{ border: 1px solid {BORDER}; padding: 8px; max-width: 760px; outline: none; font-size: 13px; }}
.fm-ui pre {{ color: {TEXT}; }}
.fm-ui table {{ border-collapse: collapse; }}
.fm-ui th, .fm-ui td {{ border: 1px solid {BORDER}; padding: 4px 8px; text-align: left; color: {TEXT}; }}
.fm-ui button, .fm-ui select, .fm-ui input {{ color: {TEXT}; background: {PANEL}; border: 1px solid {BORDER}; }}
.fm-ui .fm-panel {{ border: 1px solid {BORDER}; border-radius: 4px; padding: 4px 8px; }}
.fm-ui .fm-panel.fm-on {{ border-color: {ACCENT}; box-shadow: 0 0 0 1px {ACCENT}; }}
.fm-ui button.fm-on {{ color: {ON_ACCENT}; background: {ACCENT}; border-color: {ACCENT}; }}
.fm-ui button:disabled {{ color: {MUTED}; }}
"""


# MathJax (JupyterLab's, nbconvert's HTML) skips elements of these classes (v2's and v3's name).
NO_MATH = "tex2jax_ignore mathjax_ignore"


def no_math(markup: str) -> str:
    """``markup`` inside a container MathJax leaves alone: the one way fmwidgets keeps TeX out.

    JupyterLab typesets every HTML output, and MathJax reads the text of the page after the
    browser has decoded its entities, so ``$\\frac{a}{b}$`` (or ``\\(x^2\\)``) in a prompt, an
    output or a cell of data would be drawn as a fraction however it was escaped.  Every HTML
    output goes through here (``render.display_data``, the widgets' saved views, their plain
    fallbacks).  Plotly labels are the exception: Plotly reads ``$`` itself, before the browser,
    so ``plots/text.py`` writes it as ``&#36;``.
    """
    return f'<div class="{NO_MATH}">{markup}</div>'


def note(text: str, css_class: str = "fm-muted") -> str:
    """A small muted line (a summary, a hint under a result); ``text`` is escaped."""
    return f'<div class="{css_class}" style="font-size:11px;color:{MUTED}">{html.escape(text)}</div>'


def pre(text: str, margin: str = "0 0 4px 0") -> str:
    """Wrapped preformatted text (model output keeps its spaces and newlines); escaped."""
    return f'<pre style="white-space:pre-wrap;margin:{margin};color:{TEXT}">{html.escape(text)}</pre>'


def error(text: str) -> str:
    """A one-line error message in the theme's error colour; ``text`` is escaped."""
    return f'<span class="fm-error" style="color:{ERROR}">{html.escape(text)}</span>'


def cell_style() -> str:
    """The inline style of a bordered table cell."""
    return f"border:1px solid {BORDER};padding:6px;vertical-align:top;text-align:left"
