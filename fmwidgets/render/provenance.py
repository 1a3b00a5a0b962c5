"""How ``fm.repro()`` looks (the script, escaped) and ``fm.repro(verify=True)`` (the per-call
table, every cell escaped)."""

from __future__ import annotations

import html
from typing import Any

_MARK = {True: "✓", False: "✗", None: "–"}


def verification_bundle(result: Any) -> dict[str, Any]:
    table = result.table
    shown = table.assign(texts=table["texts"].map(_MARK), numbers=table["numbers"].map(_MARK))
    counts = table["status"].value_counts()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no calls recorded"
    verdict = "Every re-run call reproduced." if result.ok else "Some calls did not reproduce."
    return {
        "text/plain": f"{verdict} ({summary})\n{shown.to_string(index=False)}",
        "text/html": f"<div class='fm-verify'><b>{html.escape(verdict)}</b> {html.escape(summary)}"
        f"{shown.to_html(index=False, escape=True)}</div>",
    }


def repro_bundle(result: Any) -> dict[str, str]:
    where = f"<div>written to <code>{html.escape(str(result.path))}</code></div>" if result.path else ""
    return {
        "text/plain": repr(result),
        "text/html": f"{where}<pre class='fm-repro'>{html.escape(result.code)}</pre>",
    }
