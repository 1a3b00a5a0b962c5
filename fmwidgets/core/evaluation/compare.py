"""Before/after, row by row: ``fm.compare_evaluations(a, b)``.

Two runs over the same rows (the same data, evaluated with two prompt versions, two models, or
a base model and its fine-tune) are lined up by row; each row is improved, regressed or the
same on one evaluator (lower is better for WER).  ``significance`` says, for every evaluator
both runs have, whether the difference is real (paired tests, ``stats.py``).  A judge given as
``judge=`` scores both runs' outputs (a pointwise judge: one more shared evaluator) or says which
of the two outputs is better, in both orders (``fm.judge(pairwise=True)``).  The display leads
with one sentence on the difference, then the changed rows with the two outputs' differences
marked (render/evaluation.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import BadArgumentError, DataError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.evaluation import evaluation_comparison_bundle
from .judge import Judge
from .pairs import Pairs, input_columns
from .stats import MIN_ROWS, significance
from .stored import Evaluation, load_evaluation

LOWER_IS_BETTER = {"wer", "latency", "cost"}
STATUSES = ["improved", "regressed", "same"]


@dataclass(eq=False)
class EvaluationComparison(Recorded, look=evaluation_comparison_bundle):
    """``table``: inputs, both prompts as sent and both outputs, both scores, ``status`` (and a
    pairwise judge's verdicts; people's are in ``human``: ``fm.Review(comparison)``);
    ``counts``: rows per status (and the judge's rates); ``significance``: one row per evaluator
    both runs have (``stats.significance``)."""

    a: str
    b: str
    evaluator: str | None  # None: the status comes from a pairwise judge
    table: Any
    record: RunRecord
    significance: Any = None
    judge: str | None = None  # the pairwise judge's name (its columns are <judge>_preference, ...)
    min_rows = MIN_ROWS  # fewer rows with both scores than this get no p-value (stats.py)

    @property
    def lower_is_better(self) -> bool:
        """Whether a lower score of ``evaluator`` is the better one (WER, latency...)."""
        return lower_is_better(self.evaluator)

    @property
    def counts(self) -> Any:
        """Rows per status; with a pairwise judge also ``win_rate`` (b preferred), ``loss_rate``,
        ``tie_rate`` and ``inconsistent_rate`` (the verdict changed when the order was swapped)."""
        import pandas as pd

        counts = self.table["status"].value_counts().reindex(STATUSES, fill_value=0)
        if self.judge is None:
            return counts
        verdicts = self.table[f"{self.judge}_preference"].dropna()
        consistent = self.table[f"{self.judge}_consistent"].dropna().astype(bool)
        rates = {
            "win_rate": float((verdicts == "b").mean()),
            "loss_rate": float((verdicts == "a").mean()),
            "tie_rate": float((verdicts == "tie").mean()),
            "inconsistent_rate": float((~consistent).mean()),
        }
        return pd.concat([counts.astype(float), pd.Series(rates)])

    def agreement(self, a: str | None = None, b: str = "human") -> Any:
        """Cohen's kappa between the pairwise judge's verdicts (``a``, by default
        ``<judge>_preference``) and people's (``human``: ``fm.Review(comparison)``), with its
        interval and confusion table (``calibration.Agreement``)."""
        from .calibration import agreement

        if a is None:
            if self.judge is None:
                raise BadArgumentError(
                    "This comparison has no pairwise judge; compare with judge=fm.judge(..., "
                    "pairwise=True), or name the two columns: agreement(a=COLUMN, b='human')."
                )
            a = f"{self.judge}_preference"
        return agreement(self.table, a, b, f"comparison '{self.a}' vs '{self.b}'")

    def pairs(self, name: str | None = None) -> Pairs:
        """The pairs a review goes through, kept under ``name`` (by default "A vs B"); their
        verdicts so far land in ``table``'s ``human`` column."""
        return Pairs(
            name or f"{self.a} vs {self.b}", self.table, self.a, self.b, input_columns(self.table, self.judge)
        )

    @property
    def changed(self) -> Any:
        """The improved and regressed rows, regressions first."""
        rows = self.table[self.table["status"] != "same"]
        return rows.sort_values("status", key=lambda s: s.map({"regressed": 0, "improved": 1}), kind="stable")


def lower_is_better(evaluator: str | None) -> bool:
    return evaluator in LOWER_IS_BETTER


def _status(before: float, after: float, lower_better: bool) -> str:
    if math.isnan(before) and math.isnan(after):
        return "same"
    if math.isnan(before) or math.isnan(after):
        return "improved" if math.isnan(before) else "regressed"
    if after == before:
        return "same"
    return "improved" if (after < before) == lower_better else "regressed"


def _scores(run: Evaluation, judge: Judge | None) -> dict[str, Any]:
    """Score columns of ``run`` by evaluator, with a pointwise judge's scores of its outputs."""
    scores = {name: run.table[name].astype(float).to_numpy() for name in run.evaluators}
    if judge is not None and not judge.pairwise:
        judged = judge.scores(_outputs(run), run.table)
        scores.update({c: judged[c] for c in judge.columns})
    return scores


def _outputs(run: Evaluation) -> list:
    """The run's outputs, None where there is none (a stored run gives NaN)."""
    return [None if o is None or (isinstance(o, float) and math.isnan(o)) else o for o in run.table["output"]]


def _check_judge(judge: Any) -> Judge | None:
    if judge is None:
        return None
    if not isinstance(judge, Judge):
        raise BadArgumentError(
            f"judge= takes fm.judge(...) (pairwise=True to ask which output is better), not "
            f"{type(judge).__name__}."
        )
    judge.method_for(judge.handle())  # a judge that cannot judge fails before any row is judged
    return judge


@recorded
def compare_evaluations(
    a: Any, b: Any, evaluator: str | None = None, judge: Any = None
) -> EvaluationComparison:
    """Row-by-row comparison of two evaluations (objects or stored names) on one evaluator.

    ``judge=fm.judge(model=...)`` scores both runs' outputs with that judge first;
    ``judge=fm.judge(model=..., pairwise=True)`` asks it which output is better for each row.
    """
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
    judge = _check_judge(judge)
    pairwise = judge is not None and judge.pairwise
    scored = [e for e in a.evaluators if e in b.evaluators]
    if judge is not None and not pairwise:
        scored += [c for c in judge.columns if c not in scored]
    if evaluator is None:
        if not scored and not pairwise:
            raise DataError(f"'{a.name}' and '{b.name}' share no evaluator; evaluate both with the same one.")
        if judge is not None and not pairwise:
            evaluator = judge.columns[0]
        else:
            evaluator = scored[0] if scored else None
    elif evaluator not in scored:
        raise DataError(
            f"The evaluator '{evaluator}' is not in both runs; they share {', '.join(scored) or 'none'}."
        )
    scores_a, scores_b = _scores(a, judge), _scores(b, judge)
    extras = [*a.evaluators, *(judge.columns if judge is not None else [])]
    skip = {"prompt", "output", "seconds", "human", "human_comment", *extras}
    table = a.table[
        [c for c in a.table.columns if c not in skip and not any(c.startswith(f"{e}_") for e in extras)]
    ].copy()
    table["prompt_a"] = a.table["prompt"].to_numpy()
    table["prompt_b"] = b.table["prompt"].to_numpy()
    table["output_a"] = a.table["output"].to_numpy()
    table["output_b"] = b.table["output"].to_numpy()
    if evaluator is not None:
        table["score_a"] = scores_a[evaluator]
        table["score_b"] = scores_b[evaluator]
        lower = lower_is_better(evaluator)
        table["status"] = [_status(x, y, lower) for x, y in zip(table["score_a"], table["score_b"])]
    if pairwise:
        assert judge is not None
        verdicts = judge.prefer(a.table, _outputs(a), _outputs(b))
        for column, values in verdicts.items():
            table[column] = values
        if evaluator is None:  # the judge's verdict is the row's status
            status = {"b": "improved", "a": "regressed"}
            table["status"] = [status.get(v, "same") for v in verdicts[f"{judge.name}_preference"]]
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
            **(_judge_params(judge) if judge is not None else {}),
        ),
    )
    result = EvaluationComparison(
        a.name,
        b.name,
        evaluator,
        table,
        record,
        significance=significance(
            {k: v for k, v in scores_a.items() if k in scored},
            {k: v for k, v in scores_b.items() if k in scored},
        ),
        judge=judge.name if pairwise and judge is not None else None,
    )
    result.pairs()  # people's verdicts so far, into the table's human column
    return result


def _judge_params(judge: Judge) -> dict[str, Any]:
    handle = judge.handle()
    return dict(
        judge=judge.name,
        judge_model=handle.name,
        judge_method=judge.method_for(handle),
        judge_pairwise=judge.pairwise,
    )
