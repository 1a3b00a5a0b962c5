"""Attention weights of one input, exactly as the model returns them with ``output_attentions``.

``attention(text)`` runs the model once (eager attention, set at load time) and keeps every
layer's weights as float32 numpy arrays without copying them into one big tensor; the views only
ever need one layer at a time (``layer_float16``), which is what keeps a 512-token input fast
where tools that ship the whole layers x heads x T x T tensor as JSON stall.  Encoders, decoders,
the encoder of encoder-decoder models and the text tower of CLIP-style models are supported.
Inputs longer than the model (or ``FM.max_attention_tokens``) are truncated with a warning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...config import settings
from ...errors import BadArgumentError, DataError
from ...notices import FMWarning
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.attention import attention_bundle
from ..models.registry import ModelHandle, get_model
from ..tokens import readable_tokens, special_mask


@dataclass
class AttentionResult(Recorded, look=attention_bundle):
    """Tokens and attention weights of one input: ``weights[layer, head, query, key]``."""

    tokens: list[str]
    special: list[bool]
    layers: list[np.ndarray]  # one float32 [heads, T, T] array per layer (the model's own memory)
    record: RunRecord
    token_ids: list[int] = field(default_factory=list)
    truncated: int = 0  # tokens dropped from the end of the input
    image: Any = None  # for an image: the PIL image, as the model's processor resized it
    grid: tuple[int, int] | None = None  # for an image: patches per column and per row

    @property
    def weights(self) -> np.ndarray:
        """All layers as one float32 array [layers, heads, T, T] (built on first use)."""
        if not hasattr(self, "_weights"):
            self._weights = np.stack(self.layers)
        return self._weights

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_heads(self) -> int:
        return self.layers[0].shape[0]

    def __len__(self) -> int:
        return len(self.tokens)

    def check(self, layer: int, head: int | None = None) -> None:
        """BadArgumentError unless ``layer`` (and ``head``, None = mean) exist in this result."""
        if not 0 <= layer < self.n_layers:
            raise BadArgumentError(
                f"Layer {layer} does not exist; this model has layers 0 to {self.n_layers - 1}."
            )
        if head is not None and not 0 <= head < self.n_heads:
            raise BadArgumentError(
                f"Head {head} does not exist; this model has heads 0 to {self.n_heads - 1} "
                "(leave the head out for the mean over heads)."
            )

    def matrix(self, layer: int, head: int | None = None) -> np.ndarray:
        """[T, T] weights of one head, or the mean over heads when ``head`` is None."""
        self.check(layer, head)
        block = self.layers[layer]
        return block.mean(axis=0) if head is None else block[head]

    def layer_float16(self, layer: int) -> bytes:
        """One layer [heads, T, T] as little-endian float16 bytes: what a view sends to the browser.

        Converted by torch (vectorised; the same round-to-nearest-even bytes as numpy's astype, at
        about half the time, which is most of a layer switch at 512 tokens).
        """
        import torch

        self.check(layer)
        return torch.from_numpy(self.layers[layer]).to(torch.float16).numpy().tobytes()

    def thumbnails(self, size: int) -> np.ndarray:
        """uint8 [layers, heads, s, s] pictures of every head, s = min(size, T), by max-pooling.

        Max rather than mean pooling keeps a sharp diagonal or a single strong column visible
        when 512 tokens shrink to a few dozen pixels.
        """
        n = len(self.tokens)
        s = max(1, min(int(size), n))
        edges = np.linspace(0, n, s + 1).astype(int)[:-1]
        pooled = np.stack(
            [
                np.maximum.reduceat(np.maximum.reduceat(block, edges, axis=1), edges, axis=2)
                for block in self.layers
            ]
        )
        return np.clip(np.rint(pooled * 255), 0, 255).astype(np.uint8)

    def summary(self) -> str:
        return f"attention of {len(self.tokens)} tokens · {self.n_layers} layers x {self.n_heads} heads" + (
            f" · {self.truncated} tokens truncated" if self.truncated else ""
        )


def token_limit(handle: ModelHandle) -> int:
    """Longest input a view takes: the model's context, capped by ``FM.max_attention_tokens``."""
    cap = settings().max_attention_tokens
    context = handle.context_length
    return min(cap, context) if context else cap


