"""How a saved prompt version looks (``fm.save_prompt``, ``%%fm prompt --save``, ``%fm prompt tag``):
its id, settings and pinned model on one line, then the template as written, escaped."""

from __future__ import annotations

import html
from typing import Any


def prompt_version_bundle(version: Any) -> dict[str, str]:
    settings = ", ".join(f"{k}={v!r}" for k, v in version.params.items())
    pinned = f"pinned to {version.model.describe()}" if version.model is not None else "not pinned to a model"
    head = " · ".join(part for part in (version.id, settings, pinned) if part)
    return {
        "text/plain": f"{head}\n{version.template}",
        "text/html": f"<div class='fm-prompt'><b>{html.escape(head)}</b>"
        f"<pre style='white-space:pre-wrap'>{html.escape(version.template)}</pre></div>",
    }
