"""How a ``ClipResult`` looks: image thumbnails against texts, cells shaded by probability.

Plain HTML with the thumbnails inlined as data URIs, so it reads in a saved notebook without
JavaScript.
"""

from __future__ import annotations

import html
from typing import Any

from .images import thumbnail_uri


def clip_bundle(result: Any) -> dict[str, str]:
    return {"text/html": clip_table(result), "text/plain": result.labels.to_string(index=False)}


def clip_table(result: Any) -> str:
    head = "".join(f"<th style='padding:4px 8px'>{html.escape(t)}</th>" for t in result.texts)
    rows = []
    for i, (image, name) in enumerate(zip(result.images, result.names)):
        best = int(result.probs[i].argmax())
        cells = "".join(
            f"<td style='padding:4px 8px;text-align:center;background:rgba(99,110,250,{p:.2f})'"
            f" title='cosine {s:.3f}'>{p:.0%}</td>"
            for p, s in zip(result.probs[i], result.similarity[i])
        )
        rows.append(
            f"<tr><td><img src='{thumbnail_uri(image, 48)}' width='48' alt='{html.escape(name)}'></td>"
            f"<td style='padding:4px 8px'>{html.escape(name)}</td>{cells}"
            f"<td style='padding:4px 8px'><b>{html.escape(result.texts[best])}</b></td></tr>"
        )
    return (
        "<table class='fm-clip' style='border-collapse:collapse'>"
        f"<tr><th></th><th>image</th>{head}<th>best label</th></tr>{''.join(rows)}</table>"
    )