def encode(handle: ModelHandle, text: str, text_pair: str | None = None) -> tuple[Any, int]:
    """(tokenizer output as tensors on the model's device, tokens cut off), with a warning on cuts."""
    for name, value in (("text", text), ("text_pair", text_pair)):
        if value is not None and not isinstance(value, str):
            raise BadArgumentError(
                f"{name} must be one text (a str), not {type(value).__name__}; pass a single sentence."
            )
    if text is None or not text.strip():
        raise DataError("The text is empty; pass the sentence whose attention you want to see.")
    if text_pair is not None and not text_pair.strip():
        raise DataError("text_pair is empty; pass a second sentence or leave it out.")
    tok = handle.tokenizer
    limit = token_limit(handle)
    full = len(tok(text, text_pair, verbose=False)["input_ids"])  # no "too long" log: we warn below
    cut = max(0, full - limit)
    if cut:
        warnings.warn(
            f"The input has {full} tokens; showing the first {limit} (the most "
            f"'{handle.name}' or FM.max_attention_tokens allows), so {cut} were left out.",
            FMWarning,
            stacklevel=4,  # the user's call, past attention() and @recorded
        )
    enc = tok(text, text_pair, truncation=bool(cut), max_length=limit if cut else None, return_tensors="pt")
    return enc.to(handle.model.device), cut


def _forward(handle: ModelHandle, enc: Any) -> Any:
    """The module whose attentions are shown: the text tower of CLIP, the encoder of seq2seq."""
    net = handle.model
    if handle.family == "clip":
        net = net.text_model
    elif handle.family == "encoder-decoder":
        net = net.get_encoder()
    return net(**enc, output_attentions=True)


@recorded
def attention(
    text: Any, text_pair: str | None = None, model: "str | ModelHandle | None" = None
) -> AttentionResult:
    """Attention weights of every layer and head for one input (a sentence, a pair, or an image).

    An image (a PIL image or an image path) with a vision model (ViT...) or a CLIP-style model
    gives the image tower's attention over [CLS] and the patches, row by row.

    Equal to the model's own ``output_attentions``; for CLIP-style models the text tower's, for
    encoder-decoder models the encoder's.  ``result.weights`` is [layers, heads, T, T].
    """
    import torch

    from ..images import is_image_item

    handle = get_model(model, "attention")
    if handle.family == "vision" or (handle.family == "clip" and is_image_item(text)):
        return image_attention(handle, text)
    enc, cut = encode(handle, text, text_pair)
    with torch.inference_mode():
        out = _forward(handle, enc)
    layers = [a[0].float().cpu().numpy() for a in out.attentions]
    ids = enc["input_ids"][0].tolist()
    record = RunRecord.for_model(
        "attention", handle, {"text": text, "text_pair": text_pair, "tokens": len(ids), "truncated": cut}
    )
    return AttentionResult(
        tokens=readable_tokens(handle.tokenizer, ids),
        special=special_mask(handle.tokenizer, ids),
        layers=layers,
        record=record,
        token_ids=ids,
        truncated=cut,
    )


def image_attention(handle: ModelHandle, image: Any) -> AttentionResult:
    """The image tower's attention: tokens are [CLS] (and any other leading tokens), then the patches."""
    import torch

    from ..images import open_image

    picture = open_image(image, "image")
    processor = getattr(handle.processor, "image_processor", handle.processor)
    pixels = processor(images=picture, return_tensors="pt")["pixel_values"].to(
        handle.model.device, handle.model.dtype
    )
    net = handle.model.vision_model if handle.family == "clip" else handle.model
    with torch.inference_mode():
        out = net(pixel_values=pixels, output_attentions=True)
    layers = [a[0].float().cpu().numpy() for a in out.attentions]
    cfg = getattr(handle.config, "vision_config", handle.config)
    side = cfg.image_size // cfg.patch_size
    lead = layers[0].shape[-1] - side * side
    tokens = (
        ["[CLS]"]
        + [f"[extra {i}]" for i in range(1, lead)]
        + [f"patch {r},{c}" for r in range(side) for c in range(side)]
    )
    size = pixels.shape[-1]
    record = RunRecord.for_model(
        "attention",
        handle,
        {
            "image": getattr(image, "filename", None)
            or (str(image) if isinstance(image, str) else "PIL image"),
            "patches": side * side,
        },
    )
    return AttentionResult(
        tokens=tokens,
        special=[i < lead for i in range(len(tokens))],
        layers=layers,
        record=record,
        image=picture.resize((size, size)),
        grid=(side, side),
    )
