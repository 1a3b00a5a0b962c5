"""Masked-LM predictions: ``fill_mask("the cat sat on the [MASK]")`` -> a DataFrame.

Users write ``[MASK]`` whatever the model (BERT spells it that way, RoBERTa ``<mask>``); it is
replaced by the tokenizer's own mask token, and the tokenizer's spelling is accepted as well.
Each mask is predicted independently (one row per mask and rank), with the probability and the
text with that mask filled in.
"""

from __future__ import annotations

import pandas as pd

from ...errors import DataError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.fill_mask import fill_mask_bundle
from ..arguments import number
from ..models.registry import ModelHandle, get_model
from ..tokens import readable_tokens

MASK = "[MASK]"


class FillMaskResult(Recorded, pd.DataFrame, look=fill_mask_bundle):
    """The predictions table, carrying the ``record`` of the run (shown in output metadata)."""

    _metadata = ["record"]

    @property
    def _constructor(self):  # slices and copies are plain DataFrames
        return pd.DataFrame


@recorded
def fill_mask(text: str, model: str | ModelHandle | None = None, *, top_k: int = 5) -> FillMaskResult:
    """Top-``top_k`` predictions for each mask in ``text``, as a DataFrame with a ``record``.

    Columns: mask (which mask, from 0), rank, token, probability, sequence (the text filled).
    ``fm.plot_fill_mask(result)`` draws them as bars.
    """
    import torch

    handle = get_model(model, "fill_mask")
    tok = handle.tokenizer
    if not isinstance(text, str) or not text.strip():
        raise DataError("The text is empty; write a sentence with [MASK] where a word is missing.")
    number("top_k", top_k, low=1, integer=True, hint="it is how many guesses to show per mask")
    if tok.mask_token != MASK:
        text = text.replace(MASK, tok.mask_token)
    enc = tok(text, return_tensors="pt", truncation=True).to(handle.model.device)
    ids = enc["input_ids"][0]
    positions = (ids == tok.mask_token_id).nonzero().view(-1).tolist()
    if not positions:
        raise DataError(
            f"The text has no mask; put {MASK} (or {tok.mask_token}) where the missing word goes."
        )
    with torch.inference_mode():
        logits = handle.model(**enc).logits[0]
    probs = torch.softmax(logits[positions].float(), dim=-1)
    top = probs.topk(min(top_k, probs.shape[-1]), dim=-1)
    rows = []
    for m, pos in enumerate(positions):
        cand = top.indices[m].tolist()
        for rank, (cid, label, p) in enumerate(
            zip(cand, readable_tokens(tok, cand), top.values[m].tolist()), start=1
        ):
            filled = ids.clone()
            filled[pos] = cid
            sequence = tok.decode(filled, skip_special_tokens=True)
            rows.append({"mask": m, "rank": rank, "token": label, "probability": p, "sequence": sequence})
    result = FillMaskResult(rows)
    result.record = RunRecord.for_model("fill_mask", handle, {"text": text, "top_k": top_k})
    return result
