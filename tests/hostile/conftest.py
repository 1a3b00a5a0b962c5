"""Hostile-input tests: plotly's renderer set as a displayed fmwidgets figure sets it.

``display.static_plotly`` picks plotly's renderer through an environment variable that plotly
reads when ``plotly.io`` first loads.  The explorer loads it early (building its figure), so
without this a hostile-input test would change what later figure tests see.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _renderer_as_when_displayed():
    from fmwidgets.display import static_plotly

    static_plotly()
