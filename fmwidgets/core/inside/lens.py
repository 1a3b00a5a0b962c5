"""The logit lens: what a decoder would predict next if it stopped after each layer.

Each layer's hidden state goes through the model's final norm and its output head (the "unembed"),
giving a next-token distribution per layer and position; the top guesses show how the
prediction forms through the depth of the model.  The last row is the model's real output
(its own logits), so the lens always ends on what the model actually predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import BadArgumentError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.lens import lens_bundle
from ..models.registry import ModelHandle, get_model
from ..tokens import readable_tokens
from .attention import encode

_NORM_NAMES = ("ln_f", "norm", "final_layernorm", "final_layer_norm", "norm_f")


@dataclass
class LensResult(Recorded, look=lens_bundle):
    """Top-k next-token guesses per layer and position: ``probs[layer, position, k]``."""

    tokens: list[str]  # the input tokens (positions)
    layers: list[str]  # "embeddings", "layer 1", ..., "layer L"
    guesses: list[list[list[str]]]  # [layer][position][k] readable guessed tokens
    ids: np.ndarray  # int64 [layers, positions, k]
    probs: np.ndarray  # float32 [layers, positions, k]
    record: RunRecord

    def to_frame(self):
        """One row per layer and position with the top guess and its probability."""
        import pandas as pd

        rows = [
            {
                "layer": name,
                "position": t,
                "token": self.tokens[t],
                "guess": self.guesses[li][t][0],
                "probability": float(self.probs[li, t, 0]),
            }
            for li, name in enumerate(self.layers)
            for t in range(len(self.tokens))
        ]
        return pd.DataFrame(rows)


def final_norm(net: Any) -> Any:
    """The norm applied before the output head (ln_f, norm...), or None when the model has none."""
    base = net.base_model
    for owner in (base, getattr(base, "decoder", None)):
        for name in _NORM_NAMES:
            module = getattr(owner, name, None) if owner is not None else None
            if module is not None:
                return module
    return None


@recorded
def logit_lens(text: Any, model: "str | ModelHandle | None" = None, top_k: int = 5) -> LensResult:
    """Top ``top_k`` next-token guesses and their probabilities after every layer of a decoder.

    ``text`` is a string, or a ``Generation`` / ``ChatReply`` whose prompt and reply ids are used as
    they are (a chat template's layout would not survive re-tokenizing its text)."""
    import torch

    if not isinstance(top_k, int) or top_k < 1:
        raise BadArgumentError(f"top_k must be a whole number of at least 1, not {top_k!r}.")
    from ..prompting.generate import Generation

    if isinstance(text, Generation):  # a reply (fm.generate, fm.chat): exactly the ids the model saw
        handle = get_model(model if model is not None else text.record.model_name, "logit_lens")
        given = torch.tensor([list(text.prompt_ids) + list(text.token_ids)], device=handle.model.device)
        enc, cut, text = {"input_ids": given}, 0, text.prompt + text.text
    else:
        handle = get_model(model, "logit_lens")
        enc, cut = encode(handle, text)
    net = handle.model
    norm = final_norm(net)
    head = net.get_output_embeddings()
    with torch.inference_mode():
        out = net(**enc, output_hidden_states=True)
        k = min(top_k, out.logits.shape[-1])

        def top(logits):  # one layer's [T, vocab] logits at a time: a 50k vocabulary is large
            return torch.softmax(logits.float(), dim=-1).topk(k, dim=-1)

        tops = [top(head(norm(h) if norm is not None else h)[0]) for h in out.hidden_states[:-1]]
        tops.append(top(out.logits[0]))  # the model's own prediction, exactly
    probs = np.stack([t.values.cpu().numpy() for t in tops]).astype(np.float32)
    ids = np.stack([t.indices.cpu().numpy() for t in tops])
    flat = readable_tokens(handle.tokenizer, ids.reshape(-1).tolist())
    n_layers, n_pos = ids.shape[:2]
    guesses = [
        [flat[(li * n_pos + t) * k : (li * n_pos + t + 1) * k] for t in range(n_pos)]
        for li in range(n_layers)
    ]
    input_ids = enc["input_ids"][0].tolist()
    record = RunRecord.for_model(
        "logit_lens", handle, {"text": text, "top_k": top_k, "tokens": len(input_ids), "truncated": cut}
    )
    return LensResult(
        tokens=readable_tokens(handle.tokenizer, input_ids),
        layers=["embeddings"] + [f"layer {i}" for i in range(1, n_layers)],
        guesses=guesses,
        ids=ids,
        probs=probs,
        record=record,
    )
