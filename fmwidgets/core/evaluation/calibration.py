"""Can this judge be trusted, and how do its scores map onto people's?

- ``agreement``: Cohen's kappa (scikit-learn's ``cohen_kappa_score``) between two columns of an
  evaluation table, over the rows where both have a value, with a seeded bootstrap 95% interval and
  the confusion table.  Numeric scores are rounded to whole numbers first (a 3.6 from a log-prob
  judge is a 4); other values (a pairwise judge's a / b / tie) are compared as they are.
- ``calibrate``: isotonic regression (scikit-learn) from the judge's scores to the human ratings
  on the rated rows: a monotone mapping, so a judge that ranks well but sits on another scale is
  put on people's scale.  How well it holds is measured on rows left out (k-fold
  cross-validation): the mean absolute error of the calibrated judge, beside predicting the
  mean rating and beside the raw judge score.

The results are numbers and DataFrames; render/evaluation.py decides how they look.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from ...errors import DataError
from ...render import Shown
from ...render.evaluation import agreement_bundle, calibration_bundle
from ..data import require_columns

BOOTSTRAP = 1000
SEED = 0
MIN_CALIBRATION_ROWS = 4  # two folds of two rows
FOLDS = 5


class Agreement(float, Shown, look=agreement_bundle):
    """Cohen's kappa (the float itself) with ``ci_low``, ``ci_high``, ``n`` and ``confusion``
    (rows: column ``a``'s values, columns: ``b``'s)."""

    a: str
    b: str
    ci_low: float
    ci_high: float
    n: int
    confusion: Any

    def __new__(cls, kappa: float, **facts: Any) -> "Agreement":
        made = super().__new__(cls, kappa)
        for key, value in facts.items():
            setattr(made, key, value)
        return made

    @property
    def kappa(self) -> float:
        return float(self)


def _labels(values: Any) -> Any:
    """Whole-number strings for numeric values, the values' text otherwise (kappa is over labels)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float).round().astype(int).astype(str)
    return values.astype(str)


def _kappa(x: Any, y: Any) -> float:
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():  # one label on both sides: kappa is undefined (NaN), say nothing
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(x, y))


def _rated(table: Any, a: str, b: str, where: str) -> Any:
    require_columns(table, [a, b], where)
    both = table[[a, b]].dropna()
    if len(both) < 2:
        raise DataError(
            f"Only {len(both)} rows have both a '{a}' and a '{b}' score; rate more rows "
            "(fm.Review(evaluation)) before measuring agreement."
        )
    return both


def agreement(table: Any, a: str = "judge", b: str = "human", where: str = "the table") -> Agreement:
    """Kappa between columns ``a`` and ``b`` of ``table``, with interval and confusion table."""
    import numpy as np
    import pandas as pd

    both = _rated(table, a, b, where)
    x, y = _labels(both[a]).to_numpy(), _labels(both[b]).to_numpy()
    kappa = _kappa(x, y)
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(x), (BOOTSTRAP, len(x)))
    boot = np.array([_kappa(x[p], y[p]) for p in picks])
    low, high = (math.nan, math.nan) if np.isnan(boot).all() else np.nanpercentile(boot, [2.5, 97.5])
    order = sorted(set(x) | set(y), key=_sort_key)
    confusion = pd.crosstab(pd.Series(x, name=a), pd.Series(y, name=b)).reindex(
        index=order, columns=order, fill_value=0
    )
    return Agreement(kappa, a=a, b=b, ci_low=float(low), ci_high=float(high), n=len(x), confusion=confusion)


def _sort_key(label: str) -> tuple:
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


@dataclass(eq=False)
class Calibration(Shown, look=calibration_bundle):
    """A judge mapped onto people's scale: ``predict(scores)``; ``mapping`` (judge score ->
    calibrated score) and the left-out errors ``mae`` (calibrated), ``mae_mean`` (predicting the
    mean rating) and ``mae_raw`` (the judge's own score) over ``n`` rated rows in ``folds`` folds."""

    judge: str
    human: str
    n: int
    folds: int
    mae: float
    mae_mean: float
    mae_raw: float
    mapping: Any
    model: Any

    def predict(self, scores: Any) -> Any:
        """Calibrated scores for judge ``scores`` (NaN stays NaN)."""
        import numpy as np

        values = np.asarray(scores, dtype=float)
        out = np.full(values.shape, np.nan)
        ok = ~np.isnan(values)
        if ok.any():
            out[ok] = self.model.predict(values[ok])
        return out


def calibrate(
    table: Any, judge: str = "judge", human: str = "human", where: str = "the table"
) -> Calibration:
    """Fit judge -> human on the rated rows; cross-validate it (see the module docstring)."""
    import numpy as np
    import pandas as pd
    from sklearn.dummy import DummyRegressor
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import KFold, cross_val_predict

    both = _rated(table, judge, human, where)
    for column in (judge, human):
        if not pd.api.types.is_numeric_dtype(both[column]):
            raise DataError(
                f"Column '{column}' holds {both[column].dtype} values, not scores; calibrate a numeric "
                "judge score against numeric ratings."
            )
    if len(both) < MIN_CALIBRATION_ROWS:
        raise DataError(
            f"Only {len(both)} rows have both a '{judge}' and a '{human}' score; calibration needs at "
            f"least {MIN_CALIBRATION_ROWS} rated rows (fm.Review(evaluation))."
        )
    x, y = both[judge].to_numpy(dtype=float), both[human].to_numpy(dtype=float)
    folds = min(FOLDS, len(x) // 2)
    split = KFold(folds, shuffle=True, random_state=SEED)
    fitted = IsotonicRegression(out_of_bounds="clip")
    left_out = cross_val_predict(fitted, x, y, cv=split)
    mean_only = cross_val_predict(DummyRegressor(), x.reshape(-1, 1), y, cv=split)
    fitted.fit(x, y)
    grid = np.unique(x)
    mapping = pd.DataFrame({judge: grid, f"{judge}_calibrated": fitted.predict(grid)})
    return Calibration(
        judge=judge,
        human=human,
        n=len(x),
        folds=folds,
        mae=float(np.abs(left_out - y).mean()),
        mae_mean=float(np.abs(mean_only - y).mean()),
        mae_raw=float(np.abs(x - y).mean()),
        mapping=mapping,
        model=fitted,
    )
