"""Image classification with a vision model (ViT and friends): ``classify_images`` -> a DataFrame.

Images come as PIL images, paths, a list or Series of either, or a DataFrame column; each gets
its ``top_k`` labels with the model's own softmax probabilities (one row per image and label),
and the result keeps small thumbnails so its display shows what was classified.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import BadArgumentError, DataError
from ..provenance.history import recorded
from ..records import RunRecord
from ..render import Recorded
from ..render.images import thumbnail_uri
from ..render.vision import image_classification_bundle
from .arguments import batch_size as check_batch_size
from .images import open_images
from .models.registry import ModelHandle, get_model


class ImageClassification(Recorded, pd.DataFrame, look=image_classification_bundle):
    """A DataFrame (image, label, probability) that also carries thumbnails and a RunRecord."""

    _metadata = ["record", "thumbnails"]

    @property
    def _constructor(self):  # slices and copies are plain DataFrames
        return pd.DataFrame


def _items(images: Any, column: str | None) -> tuple[list, list]:
    """(images, row labels) from whatever the user passed."""
    if isinstance(images, pd.DataFrame):
        if column is None or column not in images.columns:
            cols = ", ".join(map(str, images.columns))
            raise DataError(f"Say which column holds the images with image=COLUMN (columns: {cols}).")
        images = images[column]
    if isinstance(images, pd.Series):
        return list(images), list(images.index)
    if isinstance(images, (list, tuple)):
        return list(images), list(range(len(images)))
    return [images], [0]


@recorded
def classify_images(
    images: Any,
    *,
    model: str | ModelHandle | None = None,
    top_k: int = 5,
    image: str | None = None,
    batch_size: int = 16,
) -> ImageClassification:
    """The ``top_k`` labels of each image with their probabilities (the model's softmax).

    ``images`` is a PIL image, a path, a list or Series of them, or a DataFrame with ``image=``
    naming its image column.  The ``image`` column of the result is the input's row label.
    """
    import torch

    check_batch_size(batch_size)
    handle = get_model(model, "classify_images")
    if not isinstance(top_k, int) or top_k < 1:
        raise BadArgumentError(f"top_k must be a whole number of at least 1, not {top_k!r}.")
    items, labels = _items(images, image)
    if not items:
        raise DataError("There are no images to classify; pass at least one.")
    pictures = open_images(items, labels)
    names = handle.config.id2label
    k = min(top_k, len(names))
    rows = []
    for start in range(0, len(pictures), batch_size):
        batch = pictures[start : start + batch_size]
        pixels = handle.processor(images=batch, return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            logits = handle.model(pixel_values=pixels.to(handle.model.device, handle.model.dtype)).logits
        top = torch.softmax(logits.float(), dim=-1).topk(k, dim=-1)
        for row, (values, ids) in zip(
            labels[start : start + batch_size], zip(top.values.tolist(), top.indices.tolist())
        ):
            rows += [{"image": row, "label": names[i], "probability": v} for v, i in zip(values, ids)]
    out = ImageClassification(rows, columns=["image", "label", "probability"])
    out.record = RunRecord.for_model("classify_images", handle, {"top_k": k, "images": len(pictures)})
    out.thumbnails = {row: thumbnail_uri(p) for row, p in zip(labels, pictures)}
    return out
