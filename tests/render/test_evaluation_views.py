"""How evaluations look: summary table, static SVG chart, worst rows, diffs; hostile text escaped."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.evaluation.evaluators import resolve
from fmwidgets.core.evaluation.run import run_evaluation
from fmwidgets.core.evaluation.summary import summarise
from fmwidgets.render import display_data
from fmwidgets.render.evaluation import diff_html, scale_groups, summary_svg
from fmwidgets.render.style import TINT_GREEN, TINT_RED

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


@pytest.fixture
def runs(gpt2):
    df = pd.DataFrame({"q": ["a", "b", "c", HOSTILE], "a": ["1", "2", HOSTILE, "4"]})

    def hostile_len(output, row):
        return len(output) % 2

    hostile_len.__name__ = "<b>len</b>"
    first = run_evaluation(df, "Q: {q}\nA:", reference="a", evaluators=["exact_match", hostile_len],
                     name="<i>first</i>", greedy=True, max_new_tokens=4)
    first.table["output"] = ["1", "two", HOSTILE, "4 now"]
    first.table["exact_match"] = [1.0, 0.0, 1.0, 0.0]
    first.summary = summarise(first.table, resolve(["exact_match", hostile_len]))
    second = run_evaluation(df, "Q: {q}\nA:", reference="a", evaluators=["exact_match"], name="second",
                      greedy=True, max_new_tokens=4)
    second.table["output"] = ["1", "2", "<b>bold</b>", "4"]
    second.table["exact_match"] = [1.0, 1.0, 0.0, 1.0]
    return first, second


def test_evaluation_view_has_summary_chart_worst_rows_and_escapes_everything(runs):
    first, _ = runs
    bundle = display_data(first)
    page = bundle["text/html"]
    assert "<svg class='fm-eval-chart'" in page and "95% high" in page and "Worst rows by exact_match" in page
    assert "<script>" not in page and "<img src=x" not in page and "<i>first</i>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;len&lt;/b&gt;" in page
    assert "exact_match: 0.5" in bundle["text/plain"]
    data, meta = first._repr_mimebundle_()
    assert meta["fmwidgets"]["kind"] == "evaluate"


def test_plotly_bars_have_the_intervals_and_escaped_names(runs):
    first, _ = runs
    fig = fm.plot_evaluation(first)
    bar = fig.data[0]
    summary = first.summary
    assert list(bar.y) == summary["mean"].tolist()
    assert list(bar.error_y.array) == pytest.approx((summary["ci_high"] - summary["mean"]).tolist())
    assert list(bar.error_y.arrayminus) == pytest.approx((summary["mean"] - summary["ci_low"]).tolist())
    assert "&lt;b&gt;len&lt;/b&gt;" in bar.x and "<i>" not in fig.layout.title.text
    assert fig.record is first.record


def test_scores_on_other_scales_get_an_axis_of_their_own():
    table = pd.DataFrame({"output": ["the cat sat", "a dog", "hello"], "reference": ["the cat sat", "a dog ran", "bye"],
                          "seconds": [0.5, 2.0, 1.0]})
    evaluators = resolve(["exact_match", "chrf", "latency"])
    for ev in evaluators:
        for column, values in ev.scores(table["output"].tolist(), table).items():
            table[column] = values
    summary = summarise(table, evaluators)
    assert 10 < summary.loc["chrf", "mean"] < 100  # sacrebleu's chrF is 0-100, exact match 0-1
    assert scale_groups(summary) == [("score, 0–1", [0]), ("score, 0–100", [1]), ("seconds per row", [2])]

    fig = fm.plot_evaluation(summary)
    assert [list(bar.x) for bar in fig.data] == [["exact_match"], ["chrf"], ["latency"]]
    axes = [fig.layout.yaxis, fig.layout.yaxis2, fig.layout.yaxis3]
    assert [a.title.text for a in axes] == ["score, 0–1", "score, 0–100", "seconds per row"]
    assert tuple(axes[0].range) == (0, 1.05) and tuple(axes[1].range) == (0, 105)

    svg = summary_svg(summary)
    assert re.findall(r"class='fm-eval-scale'[^>]*>([^<]*)<", svg) == [
        "score, 0–1 (bar: 0 to 1)", "score, 0–100 (bar: 0 to 100)",
        f"seconds per row (bar: 0 to {summary.loc['latency', 'ci_high']:.4g})"]
    widths = [float(w) for w in re.findall(r"<rect x='150' y='[\d.]+' width='([\d.]+)'", svg)]
    bar = 420 - 220  # each bar is drawn to the top of its own scale
    mean = summary["mean"]
    assert widths == pytest.approx([mean["exact_match"] * bar, mean["chrf"] / 100 * bar,
                                    mean["latency"] / summary.loc["latency", "ci_high"] * bar], abs=0.06)


def test_comparison_view_puts_regressions_first_and_marks_escaped_diffs(runs):
    first, second = runs
    diff = fm.compare_evaluations(first, second)
    assert diff.table["status"].tolist() == ["same", "improved", "regressed", "improved"]
    assert diff.changed["status"].tolist() == ["regressed", "improved", "improved"]
    page = display_data(diff)["text/html"]
    assert page.index("regressed</span>") < page.index("improved</span>")
    assert "<script>" not in page and "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    fig = fm.plot_comparison(diff)
    assert list(fig.data[0].y) == [2, 1, 1]


def test_diff_marks_only_the_words_that_changed():
    a, b = diff_html("the <cat> sat", "the <dog> sat")
    assert a == f"the <del style='background:{TINT_RED}'>&lt;cat&gt;</del> sat"
    assert b == f"the <ins style='background:{TINT_GREEN};text-decoration:none'>&lt;dog&gt;</ins> sat"
