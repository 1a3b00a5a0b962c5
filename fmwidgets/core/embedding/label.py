"""``fm.label``: zero-shot labels for the rows of a DataFrame, with a confidence a person can sort by.

Four ways to decide, all without training:

- ``embedding``: cosine similarity of each text to each label's description, from a sentence
  encoder (the embedded MiniLM by default), turned into probabilities with a softmax at
  ``EMBEDDING_TEMPERATURE``; the same ``encode`` as ``fm.embed``, so it runs as fast.
- ``nli``: transformers' zero-shot-classification pipeline over an NLI model (a sequence
  classifier with an "entailment" label), as the pipeline itself computes it.
- ``prompt``: a decoder scores each label as the continuation of ``PROMPT_TEMPLATE``; the sum
  of the label tokens' log-probabilities, softmaxed over the labels (no text is generated, so
  there is nothing to parse).
- ``clip``: images against the label descriptions with a CLIP-style model (``fm.clip_similarity``).

On an API-served model ``prompt`` asks the model for the label instead and reads the
probabilities of its reply's first token where the server returns them, else the reply itself
(core/embedding/served_label.py, which also says what a reply naming no label gets); the result
gains ``label_reason``, what each request spent (``tokens_in``, ``tokens_out``, ``seconds``,
``cost``), and ``label_mass`` (the probability the labels got) where the server returns
log-probabilities.  The other methods need weights in the kernel: one sentence.

The result is the input rows with one ``score_<label>`` column per label (probabilities over the
labels; with ``multi_label`` on nli, independent ones), ``label`` (the best, or the list above
0.5) and ``confidence`` (the best score).  ``fm.LabelReview`` shows the least confident first.
With ``engine="ray"`` every method scores parts of the rows on Ray workers; each row's scores
depend on that row alone, so they are the same as in this kernel.
"""

from __future__ import annotations

import functools
from typing import Any

from ...engines import Engine, run_parts
from ...errors import BadArgumentError, DataError, WrongFamilyError
from ...provenance.history import recorded
from ...signatures import expands
from ..data import clean_texts, require_rows
from ..models.loading import load
from ..models.registry import ModelHandle, get_model

METHODS = ("embedding", "nli", "prompt", "clip")
EMBEDDING_TEMPERATURE = 0.05  # cosines of related texts differ by ~0.1; this spreads them over 0..1
PROMPT_TEMPLATE = "Text: {text}\nLabels: {labels}\nLabel:"
HYPOTHESIS = "This example is {}."
MULTI_LABEL_THRESHOLD = 0.5


