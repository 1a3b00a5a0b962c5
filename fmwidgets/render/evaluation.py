"""How evaluations and their comparisons look: tables, a static bar chart, the rows that matter.

Everything here is plain HTML with every piece of data-derived text escaped (outputs, inputs,
references, evaluator and run names come from users and models).  The bar chart of scores with
their 95% intervals is an inline SVG, so the saved notebook shows it without a kernel, plotly.js
or the internet; ``fm.plot_evaluation`` draws the interactive Plotly version of the same data.
A comparison leads with one sentence on whether the difference is real (``significance_sentence``),
then the paired statistics per evaluator, a pairwise judge's verdicts, and the changed rows,
regressions on top, with the words that differ between the two outputs marked.  A judge's
agreement with people shows kappa with its interval and the confusion table; a calibration
shows its left-out errors and the mapping.
"""

from __future__ import annotations

import difflib
import html
import math
from typing import Any

from .generate import dollars
from .style import ERROR, TEXT, TINT_GREEN, TINT_RED

WORST_ROWS = 5
CHANGED_ROWS = 20
_CELL = "max-width:420px;white-space:pre-wrap;vertical-align:top;text-align:left"
_STATUS = {"improved": "#2ca02c", "regressed": "#d62728", "same": "#9e9e9e"}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return _e(value)
    return "–" if math.isnan(value) else f"{value:.4g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table from cells that are already escaped."""
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='{_CELL}'>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='fm-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# Evaluators whose scale is fixed by their library (sacrebleu's BLEU and chrF are 0–100) or that
# are not scores at all (the accounting ones): the axis each is drawn on.
KNOWN_SCALES = {
    "bleu": "score, 0–100",
    "chrf": "score, 0–100",
    "latency": "seconds per row",
    "cost": "dollars per row",
}
UNIT_SCALE = "score, 0–1"
SCALE_TOP = {UNIT_SCALE: 1.0, "score, 0–100": 100.0}


def scale_groups(summary: Any) -> list[tuple[str, list[int]]]:
    """(axis title, row positions of ``summary``) for each scale its evaluators are on, in order.

    A chart gives each group an axis of its own, so chrF (0–100) never shrinks exact match (0–1)
    to nothing: the known scales above; ``score, 0–1`` for a score whose mean and interval stay
    within 0 and 1 (exact match, a 0/1 judge, rouge_l); otherwise the evaluator on its own axis
    (a 1–5 judge, WER above 1), titled with its name.
    """
    values = summary[["mean", "ci_low", "ci_high"]].astype(float).to_numpy()
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(summary.index):
        seen = [v for v in values[i] if not math.isnan(v)]
        title = KNOWN_SCALES.get(str(name)) or (
            UNIT_SCALE if all(0 <= v <= 1 for v in seen) else f"{name}, on its own scale"
        )
        groups.setdefault(title, []).append(i)
    return list(groups.items())


def summary_svg(summary: Any, width: int = 420) -> str:
    """Horizontal bars (mean) with whiskers (95% interval), one per evaluator, as inline SVG, in one
    section per scale (``scale_groups``), each headed by its scale and drawn to its own top."""
    if len(summary) == 0:
        return ""
    values = summary[["mean", "ci_low", "ci_high"]].astype(float).fillna(0.0)
    left, bar_w, row_h, head_h = 150, width - 220, 22, 20
    parts, y = [], 6
    for title, rows in scale_groups(summary):
        top = SCALE_TOP.get(title) or max(float(values.iloc[rows].to_numpy().max()), 1e-12)
        scale = bar_w / top
        parts.append(
            f"<text class='fm-eval-scale' x='{left}' y='{y + 13}' font-size='11' font-style='italic'>"
            f"{_e(title)} (bar: 0 to {_num(top)})</text>"
        )
        y += head_h
        for i in rows:
            row = values.iloc[i]
            parts.append(
                f"<text x='{left - 6}' y='{y + 14}' text-anchor='end' font-size='12'>{_e(summary.index[i])}</text>"
                f"<rect x='{left}' y='{y + 3}' width='{max(row['mean'], 0) * scale:.1f}' height='14' "
                "fill='#4c78a8'/>"
                f"<line x1='{left + max(row['ci_low'], 0) * scale:.1f}' x2='{left + max(row['ci_high'], 0) * scale:.1f}' "
                f"y1='{y + 10}' y2='{y + 10}' style='stroke:{TEXT}' stroke-width='1.5'/>"
                f"<text x='{left + bar_w + 6}' y='{y + 14}' font-size='12'>{_num(summary['mean'].iloc[i])}</text>"
            )
            y += row_h
    height = y + 6
    return (
        f"<svg class='fm-eval-chart' role='img' aria-label='scores with 95% intervals' width='{width}' "
        f"height='{height}' style='fill:{TEXT}' xmlns='http://www.w3.org/2000/svg'>{''.join(parts)}</svg>"
    )


