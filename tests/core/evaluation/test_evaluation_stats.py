"""Paired significance, kappa with its interval, calibration: equal to scipy / scikit-learn on the same data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, wilcoxon
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import KFold, cross_val_predict

import fmwidgets as fm
from fmwidgets.core.evaluation import stats
from fmwidgets.core.evaluation.calibration import agreement, calibrate
from fmwidgets.errors import DataError
from fmwidgets.render import display_data

RNG = np.random.default_rng(7)
PASS_A = RNG.integers(0, 2, 60).astype(float)
PASS_B = np.where(RNG.random(60) < 0.3, 1.0, PASS_A)  # b passes where a did, and more
CONT_A = RNG.normal(0.5, 0.2, 60)
CONT_B = CONT_A + RNG.normal(0.05, 0.1, 60)


def test_binary_scores_use_exact_mcnemar_and_continuous_ones_wilcoxon_equal_to_scipy():
    row = stats.paired(PASS_A, PASS_B)
    only_b, only_a = int(((PASS_A == 0) & (PASS_B == 1)).sum()), int(((PASS_A == 1) & (PASS_B == 0)).sum())
    assert row["test"] == "mcnemar" and row["n"] == 60
    assert row["p_value"] == pytest.approx(binomtest(only_b, only_a + only_b, 0.5).pvalue)
    assert row["diff"] == pytest.approx(PASS_B.mean() - PASS_A.mean())
    row = stats.paired(CONT_A, CONT_B)
    assert row["test"] == "wilcoxon" and row["p_value"] == pytest.approx(wilcoxon(CONT_B, CONT_A).pvalue)
    assert row["ci_low"] < row["diff"] < row["ci_high"]
    assert stats.paired(CONT_A, CONT_B) == row  # seeded bootstrap: the same interval every time
    same = stats.paired(CONT_A, CONT_A)
    assert same["p_value"] == 1.0 and same["ci_low"] == same["ci_high"] == 0.0


def test_nan_rows_are_not_pairs_and_under_five_rows_there_is_no_p_value():
    a, b = np.array([1.0, np.nan, 0.0, 1.0, 0.2, 0.4]), np.array([0.5, 1.0, np.nan, 1.0, 0.3, 0.9])
    row = stats.paired(a, b)
    assert row["n"] == 4 and math.isnan(row["p_value"]) and math.isnan(row["ci_low"])
    assert row["mean_a"] == pytest.approx(np.mean([1.0, 1.0, 0.2, 0.4]))
    frame = stats.significance({"x": PASS_A, "y": CONT_A}, {"y": CONT_B, "x": PASS_B})
    assert list(frame.index) == ["x", "y"] and list(frame.columns) == stats.COLUMNS


@pytest.fixture
def two_runs():
    """Two stored runs of outputs already in hand (no model): b fixes rows a got wrong."""
    ref = [str(i % 7) for i in range(40)]
    a = [r if i % 3 else "wrong" for i, r in enumerate(ref)]
    b = [r if i % 9 else "wrong" for i, r in enumerate(ref)]
    data = pd.DataFrame({"q": [f"q{i}" for i in range(40)], "ref": ref, "a": a, "b": b})
    run_a = fm.evaluate(data, output="a", reference="ref", evaluators=["exact_match", "chrf"], name="A", progress=False)
    run_b = fm.evaluate(data, output="b", reference="ref", evaluators=["exact_match", "chrf"], name="B", progress=False)
    return data, run_a, run_b


def test_compare_evaluations_significance_and_its_leading_sentence(two_runs):
    data, run_a, run_b = two_runs
    assert run_a.model is None and run_a.table["output"].tolist() == data["a"].tolist()
    diff = fm.compare_evaluations("A", "B")
    sig = diff.significance
    assert list(sig.index) == ["exact_match", "chrf"] and sig.loc["exact_match", "test"] == "mcnemar"
    x, y = run_a.table["exact_match"].to_numpy(), run_b.table["exact_match"].to_numpy()
    assert sig.loc["exact_match", "p_value"] == pytest.approx(binomtest(int(((x == 0) & (y == 1)).sum()),
                                                                        int((x != y).sum()), 0.5).pvalue)
    assert sig.loc["chrf", "p_value"] == pytest.approx(
        wilcoxon(run_b.table["chrf"], run_a.table["chrf"]).pvalue)
    text = display_data(diff)["text/plain"].splitlines()[0]
    row = sig.loc["exact_match"]
    assert text == (f"B is better on exact_match: {row['diff']:+.2g} [{row['ci_low']:.2g}, {row['ci_high']:.2g}], "
                    f"p = {row['p_value']:.2g}, 40 rows.")
    html = display_data(diff)["text/html"]
    assert html.index("B is better") < html.index("<table")


def test_an_interval_that_leaves_out_zero_beside_a_large_p_is_explained():
    """06-evaluate showed "No clear difference ...: -0.037 [-0.068, -0.0047], p = 0.078": the
    sentence now says the test, not the interval, decided."""
    diffs = [-0.01, 0.02, 0.03, -0.04, -0.05, -0.06, -0.07, -0.08]  # Wilcoxon W+ = 5 of 8 rows
    data = pd.DataFrame({"a": ["0.5"] * 8, "b": [str(0.5 + d) for d in diffs]})
    def score(output, row):
        return float(output)

    for side in "ab":
        fm.evaluate(data, output=side, evaluators=[score], name=f"close-{side}", progress=False)
    diff = fm.compare_evaluations("close-a", "close-b")
    row = diff.significance.iloc[0]
    assert row["p_value"] == pytest.approx(wilcoxon(data["b"].astype(float), data["a"].astype(float)).pvalue)
    assert row["p_value"] > 0.05 and row["ci_high"] < 0
    assert display_data(diff)["text/plain"].splitlines()[0].endswith(
        "8 rows (the interval leaves out 0, but the wilcoxon test cannot rule out chance).")


def test_too_few_rows_to_tell_is_said_instead_of_a_p_value():
    data = pd.DataFrame({"ref": ["1", "2", "3", "4"], "a": ["1", "x", "3", "x"], "b": ["1", "2", "3", "4"]})
    fm.evaluate(data, output="a", reference="ref", name="small-a", progress=False)
    fm.evaluate(data, output="b", reference="ref", name="small-b", progress=False)
    diff = fm.compare_evaluations("small-a", "small-b")
    assert math.isnan(diff.significance.loc["exact_match", "p_value"])
    shown = display_data(diff)
    assert shown["text/plain"].startswith("Too few rows to tell on exact_match: 4 rows have both scores")
    assert "p =" not in shown["text/plain"] and "too few rows" in shown["text/html"]


def test_agreement_is_sklearns_kappa_with_a_bootstrap_interval_and_the_confusion_table():
    judge = [1.2, 3.9, 4.0, 2.0, 5.0, 1.0, 2.6, 4.4, 3.1, 1.8, np.nan]
    human = [1, 4, 5, 2, 5, 2, 3, 4, 3, 1, 4]
    table = pd.DataFrame({"judge": judge, "human": human})
    got = agreement(table)
    rounded = [str(round(v)) for v in judge[:10]]
    expected = cohen_kappa_score(rounded, [str(h) for h in human[:10]])
    assert got == pytest.approx(expected) and got.kappa == pytest.approx(expected) and got.n == 10
    assert got.ci_low <= expected <= got.ci_high and got.ci_low < got.ci_high
    assert got.confusion.loc["4", "5"] == 1 and int(got.confusion.to_numpy().sum()) == 10
    assert list(got.confusion.index) == ["1", "2", "3", "4", "5"]
    assert "Cohen's kappa between judge and human" in display_data(got)["text/plain"]
    verdicts = pd.DataFrame({"judge_preference": ["a", "b", "tie", "b"], "human": ["a", "b", "b", "b"]})
    labels = agreement(verdicts, "judge_preference", "human")  # pairwise verdicts compare as labels
    assert labels == pytest.approx(cohen_kappa_score(["a", "b", "tie", "b"], ["a", "b", "b", "b"]))


def test_calibrate_is_isotonic_regression_cross_validated_on_the_rated_rows():
    judge = np.linspace(2.6, 3.4, 24)  # a judge that ranks well on the wrong scale
    human = np.clip(np.round((judge - 2.6) * 5), 0, 4)
    table = pd.DataFrame({"judge": np.append(judge, 3.0), "human": np.append(human, np.nan)})
    cal = calibrate(table)
    folds = KFold(5, shuffle=True, random_state=0)
    left_out = cross_val_predict(IsotonicRegression(out_of_bounds="clip"), judge, human, cv=folds)
    assert cal.n == 24 and cal.folds == 5 and cal.mae == pytest.approx(np.abs(left_out - human).mean())
    assert cal.mae < cal.mae_mean < cal.mae_raw
    assert cal.predict([2.6, np.nan, 3.4])[0] == pytest.approx(0) and math.isnan(cal.predict([np.nan])[0])
    assert "on rows left out (5-fold)" in display_data(cal)["text/plain"]
    with pytest.raises(DataError, match="at least 4 rated rows"):
        calibrate(table.head(3))
