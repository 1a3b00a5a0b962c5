"""Images against texts with a CLIP-style model (``fm.clip_similarity``).

Both sides go through ``fm.embed``'s path (so a broken image names its row, and missing ones are
skipped the same way), then the cosine similarity matrix and the zero-shot probabilities that
CLIP itself would give: a softmax over the texts of the similarities scaled by the model's own
``logit_scale``.  The result shows itself (render/clip.py) as an HTML table (image thumbnails against texts,
each cell shaded by probability), which stays readable in a saved notebook without JavaScript.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ...errors import DataError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.clip import clip_bundle
from ..images import open_images
from ..models.registry import get_model
from .embed import encode, prepare_inputs, row_labels


@dataclass
class ClipResult(Recorded, look=clip_bundle):
    """Cosine similarities and zero-shot probabilities of images (rows) against texts (columns)."""

    images: list  # RGB PIL images, one per row
    names: list[str]  # what each image is called in tables and figures
    texts: list[str]
    similarity: Any  # (images, texts) float32 cosine similarities
    probs: Any  # (images, texts) float32 zero-shot probabilities (rows sum to 1)
    image_vectors: Any
    text_vectors: Any
    record: RunRecord = field(repr=False, default=None)  # type: ignore[assignment]  # set by clip_similarity

    @property
    def labels(self):
        """DataFrame: each image's best text and its probability."""
        import pandas as pd

        best = self.probs.argmax(axis=1)
        return pd.DataFrame(
            {
                "image": self.names,
                "label": [self.texts[i] for i in best],
                "probability": self.probs[range(len(best)), best].astype(float),
            }
        )

    def table(self):
        """DataFrame of probabilities: one row per image, one column per text."""
        import pandas as pd

        return pd.DataFrame(self.probs.astype(float), index=self.names, columns=self.texts)


def image_names(items: list, rows: list) -> list[str]:
    """A short name per image: the file name for a path, else the row label."""
    return [
        os.path.basename(os.fspath(item)) if isinstance(item, (str, os.PathLike)) else f"image {row}"
        for item, row in zip(items, rows)
    ]


@recorded
def clip_similarity(
    images: Any, texts: Any, model: Any = None, *, image: str | None = None, strict: bool = False
) -> ClipResult:
    """Similarity of each image to each text, and CLIP's zero-shot label probabilities.

    ``images`` are PIL images or paths (a list, a Series, or a DataFrame with ``image=`` naming
    the column); ``texts`` are the candidate labels or captions (a list, or one string with
    commas between labels).  Needs a CLIP-style model.
    """
    import numpy as np

    handle = get_model(model, "clip")
    if isinstance(texts, str):
        texts = [t.strip() for t in texts.split(",")]
    items, positions, kind = prepare_inputs(images, image, strict=strict)
    if kind != "image":
        raise DataError(
            "The images are not images (PIL images or paths of image files); pass those, with "
            "image=COLUMN for a DataFrame column."
        )
    labels, _, label_kind = prepare_inputs(list(texts), strict=strict)
    if label_kind != "text":
        raise DataError("The texts to compare with are images; pass the candidate labels as texts.")
    rows = row_labels(images, positions)
    image_vectors = encode(handle, items, "image", labels=rows)
    text_vectors = encode(handle, labels, "text")
    similarity = image_vectors @ text_vectors.T
    scale = float(handle.model.logit_scale.detach().exp()) if hasattr(handle.model, "logit_scale") else 100.0
    logits = scale * similarity
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    record = RunRecord.for_model("clip_similarity", handle, {"texts": labels, "images": len(items)})
    return ClipResult(
        images=open_images(items, rows),
        names=image_names(items, rows),
        texts=labels,
        similarity=similarity.astype(np.float32),
        probs=probs.astype(np.float32),
        image_vectors=image_vectors,
        text_vectors=text_vectors,
        record=record,
    )
