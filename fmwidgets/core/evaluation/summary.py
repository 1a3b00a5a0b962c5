"""An evaluation's summary: per score column, the mean (or the corpus score, for accuracy/F1)
with a bootstrap 95% interval, the rows scored and the rows that failed."""

from __future__ import annotations

import math
from typing import Any

from .evaluators import Evaluator

BOOTSTRAP = 1000  # resamples for a mean's interval
BOOTSTRAP_CORPUS = 200  # resamples for corpus scores (each one re-runs the library metric)
SUMMARY_COLUMNS = ["evaluator", "mean", "ci_low", "ci_high", "n", "failed"]


# ---------------------------------------------------------------------------------------------
# Summary


def summarise(table: Any, evaluators: list[Evaluator]) -> Any:
    """mean (or corpus score), bootstrap 95% interval, n scored rows, failed (NaN) rows per score
    column (``low_mass``: rows a log-prob judge flagged, when there is one)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows, flags = {}, {}
    for ev, column in [(e, c) for e in evaluators for c in e.columns]:
        flag = ev.flagged(table, column)
        if flag is not None:
            flags[column] = flag
        values = table[column].to_numpy(dtype=float)
        ok = ~np.isnan(values)
        n = int(ok.sum())
        failed = int((~ok & table["output"].notna().to_numpy()).sum())
        if n == 0:
            rows[column] = dict(mean=math.nan, ci_low=math.nan, ci_high=math.nan, n=0, failed=failed)
            continue
        if ev.corpus is not None:
            outs = table["output"].to_numpy(dtype=object)[ok]
            refs = table["reference"].to_numpy(dtype=object)[ok]
            mean = ev.corpus(list(outs), list(refs))
            picks = rng.integers(0, n, (BOOTSTRAP_CORPUS, n))
            boot = np.array([ev.corpus(list(outs[p]), list(refs[p])) for p in picks])
        else:
            kept = values[ok]
            mean = float(kept.mean())
            boot = kept[rng.integers(0, n, (BOOTSTRAP, n))].mean(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        rows[column] = dict(mean=float(mean), ci_low=float(low), ci_high=float(high), n=n, failed=failed)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=SUMMARY_COLUMNS[1:])
    if flags:  # a log-prob judge: rows whose probability mostly fell outside the score tokens
        frame["low_mass"] = [flags.get(c) for c in frame.index]
    frame.index.name = "evaluator"
    return frame
