"""Texts and images to vectors (``fm.embed``), and the nearest rows to a query (``fm.similar``).

A sentence-transformers checkpoint says how it wants to be pooled (``modules.json`` and
``1_Pooling/config.json``) and how long its inputs may be (``sentence_bert_config.json``);
``embed`` reads those files so that its vectors equal ``SentenceTransformer.encode`` on the same
model.  Models without them get the pooling that suits their family: mean over the real tokens
for encoders, the last real token for decoders, the projection head for CLIP-style models.
Inputs are sorted by length before batching (as sentence-transformers does) so that a batch
pads to similar lengths, and run under ``torch.inference_mode``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..._compat import attn_implementation, supports_sdpa
from ...engines import Engine, run_parts
from ...errors import BadArgumentError, DataError, WrongFamilyError, short
from ...notices import FMWarning
from ...provenance.history import recorded
from ...records import RunRecord
from ...signatures import expands, over
from ..arguments import batch_size as check_batch_size
from ..arguments import unique_columns
from ..data import as_texts, clean_text_list, clean_texts, require_rows
from ..images import looks_like_images, open_images
from ..models.loading import load
from ..models.registry import ModelHandle, get_model

POOLINGS = ("mean", "cls", "last", "max")
# sentence-transformers' Pooling config flags -> our pooling names
_ST_POOLING = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_lasttoken": "last",
}
_PROGRESS_BATCHES = 16  # more batches than this show a progress bar (progress=None)


# --------------------------------------------------------------------------------------------
# What a model wants: pooling, normalisation, input length


def sentence_transformers_config(handle: ModelHandle) -> dict[str, Any] | None:
    """The pooling, normalisation and max length a sentence-transformers checkpoint ships.

    None when the model has no ``modules.json`` (it is not a sentence-transformers model).  The
    answer is kept on the handle, so the files are read once per model.
    """
    if "sentence_transformers" in handle.extra:
        return handle.extra["sentence_transformers"]
    config = _read_st_config(handle)
    handle.extra["sentence_transformers"] = config
    return config


def _read_st_config(handle: ModelHandle) -> dict[str, Any] | None:
    where = getattr(handle.model.config, "name_or_path", None) or handle.model_id
    modules = _model_file(where, "modules.json", handle.revision)
    if modules is None:
        return None
    config: dict[str, Any] = {"pooling": None, "normalize": False, "max_length": None}
    for module in modules:
        kind = str(module.get("type", ""))
        if kind.endswith("Pooling"):
            pooling_file = f"{module.get('path') or '1_Pooling'}/config.json"
            config["pooling"] = _st_pooling(_model_file(where, pooling_file, handle.revision) or {})
        elif kind.endswith("Normalize"):
            config["normalize"] = True
    st = _model_file(where, "sentence_bert_config.json", handle.revision) or {}
    config["max_length"] = st.get("max_seq_length")
    return config


def _st_pooling(pooling: dict[str, Any]) -> str | None:
    mode = pooling.get("pooling_mode")
    if isinstance(mode, str):
        mode = {"lasttoken": "last", "mean_tokens": "mean", "cls_token": "cls"}.get(mode, mode)
        return mode if mode in POOLINGS else None
    for flag, name in _ST_POOLING.items():
        if pooling.get(flag):
            return name
    return None


def _model_file(where: str, name: str, revision: str | None) -> Any:
    """A JSON file of a local model folder or a hub model (from the cache or the hub), or None."""
    folder = Path(where)
    if folder.is_dir():
        path = folder / name
    else:
        try:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(where, name, revision=revision))
        except Exception:  # noqa: BLE001 - a missing optional file (or no network) is not an error
            return None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text())


def default_pooling(handle: ModelHandle) -> str:
    """The model's own sentence-transformers pooling, else mean (encoders) or last (decoders)."""
    st = sentence_transformers_config(handle)
    if st and st["pooling"]:
        return st["pooling"]
    return "last" if handle.family == "decoder" else "mean"


def default_normalize(handle: ModelHandle) -> bool:
    """What a sentence-transformers model's own pipeline does (a Normalize module or not), else True."""
    st = sentence_transformers_config(handle)
    return st["normalize"] if st else True


def default_max_length(handle: ModelHandle) -> int | None:
    """sentence-transformers' max_seq_length, else the shorter of the model's and tokenizer's limits."""
    st = sentence_transformers_config(handle)
    if st and st["max_length"]:
        return int(st["max_length"])
    limits = [
        n
        for n in (handle.context_length, getattr(handle.tokenizer, "model_max_length", None))
        if n and n < 10**7
    ]
    return min(limits) if limits else None


