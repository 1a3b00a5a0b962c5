"""Images in a result's look: small PNG thumbnails as data URIs, so a saved notebook shows them."""

from __future__ import annotations

from typing import Any


def thumbnail_uri(image: Any, size: int = 64) -> str:
    """A small PNG data URI of ``image``, for thumbnails in figures and HTML tables."""
    import base64
    import io

    thumb = image.copy()
    thumb.thumbnail((size, size))
    buf = io.BytesIO()
    thumb.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
