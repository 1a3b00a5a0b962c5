"""How evaluations and their comparisons look: tables, a static bar chart, the rows that matter.

Everything here is plain HTML with every piece of data-derived text escaped (outputs, inputs,
references, evaluator and run names come from users and models).  The bar chart of scores with
their 95% intervals is an inline SVG, so the saved notebook shows it without a kernel, plotly.js
or the internet; ``fm.plot_evaluation`` draws the interactive Plotly version of the same data.
A comparison shows the changed rows first, regressions on top, with the words that differ
between the two outputs marked.
"""

from __future__ import annotations

import difflib
import html
import math
from typing import Any

from . import renders
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


def summary_svg(summary: Any, width: int = 420) -> str:
    """Horizontal bars (mean) with whiskers (95% interval), one per evaluator, as inline SVG."""
    if len(summary) == 0:
        return ""
    values = summary[["mean", "ci_low", "ci_high"]].astype(float).fillna(0.0)
    top = max(1.0, float(values.to_numpy().max()))
    left, bar_w, row_h = 150, width - 220, 22
    parts = []
    for i, (name, row) in enumerate(values.iterrows()):
        y = 6 + i * row_h
        scale = bar_w / top
        parts.append(
            f"<text x='{left - 6}' y='{y + 14}' text-anchor='end' font-size='12'>{_e(name)}</text>"
            f"<rect x='{left}' y='{y + 3}' width='{max(row['mean'], 0) * scale:.1f}' height='14' "
            "fill='#4c78a8'/>"
            f"<line x1='{left + max(row['ci_low'], 0) * scale:.1f}' x2='{left + max(row['ci_high'], 0) * scale:.1f}' "
            f"y1='{y + 10}' y2='{y + 10}' style='stroke:{TEXT}' stroke-width='1.5'/>"
            f"<text x='{left + bar_w + 6}' y='{y + 14}' font-size='12'>{_num(summary['mean'].iloc[i])}</text>"
        )
    height = 12 + len(values) * row_h
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


@renders("Evaluation")
def evaluation_bundle(result: Any) -> dict[str, Any]:
    partial = " (partial: interrupted)" if result.partial else ""
    head = (
        f"<b>{_e(result.name)}</b>{_e(partial)} · {_e(result.model)} · {_e(result.prompt or '')} · "
        f"{len(result.table)} rows"
    )
    parts = [
        f"<div class='fm-evaluation'><p>{head}</p>",
        summary_table(result.summary),
        summary_svg(result.summary),
    ]
    failed = int(result.summary.get("failed", [0]).sum()) if len(result.summary) else 0
    if failed:
        parts.append(
            f"<p style='color:{ERROR}'>{failed} scores could not be computed (NaN); see judge_reason.</p>"
        )
    if result.evaluators:
        first = result.evaluators[0]
        shown = [c for c in ("prompt", "output", "reference", first, "judge_reason") if c in result.table]
        parts.append(f"<p>Worst rows by {_e(first)}:</p>" + _rows_table(result.worst(WORST_ROWS), shown))
    parts.append("</div>")
    text = [
        f"Evaluation {result.name}{partial}: {result.model}, {result.prompt or ''}, {len(result.table)} rows"
    ]
    text += [
        f"  {name}: {_num(r['mean'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}] n={_num(r['n'])}"
        for name, r in result.summary.iterrows()
    ]
    return {"text/plain": "\n".join(text), "text/html": "".join(parts)}


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


@renders("EvaluationComparison")
def comparison_bundle(result: Any) -> dict[str, Any]:
    counts = result.counts
    total = max(int(counts.sum()), 1)
    bars = "".join(
        f"<div style='display:inline-block;height:14px;width:{300 * n / total:.1f}px;"
        f"background:{_STATUS[s]}' title='{s}: {n}'></div>"
        for s, n in counts.items()
        if n
    )
    legend = " · ".join(f"<span style='color:{_STATUS[s]}'>{s} {n}</span>" for s, n in counts.items())
    parts = [
        f"<div class='fm-eval-compare'><p><b>{_e(result.a)}</b> → <b>{_e(result.b)}</b> on "
        f"{_e(result.evaluator)}: {legend}</p><div class='fm-eval-bars'>{bars}</div>"
    ]
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
                _num(row["score_a"]),
                _num(row["score_b"]),
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
    text = f"{result.a} -> {result.b} on {result.evaluator}: " + ", ".join(
        f"{s} {n}" for s, n in counts.items()
    )
    return {"text/plain": text, "text/html": "".join(parts)}
