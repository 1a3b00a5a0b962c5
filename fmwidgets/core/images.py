"""Images from what a notebook user has at hand: PIL images, file paths, or a column of either.

CLIP-style features take images in the same shapes as texts (a list, a Series, a DataFrame
column).  This module decides whether an input is images at all (so that ``fm.embed`` can send
texts and images down the right path) and opens them, naming the row of any image that cannot
be opened so that one broken file in a thousand is easy to find.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def is_image_item(value: Any) -> bool:
    """True for a PIL image, a path object, or a string naming an image file by its suffix."""
    if _is_pil(value) or isinstance(value, os.PathLike):
        return True
    return isinstance(value, str) and "\n" not in value and Path(value).suffix.lower() in IMAGE_SUFFIXES


def looks_like_images(items: Sequence[Any]) -> bool:
    """Whether a list of inputs holds images (every usable item is one) rather than texts."""
    present = [v for v in items if v is not None and not (isinstance(v, float) and v != v)]
    return bool(present) and all(is_image_item(v) for v in present)


def open_images(items: Sequence[Any], labels: Sequence[Any] | None = None) -> list:
    """RGB PIL images for ``items``; a DataError names the row (``labels``) that failed."""
    labels = list(labels) if labels is not None else list(range(len(items)))
    return [open_image(item, label) for item, label in zip(items, labels)]


def open_image(item: Any, label: Any = 0):
    """One RGB PIL image from a PIL image or a path."""
    from PIL import Image, UnidentifiedImageError

    if _is_pil(item):
        return item if item.mode == "RGB" else item.convert("RGB")
    if not isinstance(item, (str, os.PathLike)):
        raise DataError(
            f"Row {label!r} holds a {type(item).__name__}, not an image; pass PIL images or paths "
            "of image files."
        )
    try:
        with Image.open(item) as img:
            return img.convert("RGB")
    except FileNotFoundError as exc:
        raise DataError(
            f"The image of row {label!r} does not exist ({item}); fix the path or drop that row."
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(
            f"The image of row {label!r} cannot be opened ({item}: not a readable image file); "
            "replace or drop that row."
        ) from exc


def _is_pil(value: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(value, Image.Image)
