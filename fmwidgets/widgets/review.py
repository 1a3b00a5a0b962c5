"""``fm.Review(evaluation)``: people rate an evaluation's rows, one example at a time.

``fm.Review(comparison)`` (or ``fm.Review(df, a=COL, b=COL, input=COL)``) is the pairwise
review instead, which of two outputs is better: it makes a ``PairReview`` (pair_review.py).

The view (static/review.js, an anywidget ES module with no CDN) shows the input, output and
reference of one row as text, rating buttons (👍/👎, or 1-5 with ``scale="1-5"``) with the same
ratings on keys, a comment box, previous/next and how many rows are rated.  A rating goes
through ``Evaluation.rate``: into the store (so it survives the kernel) and into the
evaluation's ``human`` column, ready for ``evaluation.agreement("judge", "human")``.  Only the
row on screen is sent to the browser.  Displayed without a kernel, the output shows the current
row as escaped HTML instead.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..core.evaluation.stored import Evaluation, load_evaluation
from ..errors import BadArgumentError
from ..render.style import CSS, no_math
from .fallback import StaticBeside

SCALES = {"thumbs": (0, 1), "1-5": (1, 5)}
SHOWN = ("prompt", "output", "reference", "judge", "judge_reason")


class Review(StaticBeside, anywidget.AnyWidget):
    """Rate the rows of ``evaluation`` (an Evaluation or a stored run's name)."""

    _esm = Path(__file__).parent / "static" / "review.js"
    _css = CSS  # the shared theme-aware look (render/style.py)

    index = t.Int(0).tag(sync=True)
    total = t.Int(0).tag(sync=True)
    row: t.List = t.List().tag(sync=True)  # [[field, text], ...] of the row on screen
    rating = t.Float(None, allow_none=True).tag(sync=True)
    comment = t.Unicode("").tag(sync=True)
    rated = t.Int(0).tag(sync=True)
    scale = t.Unicode("thumbs").tag(sync=True)

    def __new__(cls, evaluation: Any = None, *args: Any, **kwargs: Any) -> Any:
        import pandas as pd

        from ..core.evaluation.compare import EvaluationComparison

        pairwise = isinstance(evaluation, (EvaluationComparison, pd.DataFrame)) or {"a", "b"} & set(kwargs)
        if cls is Review and pairwise:
            from .pair_review import PairReview

            return PairReview(evaluation, *args, **kwargs)
        return super().__new__(cls, evaluation, *args, **kwargs)

    def __init__(self, evaluation: Any, scale: str = "thumbs", start: int = 0) -> None:
        if not isinstance(evaluation, (Evaluation, str, int)) or isinstance(evaluation, bool):
            raise BadArgumentError(
                "fm.Review takes an evaluation (fm.evaluate's result, a stored run's name or id), a "
                "comparison (fm.compare_evaluations(a, b)) or a DataFrame with a=, b= and input= "
                f"columns, not {type(evaluation).__name__}."
            )
        if scale not in SCALES:
            raise BadArgumentError(f"scale={scale!r} is not one Review knows; use 'thumbs' or '1-5'.")
        super().__init__(scale=scale)
        self.evaluation: Evaluation = load_evaluation(evaluation)
        self.total = len(self.evaluation.table)
        self.on_msg(self._handle)
        self.show(start)

    @property
    def ratings(self) -> Any:
        """The ``human`` column so far (NaN where nobody rated)."""
        table = self.evaluation.table
        return table["human"] if "human" in table else None

    def show(self, index: int) -> None:
        """Put row ``index`` (clamped to the table) on screen."""
        self.index = max(0, min(index, self.total - 1))
        record = self.evaluation.table.iloc[self.index]
        self.row = [[name, _text(record[name])] for name in SHOWN if name in record.index]
        human = record.get("human", math.nan)
        self.rating = (
            None if human is None or (isinstance(human, float) and math.isnan(human)) else float(human)
        )
        self.comment = record.get("human_comment") or ""
        self.rated = int(self.ratings.notna().sum()) if self.ratings is not None else 0
        self.refresh_static()

    def rate(self, value: float, comment: str | None = None, advance: bool = True) -> None:
        """Rate the row on screen (what a button or key does), then move to the next row."""
        low, high = SCALES[self.scale]
        if not low <= value <= high:
            raise BadArgumentError(
                f"A rating on the {self.scale} scale is from {low} to {high}, not {value}."
            )
        self.evaluation.rate(self.index, float(value), comment or None)
        if advance and self.index < self.total - 1:
            self.show(self.index + 1)
        else:
            self.show(self.index)

    def _handle(self, _widget: Any, content: dict, _buffers: Any) -> None:
        if content.get("action") == "rate":
            self.rate(float(content["value"]), content.get("comment"))
        elif content.get("action") == "go":
            self.show(self.index + int(content.get("delta", 1)))

    def static_picture(self) -> dict[str, str]:
        rows = "".join(
            f"<tr><th style='text-align:left;vertical-align:top'>{html.escape(name)}</th>"
            f"<td style='white-space:pre-wrap'>{html.escape(text)}</td></tr>"
            for name, text in list(self.row or [])
        )
        where = f"Review of {self.evaluation.name}: row {self.index + 1} of {self.total}, {self.rated} rated"
        return {
            "text/html": no_math(
                f"<div class='fm-review-static'><p>{html.escape(where)}</p><table>{rows}</table></div>"
            ),
            "text/plain": where,
        }

    def static_record(self) -> Any:
        return self.evaluation.record


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
