"""Paired statistics for two runs over the same rows: is b really better than a?

Both runs scored the same rows, so each row is a pair (score under a, score under b) and the
question is about the per-row differences, not two independent means.  For each evaluator:

- the mean difference ``diff`` (b - a) with a paired bootstrap 95% interval (rows resampled
  together, seeded, so the interval is the same on every run);
- a p-value from scipy: McNemar's exact test (``scipy.stats.binomtest`` on the discordant pairs)
  when every score is 0 or 1, the Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) otherwise.

Under ``MIN_ROWS`` shared rows there is no p-value and no interval: the display says the data are
too few to tell.  Everything here is a pure function of numpy arrays.
"""

from __future__ import annotations

import math
from typing import Any

MIN_ROWS = 5  # fewer shared rows than this: no p-value, no interval
BOOTSTRAP = 2000
SEED = 0
COLUMNS = ["mean_a", "mean_b", "diff", "ci_low", "ci_high", "p_value", "test", "n"]


def is_binary(a: Any, b: Any) -> bool:
    """True when every score of both runs is 0 or 1 (a pass/fail evaluator)."""
    import numpy as np

    both = np.concatenate([a, b])
    return bool(np.isin(both, (0.0, 1.0)).all())


def mcnemar_p(a: Any, b: Any) -> float:
    """Exact McNemar: a two-sided binomial test of b-only passes among the discordant rows."""
    from scipy.stats import binomtest

    only_b = int(((a == 0) & (b == 1)).sum())
    only_a = int(((a == 1) & (b == 0)).sum())
    if only_a + only_b == 0:
        return 1.0  # no row changed: nothing suggests a difference
    return float(binomtest(only_b, only_a + only_b, 0.5).pvalue)


def wilcoxon_p(a: Any, b: Any) -> float:
    """Wilcoxon signed-rank on the paired differences (scipy's defaults)."""
    from scipy.stats import wilcoxon

    if not (b - a).any():
        return 1.0  # identical scores on every row (scipy would divide by zero)
    return float(wilcoxon(b, a).pvalue)


def bootstrap_interval(diff: Any, resamples: int = BOOTSTRAP, seed: int = SEED) -> tuple[float, float]:
    """95% percentile interval of the mean of ``diff`` over rows resampled with replacement."""
    import numpy as np

    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def paired(a: Any, b: Any) -> dict[str, Any]:
    """One row of the significance table for the scores ``a`` and ``b`` of the same rows.

    Rows where either score is NaN are left out (they are not pairs).
    """
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = len(a)
    test = "mcnemar" if is_binary(a, b) else "wilcoxon"
    row = dict(
        mean_a=float(a.mean()) if n else math.nan,
        mean_b=float(b.mean()) if n else math.nan,
        diff=float((b - a).mean()) if n else math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        p_value=math.nan,
        test=test,
        n=n,
    )
    if n >= MIN_ROWS:
        row["ci_low"], row["ci_high"] = bootstrap_interval(b - a)
        row["p_value"] = mcnemar_p(a, b) if test == "mcnemar" else wilcoxon_p(a, b)
    return row


def significance(scores_a: dict[str, Any], scores_b: dict[str, Any]) -> Any:
    """A DataFrame indexed by evaluator: ``COLUMNS`` for each name in both dicts (a's order)."""
    import pandas as pd

    rows = {name: paired(scores_a[name], scores_b[name]) for name in scores_a if name in scores_b}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    frame.index.name = "evaluator"
    return frame.astype({"n": int})
