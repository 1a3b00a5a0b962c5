"""Predictions of a tuned classification or regression head (``fm.predict``, ``%fm predict``),
in the training data's own label values; evaluation uses it for such models too."""

from __future__ import annotations

from typing import Any

from ...provenance.history import recorded
from ..arguments import batch_size as check_batch_size
from ..data import as_texts, clean_text_list, require_columns
from .registry import ModelHandle, get_model


@recorded
def predict(
    texts: Any, model: "str | ModelHandle | None" = None, text: str | None = None, batch_size: int = 32
) -> Any:
    """Labels for ``texts`` from a tuned classifier (the user's label values) or regressor.

    ``texts`` is a str (one label back), a list / Series (a Series back, same index), or a
    DataFrame with ``text=`` naming the column.  Blank texts get None (NaN for a regressor).
    """
    import numpy as np
    import pandas as pd
    import torch

    check_batch_size(batch_size)
    handle = get_model(model, "predict")
    if isinstance(texts, pd.DataFrame) and text is not None:
        require_columns(texts, [text])
        texts = texts[text]
    single = isinstance(texts, str)
    index = texts.index if isinstance(texts, pd.Series) else None
    raw = as_texts(texts, "texts to predict")
    items, positions = clean_text_list(raw, what="texts to predict")
    labels = handle.extra.get("labels") or [
        handle.config.id2label[i] for i in range(handle.config.num_labels)
    ]
    max_length = handle.extra.get("max_length") or min(512, handle.tokenizer.model_max_length)
    outputs = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            batch = handle.tokenizer(
                items[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(handle.device)
            outputs.append(handle.model(**batch).logits.float().cpu().numpy())
    logits = np.concatenate(outputs)
    if handle.head == "regression":
        values = [float(v) for v in logits.reshape(-1)]
    else:
        values = [labels[i] for i in logits.argmax(-1)]
    if single:
        return values[0]
    full: list = [None] * len(raw)
    for pos, value in zip(positions, values):
        full[pos] = value
    dtype = float if handle.head == "regression" else object  # object keeps the user's label types
    return pd.Series(full, index=index, name="prediction", dtype=dtype)
