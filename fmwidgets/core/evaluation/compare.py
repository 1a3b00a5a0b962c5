"""Before/after, row by row: ``fm.compare_evaluations(a, b)``.

Two runs over the same rows (the same data, evaluated with two prompt versions, two models, or
a base model and its fine-tune) are lined up by row; each row is improved, regressed or the
same on one evaluator (lower is better for WER).  The display puts the changed rows first with
the two outputs' differences marked (render/evaluation.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import DataError
from ...records import Recorded, RunRecord, recorded
from .run import load_evaluation

LOWER_IS_BETTER = {"wer"}


@dataclass(eq=False)
class EvaluationComparison(Recorded):
    """``table``: inputs, both outputs, both scores, ``status``; ``counts``: rows per status."""

    a: str
    b: str
    evaluator: str
    table: Any
    record: RunRecord

    @property
    def counts(self) -> Any:
        return self.table["status"].value_counts().reindex(["improved", "regressed", "same"], fill_value=0)

    @property
    def changed(self) -> Any:
        """The improved and regressed rows, regressions first."""
        rows = self.table[self.table["status"] != "same"]
        return rows.sort_values("status", key=lambda s: s.map({"regressed": 0, "improved": 1}), kind="stable")


def _status(before: float, after: float, lower_better: bool) -> str:
    if math.isnan(before) and math.isnan(after):
        return "same"
    if math.isnan(before) or math.isnan(after):
        return "improved" if math.isnan(before) else "regressed"
    if after == before:
        return "same"
    return "improved" if (after < before) == lower_better else "regressed"


@recorded
def compare_evaluations(a: Any, b: Any, evaluator: str | None = None) -> EvaluationComparison:
    """Row-by-row comparison of two evaluations (objects or stored names) on one evaluator."""
    a, b = load_evaluation(a), load_evaluation(b)
    if len(a.table) != len(b.table):
        raise DataError(
            f"'{a.name}' has {len(a.table)} rows and '{b.name}' has {len(b.table)}; compare runs "
            "over the same data."
        )
    data_a, data_b = ((run.record.data or {}).get("sha256") for run in (a, b))
    if data_a and data_b and data_a != data_b:
        raise DataError(
            f"'{a.name}' and '{b.name}' ran over different data (fingerprints {data_a} and {data_b}); "
            "compare runs over the same rows."
        )
    shared = [e for e in a.evaluators if e in b.evaluators]
    if evaluator is None:
        if not shared:
            raise DataError(f"'{a.name}' and '{b.name}' share no evaluator; evaluate both with the same one.")
        evaluator = shared[0]
    elif evaluator not in shared:
        raise DataError(
            f"The evaluator '{evaluator}' is not in both runs; they share {', '.join(shared) or 'none'}."
        )
    skip = {"prompt", "output", "seconds", "judge_reason", "human", "human_comment", *a.evaluators}
    table = a.table[[c for c in a.table.columns if c not in skip]].copy()
    table["output_a"] = a.table["output"].to_numpy()
    table["output_b"] = b.table["output"].to_numpy()
    table["score_a"] = a.table[evaluator].astype(float).to_numpy()
    table["score_b"] = b.table[evaluator].astype(float).to_numpy()
    lower = evaluator in LOWER_IS_BETTER
    table["status"] = [_status(x, y, lower) for x, y in zip(table["score_a"], table["score_b"])]
    record = RunRecord(
        kind="compare_evaluations",
        params=dict(
            a=a.name,
            b=b.name,
            evaluator=evaluator,
            model_a=a.model,
            model_b=b.model,
            prompt_a=a.prompt,
            prompt_b=b.prompt,
        ),
    )
    return EvaluationComparison(a.name, b.name, evaluator, table, record)