def summary_table(summary: Any) -> str:
    rows = [
        [
            _e(name),
            *(_num(row[c]) for c in ("mean", "ci_low", "ci_high")),
            _num(row["n"]),
            _num(row.get("failed", 0)),
        ]
        for name, row in summary.iterrows()
    ]
    return _table(["evaluator", "mean", "95% low", "95% high", "n", "failed"], rows)


def _rows_table(frame: Any, columns: list[str]) -> str:
    return _table(
        [_e(c) for c in columns],
        [
            [_num(v) if isinstance(v, float) else _e(v) for v in row]
            for row in frame[columns].itertuples(index=False)
        ],
    )


def evaluation_bundle(result: Any) -> dict[str, Any]:
    partial = " (partial: interrupted)" if result.partial else ""
    head = (
        f"<b>{_e(result.name)}</b>{_e(partial)} · {_e(result.model or 'outputs as given')} · "
        f"{_e(result.prompt or '')} · "
        f"{len(result.table)} rows"
    )
    parts = [
        f"<div class='fm-evaluation'><p>{head}</p>",
        summary_table(result.summary),
        summary_svg(result.summary),
    ]
    failed = int(result.summary.get("failed", [0]).sum()) if len(result.summary) else 0
    if failed:
        reasons = [f"{c}_reason" for c in result.evaluators if f"{c}_reason" in result.table]
        see = f"; see {', '.join(reasons)}" if reasons else ""
        parts.append(f"<p style='color:{ERROR}'>{failed} scores could not be computed (NaN){_e(see)}.</p>")
    low = low_mass_sentence(result.summary)
    if low:
        parts.append(f"<p style='color:{ERROR}'>{_e(low)}</p>")
    spent = totals_sentence(getattr(result, "totals", None))
    if spent:
        parts.append(f"<p>{_e(spent)}</p>")
    if result.evaluators:
        first = result.evaluators[0]
        reason = f"{first}_reason"
        shown = [c for c in ("prompt", "output", "reference", first, reason) if c in result.table]
        parts.append(f"<p>Worst rows by {_e(first)}:</p>" + _rows_table(result.worst(WORST_ROWS), shown))
    parts.append("</div>")
    text = [
        f"Evaluation {result.name}{partial}: {result.model or 'outputs as given'}, {result.prompt or ''}, "
        f"{len(result.table)} rows"
    ]
    text += [
        f"  {name}: {_num(r['mean'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}] n={_num(r['n'])}"
        for name, r in result.summary.iterrows()
    ]
    text += [low] if low else []
    text += [spent] if spent else []
    return {"text/plain": "\n".join(text), "text/html": "".join(parts)}


def totals_sentence(totals: dict[str, Any] | None) -> str:
    """An API-served model's run in one line: rows, tokens, seconds, cost (unknown, never $0,
    without a price)."""
    if not totals:
        return ""
    money = dollars(totals["cost"], "cost unknown (no price set: fm.settings().prices)")
    cached = f" ({totals['cache_hits']} from the cache)" if totals.get("cache_hits") else ""
    return (
        f"{totals['rows']} API rows{cached} · {totals['tokens_in']:,} tokens in / "
        f"{totals['tokens_out']:,} out · {totals['seconds']:.2f} s of requests · {money}"
    )


def low_mass_sentence(summary: Any) -> str:
    """Which log-prob judge columns put little probability on score tokens, in how many rows."""
    if "low_mass" not in summary:
        return ""
    flagged = [(name, int(n)) for name, n in summary["low_mass"].items() if n == n and n]
    if not flagged:
        return ""
    listed = ", ".join(f"{n} rows of {name}" for name, n in flagged)
    return (
        f"Low probability on the score tokens in {listed} (<name>_mass under the judge's min_mass): "
        "the judge was mostly not answering with a score there; read those rows before trusting it."
    )