# --------------------------------------------------------------------------------------------
# Inputs


def prepare_inputs(
    inputs: Any, text: str | None = None, *, strict: bool = False
) -> tuple[list, list[int], str]:
    """(usable items, their positions in the input, "text" or "image") for any supported input.

    A DataFrame needs ``text=`` (the column with texts or images) unless it has one column.
    Missing values are dropped with a warning, or refused with ``strict=True``.
    """
    import pandas as pd

    if isinstance(inputs, pd.DataFrame):
        unique_columns(inputs)
    if isinstance(inputs, pd.DataFrame) and (text is not None or inputs.shape[1] == 1):
        column = text if text is not None else inputs.columns[0]
        frame = inputs.reset_index(drop=True)
        if column in frame.columns and looks_like_images(frame[column].tolist()):
            require_rows(frame)
            return _drop_missing(frame[column].tolist(), strict, f"rows of column '{column}'")
        kept, _ = clean_texts(frame, column, strict=strict)
        return kept[column].tolist(), kept.index.tolist(), "text"
    if text is not None:
        raise BadArgumentError(
            f"text='{text}' names a DataFrame column, but the input is a {type(inputs).__name__}; "
            "pass the DataFrame itself, or leave text out."
        )
    items = as_texts(inputs)
    if not items:
        raise DataError("The input is empty; pass at least one text or image.")
    if looks_like_images(items):
        return _drop_missing(items, strict, "inputs")
    texts, positions = clean_text_list(items, strict=strict)
    return texts, positions, "text"


def row_labels(inputs: Any, positions: list[int]) -> list:
    """The index labels of the rows at ``positions`` (the positions themselves for a plain list)."""
    import pandas as pd

    if isinstance(inputs, (pd.Series, pd.DataFrame)):
        return [inputs.index[p] for p in positions]
    return list(positions)


def _drop_missing(items: list, strict: bool, what: str) -> tuple[list, list[int], str]:
    """Images without the missing (None/NaN) entries, warned about or refused (strict)."""
    keep = [i for i, v in enumerate(items) if v is not None and not (isinstance(v, float) and v != v)]
    dropped = len(items) - len(keep)
    if dropped and strict:
        raise DataError(
            f"{dropped} of {len(items)} {what} have no image (None or NaN); fill or drop them, "
            "or leave strict off to skip them."
        )
    if dropped:
        warnings.warn(
            f"Skipped {dropped} of {len(items)} {what} that have no image.", FMWarning, stacklevel=4
        )
    return [items[i] for i in keep], keep, "image"


# --------------------------------------------------------------------------------------------
# Pooling and the forward pass


def pool(hidden: Any, mask: Any, how: str) -> Any:
    """One vector per sequence from token states ``hidden`` (batch, tokens, dim), padding ignored."""
    import torch

    if how == "cls":
        return hidden[:, 0]
    if how == "last":
        # index of the last real token, whichever side the tokenizer pads on
        positions = torch.arange(mask.shape[1], device=mask.device)
        last = (mask.long() * positions).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if how == "max":
        return hidden.masked_fill(weights == 0, -1e9).max(dim=1).values
    summed = (hidden * weights).sum(dim=1)
    return summed / weights.sum(dim=1).clamp(min=1e-9)


def _token_states(handle: ModelHandle, batch: dict) -> Any:
    """Last-layer token states; models with a head run their base model (no head is computed)."""
    from transformers import PreTrainedModel

    model = handle.model
    if handle.family == "encoder-decoder":
        return model.get_encoder()(**batch).last_hidden_state
    base = getattr(model, "base_model", model)
    if base is not model and isinstance(base, PreTrainedModel):
        return base(**batch).last_hidden_state
    out = model(**batch, output_hidden_states=True)
    return out.hidden_states[-1]


def _features(output: Any) -> Any:
    """CLIP-style get_*_features return a tensor or an output whose pooler_output is projected."""
    return getattr(output, "pooler_output", output)


class EmbeddingInterrupted(KeyboardInterrupt):
    """An interrupt while embedding, with what was done: ``vectors[i]`` is the vector of item
    ``done[i]``.  It is a KeyboardInterrupt, so a caller that keeps nothing stops as before;
    ``fm.index`` and ``Index.add`` keep the rows embedded so far."""

    def __init__(self, done: Any, vectors: Any, total: int) -> None:
        super().__init__(f"interrupted after {len(done)} of {total} items")
        self.done, self.vectors, self.total = done, vectors, total