def label_descriptions(labels: Any) -> dict[str, str]:
    """{label: text to compare with}: a list gives each label itself, a dict its description."""
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",")]
    items = list(labels.items()) if isinstance(labels, dict) else [(lab, lab) for lab in (labels or [])]
    names = [str(name).strip() for name, _ in items]
    if len(names) < 2 or any(not n for n in names):
        raise BadArgumentError(
            "Give at least two non-empty labels, as a list or a {label: description} dict."
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadArgumentError(f"The label '{repeated[0]}' is given more than once; give each label once.")
    return {n: str(d).strip() or n for n, (_, d) in zip(names, items)}


def score_column(label: str) -> str:
    return f"score_{label}"


def _softmax(x: Any, axis: int = 1) -> Any:
    import numpy as np

    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _frame(data: Any, text: str | None) -> tuple[Any, str]:
    """(DataFrame of the rows, the column with their texts or images)."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame({text or "text": list(data) if not isinstance(data, str) else [data]})
    if text is None:
        if data.shape[1] != 1:
            raise DataError(
                f"The DataFrame has {data.shape[1]} columns; say which holds the text (text=COLUMN)."
            )
        text = data.columns[0]
    require_rows(data)
    return data, text


def _check_model(handle: ModelHandle, method: str) -> None:
    if handle.backend is not None:
        if method != "prompt":  # they need an encoder's, NLI classifier's or CLIP's weights
            handle.require(f"label texts with method='{method}'")
        return
    if method == "embedding" and handle.family not in ("encoder", "clip"):
        raise WrongFamilyError(
            f"Model '{handle.name}' is a {handle.family}, not a sentence encoder; "
            "method='embedding' needs one such as the embedded MiniLM."
        )
    if method == "prompt" and handle.family != "decoder":
        raise WrongFamilyError(
            f"Model '{handle.name}' is {'an' if handle.family[0] in 'aeiou' else 'a'} "
            f"{handle.family}; method='prompt' needs a decoder such as gpt2."
        )
    if method == "nli" and not any(
        str(v).lower().startswith("entail") for v in (getattr(handle.config, "label2id", None) or {})
    ):
        raise WrongFamilyError(
            f"Model '{handle.name}' has no 'entailment' label; method='nli' needs an NLI "
            "classifier such as facebook/bart-large-mnli."
        )
    if method == "clip" and handle.family != "clip":
        raise WrongFamilyError(
            f"Model '{handle.name}' is not CLIP-style; method='clip' needs one such as "
            "openai/clip-vit-base-patch32."
        )


# --------------------------------------------------------------------------------------------
# The four methods: each returns an (rows, labels) array of scores


def embedding_scores(handle: ModelHandle, texts: list[str], descriptions: list[str], where: Engine) -> Any:
    """The rows are embedded on the engine, as fm.embed does; the few label descriptions here."""
    from .embed import encode, encode_on

    rows = encode_on(handle, texts, "text", where, normalize=True)
    classes = encode(handle, descriptions, "text", normalize=True)
    return _softmax((rows @ classes.T) / EMBEDDING_TEMPERATURE)


def nli_scores(
    handle: ModelHandle,
    texts: list[str],
    descriptions: list[str],
    multi_label: bool,
    template: str = HYPOTHESIS,
) -> Any:
    """(texts, descriptions) entailment scores: each text the premise, ``template`` filled with each
    description the hypothesis (``"{}"``: the description itself, as faithfulness asks)."""
    import numpy as np
    from transformers import pipeline

    classify = pipeline(
        "zero-shot-classification", model=handle.model, tokenizer=handle.tokenizer, device=handle.model.device
    )
    out = classify(
        texts, candidate_labels=descriptions, hypothesis_template=template, multi_label=multi_label
    )
    out = out if isinstance(out, list) else [out]
    return np.array([[dict(zip(o["labels"], o["scores"]))[d] for d in descriptions] for o in out])


def prompt_scores(handle: ModelHandle, texts: list[str], descriptions: list[str]) -> Any:
    """Softmax over labels of log P(" label" | prompt) summed over the label's tokens."""
    import numpy as np

    from ..prompting.scoring import sequence_logprobs

    tok = handle.tokenizer
    choices = ", ".join(descriptions)
    endings = [tok(" " + d, add_special_tokens=False)["input_ids"] for d in descriptions]
    totals = np.empty((len(texts), len(descriptions)))
    for i, text in enumerate(texts):
        prompt = tok(PROMPT_TEMPLATE.format(text=text, labels=choices), add_special_tokens=False)["input_ids"]
        totals[i] = [sum(sequence_logprobs(handle, prompt, ids)) for ids in endings]
    return _softmax(totals)


def clip_scores(handle: ModelHandle, images: list, descriptions: list[str]) -> Any:
    from .clip import clip_similarity

    return clip_similarity(images, descriptions, model=handle, strict=True).probs.astype(float)


def method_scores(
    handle: ModelHandle, items: list, *, method: str, descriptions: list[str], multi_label: bool
) -> Any:
    """The scores of nli, prompt or clip for ``items`` (also the engine task for a part of the rows)."""
    if method == "nli":
        return nli_scores(handle, items, descriptions, multi_label)
    if method == "prompt":
        return prompt_scores(handle, items, descriptions)
    return clip_scores(handle, items, descriptions)


# --------------------------------------------------------------------------------------------


@recorded
@expands(Engine, "where")
def label(
    data: Any,
    text: str | None = None,
    labels: Any = None,
    *,
    method: str = "embedding",
    model: Any = None,
    multi_label: bool = False,
    where: Engine,
) -> Any:
    """The rows of ``data`` with a zero-shot ``label``, its ``confidence`` (0..1) and a score per label.

    ``text`` names the column with the texts (or, for ``method="clip"``, the images); ``labels``
    is a list of labels or a {label: description} dict (the description is what the model
    compares with).  ``method`` is embedding, nli, prompt or clip (see the module docstring);
    ``model`` defaults to the current model.  ``multi_label`` (nli only) scores each label on
    its own and gives ``label`` as the list of labels scoring above 0.5.  ``engine="ray"`` scores
    the rows on a Ray cluster (``ray_address``, ``workers`` model replicas), with the same scores.
    """
    if method not in METHODS:
        raise BadArgumentError(f"'{method}' is not a labelling method; use one of {', '.join(METHODS)}.")
    where.batches()  # vLLM generates text only; label scores
    described = label_descriptions(labels)
    if multi_label and method != "nli":
        raise BadArgumentError("multi_label=True needs method='nli', which scores each label on its own.")
    frame, column = _frame(data, text)
    if method == "clip":
        if column not in frame.columns:
            raise DataError(f"The DataFrame has no column '{column}'; name the column with the images.")
        rows = frame.reset_index(drop=True)
    else:
        rows, _ = clean_texts(frame, column)
        rows = rows.reset_index(drop=True)
    handle = get_model(model)
    _check_model(handle, method)
    items, descriptions = rows[column].tolist(), list(described.values())
    names = list(described)
    served = None
    if handle.backend is not None:
        if where.name != "local":
            raise BadArgumentError(
                f"Model '{handle.name}' is served by its own server, which runs the rows; leave engine= out."
            )
        from ..prompting.generate_df import accounting
        from .served_label import served_scores

        served = served_scores(handle, items, names, descriptions)
        scores = served.scores
    elif method == "embedding":
        scores = embedding_scores(handle, items, descriptions, where)
    elif where.name == "local":
        scores = method_scores(
            handle, items, method=method, descriptions=descriptions, multi_label=multi_label
        )
    else:  # each row's scores depend on that row alone: parts of the rows go to the workers
        import numpy as np

        task = functools.partial(
            method_scores, method=method, descriptions=descriptions, multi_label=multi_label
        )
        parts = run_parts(handle, task, items, where, load=load, what="labelling")
        scores = np.concatenate(parts)
    out = rows.copy()
    for j, name in enumerate(names):
        out[score_column(name)] = scores[:, j].astype(float)
    if multi_label:
        out["label"] = [[n for n, s in zip(names, row) if s > MULTI_LABEL_THRESHOLD] for row in scores]
    else:
        out["label"] = [names[j] for j in scores.argmax(axis=1)]
    out["confidence"] = scores.max(axis=1).astype(float)
    if served is not None:  # an API model: rows whose reply named no label have none
        out["label"] = [lab if ok else None for lab, ok in zip(out["label"], served.decided)]
        out["label_reason"] = served.reasons
        if served.mass is not None:
            out["label_mass"] = served.mass
        for name, values in accounting(len(out), range(len(out)), served.usage).items():
            out[name] = values
    out.attrs["fmwidgets"] = {
        "kind": "label",
        "method": method,
        "model": handle.model_id,
        "labels": described,
        "text": column,
        **({"scored_by": served.scored_by} if served is not None else {}),
        **where.params(),
    }
    return out