def diff_html(a: Any, b: Any) -> tuple[str, str]:
    """Both texts escaped, with the words only in ``a`` struck and those only in ``b`` marked."""
    left, right = ("" if a is None else str(a)).split(" "), ("" if b is None else str(b)).split(" ")
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        chunk_a, chunk_b = _e(" ".join(left[i1:i2])), _e(" ".join(right[j1:j2]))
        if op == "equal":
            out_a.append(chunk_a)
            out_b.append(chunk_b)
            continue
        if chunk_a:
            out_a.append(f"<del style='background:{TINT_RED}'>{chunk_a}</del>")
        if chunk_b:
            out_b.append(f"<ins style='background:{TINT_GREEN};text-decoration:none'>{chunk_b}</ins>")
    return " ".join(out_a), " ".join(out_b)


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.2g}"


def significance_sentence(result: Any) -> str:
    """One sentence on the comparison's evaluator: who is better, by how much, how sure, on how many rows."""
    sig = result.significance
    if sig is None or result.evaluator not in getattr(sig, "index", ()):
        return ""
    name, row = result.evaluator, sig.loc[result.evaluator]
    n = int(row["n"])
    if n < result.min_rows:
        return (
            f"Too few rows to tell on {name}: {n} rows have both scores, and a p-value needs at "
            f"least {result.min_rows}."
        )
    diff, p = float(row["diff"]), float(row["p_value"])
    shown = f"{diff:+.2g} [{row['ci_low']:.2g}, {row['ci_high']:.2g}], {_p(p)}, {n} rows"
    if p < 0.05 and diff != 0:
        better = result.a if (diff < 0) != result.lower_is_better else result.b
        return f"{better} is better on {name}: {shown}."
    # The bootstrap interval and the rank test can disagree on few rows: say which one decided.
    apart = row["ci_low"] > 0 or row["ci_high"] < 0
    why = f" (the interval leaves out 0, but the {row['test']} test cannot rule out chance)" if apart else ""
    return f"No clear difference between {result.a} and {result.b} on {name}: {shown}{why}."


def preference_sentence(result: Any) -> str:
    """A pairwise judge's verdicts and how often swapping the order changed them."""
    if result.judge is None:
        return ""
    verdicts = result.table[f"{result.judge}_preference"].dropna()
    consistent = result.table[f"{result.judge}_consistent"].dropna().astype(bool)
    n = len(verdicts)
    counts = {side: int((verdicts == side).sum()) for side in ("b", "a", "tie")}
    return (
        f"{result.judge} prefers {result.b} on {counts['b']} of {n} rows, {result.a} on {counts['a']}, "
        f"tie on {counts['tie']}; {int((~consistent).sum())} rows ({(~consistent).mean():.0%}) changed "
        "verdict when the two outputs swapped places."
    )


def significance_table(sig: Any) -> str:
    rows = [
        [
            _e(name),
            *(_num(row[c]) for c in ("mean_a", "mean_b", "diff", "ci_low", "ci_high")),
            _num(row["p_value"]) if row["p_value"] == row["p_value"] else "too few rows",
            _e(row["test"]),
            _num(row["n"]),
        ]
        for name, row in sig.iterrows()
    ]
    return _table(["evaluator", "mean a", "mean b", "b − a", "95% low", "95% high", "p", "test", "n"], rows)


