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
MONO = "var(--jp-code-font-family, monospace)"

# For anywidgets (``_css``) and HTML outputs that carry a <style>: classes scoped under .fm-ui.
CSS = f"""
.fm-ui {{ color: {TEXT}; background: {BACKGROUND}; font-family: var(--jp-ui-font-family, sans-serif); }}
.fm-ui .fm-muted {{ color: {MUTED}; font-size: 11px; }}
.fm-ui table {{ border-collapse: collapse; }}
.fm-ui th, .fm-ui td {{ border: 1px solid {BORDER}; padding: 4px 8px; text-align: left; color: {TEXT}; }}
.fm-ui button, .fm-ui select {{ color: {TEXT}; background: {PANEL}; border: 1px solid {BORDER}; }}
"""


def note(text: str) -> str:
    """A small muted line (a summary, a hint under a result); ``text`` is escaped."""
    return f'<div class="fm-muted" style="font-size:11px;color:{MUTED}">{html.escape(text)}</div>'


def pre(text: str, margin: str = "0 0 4px 0") -> str:
    """Wrapped preformatted text (model output keeps its spaces and newlines); escaped."""
    return f'<pre style="white-space:pre-wrap;margin:{margin};color:{TEXT}">{html.escape(text)}</pre>'


def cell_style() -> str:
    """The inline style of a bordered table cell."""
    return f"border:1px solid {BORDER};padding:6px;vertical-align:top;text-align:left"