def encode(
    handle: ModelHandle,
    items: Sequence[Any],
    kind: str,
    *,
    pooling: str | None = None,
    normalize: bool | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    progress: bool | None = None,
    labels: Sequence[Any] | None = None,
):
    """float32 array (len(items), dim) of clean texts or images, in the order given."""
    import numpy as np
    import torch

    if kind == "image" and handle.family != "clip":
        raise WrongFamilyError(
            f"Model '{handle.name}' is a text-only {handle.family} and cannot embed images; load a "
            "CLIP-style model (such as openai/clip-vit-base-patch32) for images."
        )
    check_batch_size(batch_size)
    pooling = pooling or default_pooling(handle)
    max_length = max_length or default_max_length(handle)
    if normalize is None:
        normalize = default_normalize(handle)
    if kind == "image":
        order = np.arange(len(items))
    else:  # longest first, like sentence-transformers: similar lengths share a batch
        order = np.argsort([-len(t) for t in items], kind="stable")
    starts = range(0, len(items), batch_size)
    show = progress if progress is not None else len(starts) > _PROGRESS_BATCHES
    if show:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="embedding", unit="batch")
    chunks = []
    try:
        with torch.inference_mode(), fast_attention(handle.model):
            for start in starts:
                picked = [items[i] for i in order[start : start + batch_size]]
                if kind == "image":
                    names = (
                        [labels[i] for i in order[start : start + batch_size]] if labels is not None else None
                    )
                    vectors = _image_batch(handle, picked, names)
                else:
                    vectors = _text_batch(handle, picked, pooling, max_length)
                if normalize:
                    vectors = torch.nn.functional.normalize(vectors.float(), p=2, dim=1)
                chunks.append(vectors.float().cpu().numpy())
    except KeyboardInterrupt:
        if not chunks:
            raise
        done = np.concatenate(chunks)
        raise EmbeddingInterrupted(order[: len(done)], done, len(items)) from None
    out = np.empty((len(items), chunks[0].shape[1]), dtype=np.float32)
    out[order] = np.concatenate(chunks)
    return out


@contextlib.contextmanager
def fast_attention(model: Any) -> Iterator[None]:
    """Run with SDPA attention while embedding, then go back to eager.

    Models are loaded with eager attention so that attention views can read the weights;
    embedding never needs them, and SDPA is what sentence-transformers runs (and is faster).
    """
    switch = attn_implementation(model) == "eager" and supports_sdpa(model)
    if switch:
        try:
            model.set_attn_implementation("sdpa")
        except (ValueError, ImportError, NotImplementedError):
            switch = False
    try:
        yield
    finally:
        if switch:
            model.set_attn_implementation("eager")


def _text_batch(handle: ModelHandle, texts: list[str], pooling: str, max_length: int | None):
    batch = handle.tokenizer(
        texts, padding=True, truncation=max_length is not None, max_length=max_length, return_tensors="pt"
    ).to(handle.device)
    if handle.family == "clip":
        return _features(handle.model.get_text_features(**batch))
    return pool(_token_states(handle, batch), batch["attention_mask"], pooling)


def _image_batch(handle: ModelHandle, images: list, names: list | None):
    pictures = open_images(images, names)
    pixels = handle.processor(images=pictures, return_tensors="pt")["pixel_values"]
    pixels = pixels.to(handle.device, dtype=next(handle.model.parameters()).dtype)
    return _features(handle.model.get_image_features(pixel_values=pixels))


# --------------------------------------------------------------------------------------------
# Public API


@expands(Engine, "where")
def embed_rows(
    inputs: Any,
    model: Any = None,
    *,
    text: str | None = None,
    pooling: str | None = None,
    normalize: bool | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    strict: bool = False,
    progress: bool | None = None,
    where: Engine,
):
    """(vectors, positions of the embedded rows in the input, handle): ``embed`` plus bookkeeping."""
    handle = get_model(model, "embed")
    if pooling is not None and pooling not in POOLINGS:
        raise BadArgumentError(
            f"'{pooling}' is not a pooling fmwidgets knows; use one of {', '.join(POOLINGS)}."
        )
    items, positions, kind = prepare_inputs(inputs, text, strict=strict)
    vectors = encode_on(
        handle,
        items,
        kind,
        where,
        pooling=pooling,
        normalize=normalize,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        labels=row_labels(inputs, positions),
    )
    return vectors, positions, handle