def evaluation_comparison_bundle(result: Any) -> dict[str, Any]:
    counts = result.counts.reindex(list(_STATUS)).astype(int)
    total = max(int(counts.sum()), 1)
    bars = "".join(
        f"<div style='display:inline-block;height:14px;width:{300 * n / total:.1f}px;"
        f"background:{_STATUS[s]}' title='{s}: {n}'></div>"
        for s, n in counts.items()
        if n
    )
    legend = " · ".join(f"<span style='color:{_STATUS[s]}'>{s} {n}</span>" for s, n in counts.items())
    lead = [s for s in (significance_sentence(result), preference_sentence(result)) if s]
    parts = [f"<div class='fm-eval-compare'>{''.join(f'<p><b>{_e(s)}</b></p>' for s in lead)}"]
    if result.significance is not None and len(result.significance):
        parts.append(significance_table(result.significance))
    on = result.evaluator or result.judge
    parts.append(
        f"<p><b>{_e(result.a)}</b> → <b>{_e(result.b)}</b> on {_e(on)}: {legend}</p>"
        f"<div class='fm-eval-bars'>{bars}</div>"
    )
    changed = result.changed.head(CHANGED_ROWS)
    rows = []
    for _, row in changed.iterrows():
        out_a, out_b = diff_html(row["output_a"], row["output_b"])
        rows.append(
            [
                f"<span style='color:{_STATUS[row['status']]}'>{_e(row['status'])}</span>",
                _e(row.get("reference", "")),
                out_a,
                out_b,
                _num(row.get("score_a")),
                _num(row.get("score_b")),
            ]
        )
    if rows:
        parts.append(
            _table(
                [
                    "status",
                    "reference",
                    _e(f"output {result.a}"),
                    _e(f"output {result.b}"),
                    "score a",
                    "score b",
                ],
                rows,
            )
        )
        if len(result.changed) > CHANGED_ROWS:
            parts.append(f"<p>… {len(result.changed) - CHANGED_ROWS} more changed rows in .changed</p>")
    else:
        parts.append("<p>No row changed.</p>")
    parts.append("</div>")
    text = "\n".join(
        [*lead, f"{result.a} -> {result.b} on {on}: " + ", ".join(f"{s} {n}" for s, n in counts.items())]
    )
    return {"text/plain": text, "text/html": "".join(parts)}


def agreement_bundle(result: Any) -> dict[str, Any]:
    line = (
        f"Cohen's kappa between {result.a} and {result.b}: {_num(result.kappa)} "
        f"[{_num(result.ci_low)}, {_num(result.ci_high)}] over {result.n} rows."
    )
    confusion = result.confusion
    header = [_e(f"{result.a} \\ {result.b}"), *(_e(c) for c in confusion.columns)]
    rows = [[_e(i), *(_e(v) for v in row)] for i, row in zip(confusion.index, confusion.to_numpy())]
    return {
        "text/plain": f"{line}\n{confusion.to_string()}",
        "text/html": f"<div class='fm-agreement'><p>{_e(line)}</p>{_table(header, rows)}</div>",
    }


def preferences_sentence(result: Any) -> str:
    """What a preference set holds, for which trainer, and what was left out."""
    if result.kind == "unpaired":
        good = int(result["label"].sum())
        line = (
            f"{len(result)} rated outputs of {result.source} ({good} good, {len(result) - good} bad) as "
            "prompt, completion, label for method='kto'"
        )
        return line + (f"; {result.ties} middle ratings left out." if result.ties else ".")
    line = f"{len(result)} preferences from {result.source} as prompt, chosen, rejected for method='dpo'"
    line += f"; prompt is what {result.prompt_run} ({result.prompt_from}) was sent"
    if result.prompts_differ:  # counted over the pairs kept, so "6 rows" of 6 read as a part
        share = (
            "every pair"
            if result.prompts_differ == len(result)
            else f"{result.prompts_differ} of the {len(result)} pairs"
        )
        line += f" (the two sides' prompts differ on {share})"
    ties = f"{result.ties} tie{'' if result.ties == 1 else 's'}"
    return line + (f"; {ties} left out." if result.ties else ".")


def preferences_bundle(result: Any) -> dict[str, Any]:
    import pandas as pd

    plain = pd.DataFrame(result)
    line = preferences_sentence(result)
    return {
        "text/plain": f"{line}\n{plain!r}",
        "text/html": f"<div class='fm-preferences'><p>{_e(line)}</p>{plain._repr_html_()}</div>",
    }


def calibration_bundle(result: Any) -> dict[str, Any]:
    line = (
        f"{result.judge} calibrated to {result.human} on {result.n} rated rows: on rows left out "
        f"({result.folds}-fold) the mean absolute error is {_num(result.mae)}, against "
        f"{_num(result.mae_mean)} predicting the mean rating and {_num(result.mae_raw)} for the raw "
        f"{result.judge} score."
    )
    mapping = result.mapping
    rows = [[_num(x), _num(y)] for x, y in mapping.itertuples(index=False)]
    return {
        "text/plain": f"{line}\n{mapping.to_string(index=False)}",
        "text/html": (
            f"<div class='fm-calibration'><p>{_e(line)}</p>"
            f"{_table([_e(c) for c in mapping.columns], rows)}</div>"
        ),
    }
