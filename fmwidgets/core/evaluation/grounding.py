"""Is a RAG answer grounded in what was retrieved?  Evaluators over an NLI cross-encoder.

The data holds, per row, the passages that were retrieved (column ``contexts``: a list of texts,
or one text), as ``fm.rag`` gives them in ``answer.sources``.  Entailment is decided the way
``fm.label(method="nli")`` decides it, through transformers' zero-shot-classification pipeline
(``label.nli_scores``): each passage the premise, each sentence the hypothesis, the probability of
entailment against contradiction; above ``ENTAILED`` counts as entailed.

- ``faithfulness``: the share of the answer's sentences entailed by at least one passage;
- ``context_recall``: the share of the reference's sentences entailed by at least one passage;
- ``context_precision``: average precision of the passages in retrieved order, a passage being
  relevant when it entails at least one sentence of the reference.

The two context scores judge the retrieval, so they are given on rows without an answer too.

``evaluators.py`` makes the named evaluators from these functions.  The NLI model is the user's
(``"faithfulness:NAME"`` for a loaded model, e.g. a local folder loaded with
``fm.load(path, as_="nli")``); a bare ``"faithfulness"`` takes the one loaded NLI model.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from ...errors import BadArgumentError, WrongFamilyError
from ..models.registry import ModelHandle, get_model, registry

CONTEXTS = "contexts"
ENTAILED = 0.5
NAMES = ("faithfulness", "context_recall", "context_precision")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: Any) -> list[str]:
    """The sentences of ``text`` (split after . ! ? followed by white space), without empty ones."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [s.strip() for s in _SENTENCE_END.split(str(text).strip()) if s.strip()]


def passages(value: Any) -> list[str]:
    """The retrieved passages of one row: a list (or array) of texts, or one text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(p) for p in list(value) if p is not None and str(p).strip()]


def is_nli(handle: ModelHandle) -> bool:
    return any(str(v).lower().startswith("entail") for v in (getattr(handle.config, "label2id", None) or {}))


def nli_model(name: str | None) -> ModelHandle:
    """The named NLI model, or the one loaded NLI model; one sentence otherwise."""
    hint = (
        "an NLI model is a sequence classifier with an 'entailment' label (e.g. a local copy of "
        "cross-encoder/nli-deberta-v3-small): load it with fm.load(PATH, as_='nli') and name it as "
        "'faithfulness:nli'"
    )
    if name is not None:
        handle = get_model(name)
        if not is_nli(handle):
            raise WrongFamilyError(f"Model '{handle.name}' has no 'entailment' label; {hint}.")
        return handle
    found = [h for h in registry if is_nli(h)]
    if len(found) != 1:
        which = f"{len(found)} are loaded ({', '.join(h.name for h in found)})" if found else "none is loaded"
        raise BadArgumentError(f"This evaluator needs one NLI model and {which}; {hint}.")
    return found[0]


def entailed(handle: ModelHandle, premises: list[str], hypotheses: list[str]) -> Any:
    """(premises, hypotheses) booleans: does each premise entail each hypothesis?"""
    import numpy as np

    from ..embedding.label import nli_scores

    if not premises or not hypotheses:
        return np.zeros((len(premises), len(hypotheses)), dtype=bool)
    unique = list(dict.fromkeys(hypotheses))
    scores = nli_scores(handle, premises, unique, True, "{}")
    column = {h: j for j, h in enumerate(unique)}
    return scores[:, [column[h] for h in hypotheses]] > ENTAILED


def faithfulness(handle: ModelHandle, answer: Any, contexts: list[str], reference: Any) -> float:
    said = sentences(answer)
    if not said:
        return math.nan
    return float(entailed(handle, contexts, said).any(axis=0).mean()) if contexts else 0.0


def context_recall(handle: ModelHandle, answer: Any, contexts: list[str], reference: Any) -> float:
    wanted = sentences(reference)
    if not wanted:
        return math.nan
    return float(entailed(handle, contexts, wanted).any(axis=0).mean()) if contexts else 0.0


def context_precision(handle: ModelHandle, answer: Any, contexts: list[str], reference: Any) -> float:
    wanted = sentences(reference)
    if not wanted:
        return math.nan
    relevant = entailed(handle, contexts, wanted).any(axis=1)
    if not relevant.any():
        return 0.0
    hits = relevant.cumsum()
    ranks = range(1, len(relevant) + 1)
    return float(sum(h / k for h, k, r in zip(hits, ranks, relevant) if r) / relevant.sum())


_METRICS: dict[str, Callable[[ModelHandle, Any, list[str], Any], float]] = {
    "faithfulness": faithfulness,
    "context_recall": context_recall,
    "context_precision": context_precision,
}


def grounding_scores(kind: str, model: str | None, outputs: list, table: Any) -> list[float]:
    """The scores of ``kind`` (one of ``NAMES``) per row, with the NLI model ``model``."""
    nli = nli_model(model)
    metric = _METRICS[kind]
    refs = table["reference"].tolist() if "reference" in table else [None] * len(outputs)
    return [
        math.nan if out is None and metric is faithfulness else metric(nli, out, passages(ctx), ref)
        for out, ctx, ref in zip(outputs, table[CONTEXTS], refs)
    ]
