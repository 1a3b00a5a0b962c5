"""How ``fm.environment()`` looks: a table of versions and devices."""

from __future__ import annotations

import html
from typing import Any


def environment_bundle(result: Any) -> dict[str, str]:
    cells = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in result.rows()
    )
    return {"text/plain": repr(result), "text/html": f"<table class='fm-env'>{cells}</table>"}
