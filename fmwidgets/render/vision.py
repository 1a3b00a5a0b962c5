"""How image classifications look: one row per image, its thumbnail and its top labels as bars.

Labels come from the model's config and row labels from the user's data, so both are escaped;
the thumbnails are PNG data URIs made by ``render.images.thumbnail_uri``.
"""

from __future__ import annotations

import html
from typing import Any


def image_classification_bundle(result: Any) -> dict[str, Any]:
    rows = []
    for image, group in result.groupby("image", sort=False):
        thumb = result.thumbnails.get(image, "")
        bars = "".join(
            f'<div style="display:flex;align-items:center;gap:6px"><div style="width:{120 * p:.0f}px;height:10px;'
            f'background:#4c78a8"></div><span>{html.escape(str(label))} {p:.3f}</span></div>'
            for label, p in zip(group["label"], group["probability"])
        )
        rows.append(
            f'<tr><td style="vertical-align:top">{html.escape(str(image))}</td>'
            f'<td><img src="{thumb}" style="width:64px;image-rendering:pixelated"></td>'
            f'<td style="text-align:left">{bars}</td></tr>'
        )
    plain = result.to_string(index=False)
    return {
        "text/plain": plain,
        "text/html": f'<table class="fm-image-labels" style="font-size:12px"><tr><th>image</th><th></th>'
        f'<th style="text-align:left">labels</th></tr>{"".join(rows)}</table>',
    }
