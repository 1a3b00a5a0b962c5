"""How a fine-tuning run looks: the headline, metrics before/after, per-class scores, timings;
and a run still training in the background.

``metrics_table`` (one row per evaluation) is shared with the live ``TrainingView``.
"""

from __future__ import annotations

import html
from typing import Any

from ..paths import home_as_tilde


def finetune_bundle(result: Any) -> dict[str, str]:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(k)}</td><td>{e(b)}</td><td>{e(a)}</td></tr>" for k, b, a in result.metric_rows()
    )
    parts = [
        f"<div class='fm-finetune'><p>{e(result.headline())}</p>",
        f"<table><tr><th>metric</th><th>before</th><th>after</th></tr>{rows}</table>",
    ]
    if result.per_class is not None:
        parts.append(result.per_class.round(3).to_html(escape=True))
    if result.output_dir:
        parts.append(f"<p>Saved to {e(home_as_tilde(result.output_dir))}</p>")
    times = [(part, f"{seconds:.2f} s") for part, seconds in result.timing_rows()]
    parts.append(
        "<details class='fm-timings'><summary>time taken</summary><table>"
        + "".join(f"<tr><td>{e(part)}</td><td>{e(took)}</td></tr>" for part, took in times)
        + "</table></details></div>"
    )
    text = [result.headline()] + [f"  {k}: {b} -> {a}" for k, b, a in result.metric_rows()]
    text.append("  time: " + ", ".join(f"{part} {took}" for part, took in times))
    return {"text/html": "".join(parts), "text/plain": "\n".join(text)}


def finetune_run_bundle(run: Any) -> dict[str, str]:
    done, total = run.steps
    state = (
        "done: call .wait() for the result"
        if run.done
        else f"step {done}/{total}; .stop() ends it, .wait() waits for the result"
    )
    line = f"Fine-tuning '{run.name}' in the background, {state}."
    return {"text/html": f"<p>{html.escape(line)}</p>", "text/plain": line}


def metrics_table(evaluations: list[dict[str, Any]]) -> str:
    """HTML table, one row per evaluation (step, epoch, then every metric)."""
    if not evaluations:
        return ""
    keys = [k for k in evaluations[-1] if k not in ("kind",)]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(p.get(k)))}</td>" for k in keys) + "</tr>"
        for p in evaluations
    )
    return f"<table class='fm-metrics'><tr>{head}</tr>{rows}</table>"


def _cell(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
