"""``fm.evaluate_retrieval``: does the index find the rows a labelled query set says it should?

hit@1 (the best row is relevant), hit@k (one of the first k is), recall@k (the share of the
relevant rows among the first k) and MRR (1 / rank of the first relevant row, 0 past k), one row
per query, summarised like ``fm.evaluate`` (mean with a bootstrap 95% interval, n).
"""

from __future__ import annotations

from typing import Any

from ...errors import DataError
from ...provenance.history import recorded
from ...records import RunRecord
from ..data import require_columns, require_rows
from .index import check_k, get_index


def _as_set(value: Any) -> set:
    if isinstance(value, (list, tuple, set, frozenset)):
        return set(value)
    if hasattr(value, "tolist") and not isinstance(value, str):
        return set(value.tolist())
    return {value}


def scores(retrieved: list, relevant: set, k: int) -> dict[str, float]:
    """The four metrics of one query: ``retrieved`` keys best first (no repeats), ``relevant`` keys."""
    ranks = [i for i, key in enumerate(retrieved[:k], 1) if key in relevant]
    return {
        "hit@1": float(bool(ranks) and ranks[0] == 1),
        f"hit@{k}": float(bool(ranks)),
        f"recall@{k}": len(ranks) / len(relevant),
        "mrr": 1.0 / ranks[0] if ranks else 0.0,
    }


@recorded
def evaluate_retrieval(
    index: Any,
    data: Any,
    query: str = "query",
    relevant: str = "relevant",
    k: int = 5,
    *,
    key: str | None = None,
) -> Any:
    """An ``Evaluation`` of ``index`` on the queries in ``data[query]``.

    ``data[relevant]`` holds the relevant value (or a list of them) for each query, compared
    with the index's ``key`` column (default: the indexed text column).
    """
    from ..evaluation.evaluators import Evaluator
    from ..evaluation.stored import Evaluation
    from ..evaluation.summary import summarise

    found = get_index(index)
    require_columns(data, [query, relevant], "query set")
    require_rows(data, "query set")
    check_k(k, len(found))
    key = key or found.text
    if key not in found.columns:
        raise DataError(f"The index has no column '{key}'; pass key= one of {found.columns}.")
    queries = data[query].tolist()
    if any(not isinstance(q, str) or not q.strip() for q in queries):
        raise DataError(f"Some rows of column '{query}' have no query text; fill or drop them.")
    rows = []
    for q, rel in zip(queries, data[relevant]):
        hits = found.search(q, k=k)[key].tolist()
        retrieved = list(dict.fromkeys(hits))  # chunks of one row count once
        rows.append(
            {
                "query": q,
                "reference": sorted(_as_set(rel), key=str),
                "output": retrieved,
                **scores(retrieved, _as_set(rel), k),
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    names = ["hit@1", f"hit@{k}", f"recall@{k}", "mrr"]
    evaluators = [Evaluator(n, scorer=None) for n in dict.fromkeys(names)]
    record = RunRecord.for_model(
        "evaluate_retrieval",
        found.handle(),
        {"k": k, "key": key, "index": found.name or found.path},
        data=data,
    )
    return Evaluation(
        name=f"retrieval-{found.name or 'index'}",
        table=table,
        summary=summarise(table, evaluators),
        evaluators=[e.name for e in evaluators],
        model=found.model["id"],
        prompt=None,
        partial=False,
        record=record,
    )