def encode_on(handle: ModelHandle, items: list, kind: str, where: Engine, **settings: Any):
    """``encode(handle, items, kind, **settings)`` in this kernel, or spread over an engine's
    workers in contiguous parts with one progress bar: the one path by which fm.embed, fm.label
    and fm.index embed their rows."""
    import numpy as np

    if where.name == "local":
        return encode(handle, items, kind, **settings)
    where.check()
    batch_size = check_batch_size(settings.get("batch_size", 32))
    fixed: dict[str, Any] = dict(  # what encode would pick, fixed here so that every worker uses the same
        pooling=settings.get("pooling") or default_pooling(handle),
        batch_size=batch_size,
        normalize=default_normalize(handle) if settings.get("normalize") is None else settings["normalize"],
        max_length=settings.get("max_length") or default_max_length(handle),
    )
    task = functools.partial(encode_chunk, kind=kind, **fixed)
    parts = run_parts(handle, task, items, where, load=load, least=batch_size, what="embedding")
    return np.concatenate(parts).astype(np.float32, copy=False)


def encode_chunk(handle: ModelHandle, items: list, *, kind: str, **settings: Any):
    """The engine task: ``encode`` one contiguous part of the inputs on a worker's model."""
    return encode(handle, items, kind, progress=False, **settings)


@recorded
@over(embed_rows, hide=())
def embed(inputs: Any, model: Any = None, **keywords: Any):
    """Vectors (float32 numpy, one row per usable input) for texts or, with CLIP-style models, images.

    ``inputs`` is a text, a list / Series of texts, or a DataFrame with ``text=`` naming the
    column; for CLIP-style models also PIL images or image paths (or a column of them).
    ``pooling`` is mean, cls, last or max (default: the model's own sentence-transformers
    pooling, else mean for encoders and last for decoders); ``normalize`` scales each vector to
    length 1 so that dot products are cosine similarities (default: what the model's own
    sentence-transformers pipeline does, else True).  Empty or NaN rows are skipped with a
    warning (an error with ``strict=True``).  ``engine="ray"`` embeds on a Ray cluster
    (``ray_address``, ``workers`` model replicas); the vectors equal the in-process ones.
    """
    vectors, _, _ = embed_rows(inputs, model, **keywords)
    return vectors


def nearest(vectors: Any, query: Any, k: int):
    """(row numbers, cosine scores) of the ``k`` rows of ``vectors`` nearest to ``query``, best first."""
    import numpy as np

    if k < 1:
        raise BadArgumentError(f"k must be at least 1, not {k}.")
    matrix = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    scores = matrix @ (q / max(float(np.linalg.norm(q)), 1e-12))
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top, scores[top]


@recorded
def similar(
    query: Any,
    df: Any,
    text: str | None = None,
    k: int = 10,
    model: Any = None,
    *,
    pooling: str | None = None,
    strict: bool = False,
):
    """The ``k`` rows of ``df`` nearest to ``query`` by cosine similarity, best first, with a score column.

    ``df`` is a DataFrame (``text=`` names the column to compare, unless it has one column), a
    list or a Series; ``query`` is a text (or, with a CLIP-style model, an image too).
    """
    import pandas as pd

    if query is None or query is pd.NA or isinstance(query, (int, float)):
        raise DataError(
            f"The query must be a text (or an image for a CLIP-style model), not {short(query)}; "
            "pass the text to look for."
        )
    if isinstance(df, pd.DataFrame):
        unique_columns(df)
    frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame({"text": as_texts(df)})
    column = text if text is not None or not isinstance(df, pd.DataFrame) else None
    if column is None and frame.shape[1] != 1:
        raise DataError(
            f"The DataFrame has {frame.shape[1]} columns; say which holds the text to compare "
            "(text=COLUMN, --text COLUMN)."
        )
    column = column or frame.columns[0]
    if isinstance(query, str) and not query.strip():
        raise DataError("The query is empty; pass the text to look for.")
    vectors, positions, handle = embed_rows(frame, model, text=column, pooling=pooling, strict=strict)
    query_vector = embed_rows([query], handle, pooling=pooling)[0][0]
    top, scores = nearest(vectors, query_vector, k)
    result = frame.iloc[[positions[i] for i in top]].copy()
    result["score"] = scores.astype(float)
    record = RunRecord.for_model(
        "similar",
        handle,
        {
            "query": query if isinstance(query, str) else repr(query),
            "text": column,
            "k": k,
            "pooling": pooling or default_pooling(handle),
        },
        data=frame,
    )
    result.attrs["fmwidgets"] = record.to_dict()
    return result
