"""How ``fm.environment()`` (a table of versions and devices) and ``fm.repro()`` (a script) look."""

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


def repro_bundle(result: Any) -> dict[str, str]:
    where = f"<div>written to <code>{html.escape(str(result.path))}</code></div>" if result.path else ""
    return {
        "text/plain": repr(result),
        "text/html": f"{where}<pre class='fm-repro'>{html.escape(result.code)}</pre>",
    }
