"""``fm.Review(comparison)``: people say which of two outputs is better, one row at a time.

The view (js/src/pair_review.js, built into static/) shows a row's input and the two outputs side
by side as text, in an order drawn at random for each row (``seed=`` makes it repeatable), so
neither run sits on the better-looking side.  Keys 1 / 2 pick the left / right output and = says
tie (buttons too), with a comment box, previous/next and how many pairs are reviewed.  A verdict
goes through ``Pairs.prefer`` (core/evaluation/preferences.py) as a / b / tie with the order it
was shown in: into the store, under the review's ``name``, and into the comparison's ``human``
column.  ``review.prefer(row, "a" | "b" | "tie")`` does the same from code.  Only the row on
screen is sent to the browser; without a kernel the output shows it as escaped HTML.
"""

from __future__ import annotations

import html
import random
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..core.evaluation.pairs import ORDERS, Pairs, missing
from ..core.evaluation.preferences import pairs_of
from ..errors import BadArgumentError
from ..render.style import CSS, no_math
from .fallback import StaticBeside

KEYS = ("1", "2", "=")  # left better, right better, tie


class PairReview(StaticBeside, anywidget.AnyWidget):
    """Review pairs of outputs (see the module docstring); ``fm.Review`` makes one."""

    _esm = Path(__file__).parent / "static" / "pair_review.js"
    _css = CSS

    name = t.Unicode("").tag(sync=True)
    index = t.Int(0).tag(sync=True)
    total = t.Int(0).tag(sync=True)
    fields: t.List = t.List().tag(sync=True)  # [[column, text], ...]: the row's input
    left = t.Unicode("").tag(sync=True)
    right = t.Unicode("").tag(sync=True)
    choice = t.Unicode(None, allow_none=True).tag(sync=True)  # "1", "2", "=" of the row on screen
    comment = t.Unicode("").tag(sync=True)
    reviewed = t.Int(0).tag(sync=True)

    def __init__(
        self,
        source: Any,
        a: str | None = None,
        b: str | None = None,
        input: str | None = None,
        *,
        name: str | None = None,
        seed: int | None = None,
        start: int = 0,
    ) -> None:
        pairs = pairs_of(source, a=a, b=b, input=input, name=name)
        super().__init__(name=pairs.name, total=len(pairs))
        self.pairs: Pairs = pairs
        draw = random.Random(seed)
        self.orders = [ORDERS[draw.random() < 0.5] for _ in range(len(pairs))]
        stored = pairs.stored()  # a pair reviewed before keeps the order it was shown in
        for row, key in enumerate(pairs.keys):
            if key in stored:
                self.orders[row] = stored[key][2]
        self.on_msg(self._handle)
        self.show(start)

    @property
    def table(self) -> Any:
        """The pairs, with people's verdicts in ``human`` (a comparison's own table)."""
        return self.pairs.table

    def show(self, index: int) -> None:
        """Put row ``index`` (clamped to the table) on screen."""
        self.index = max(0, min(index, self.total - 1))
        row = self.pairs.table.iloc[self.index]
        self.fields = [[str(c), _text(row[c])] for c in self.pairs.fields]
        sides = {"a": _text(row["output_a"]), "b": _text(row["output_b"])}
        order = self.orders[self.index]
        self.left, self.right = sides[order[0]], sides[order[1]]
        verdict = row["human"]
        self.choice = None if missing(verdict) else "=" if verdict == "tie" else str(order.index(verdict) + 1)
        self.comment = row["human_comment"] or ""
        self.reviewed = self.pairs.reviewed
        self.refresh_static()

    def prefer(self, row: int, verdict: str, comment: str | None = None) -> None:
        """Say which output of pair ``row`` is better, from code: ``"a"``, ``"b"`` or ``"tie"``."""
        known = isinstance(row, int) and 0 <= row < self.total
        self.pairs.prefer(row, verdict, comment, shown=self.orders[row] if known else "ab")
        self.show(self.index)

    def choose(self, key: str, comment: str | None = None, advance: bool = True) -> None:
        """What a key or button does on the row on screen: ``"1"`` (left), ``"2"`` (right), ``"="``."""
        if key not in KEYS:
            raise BadArgumentError(f"Choose '1' (left), '2' (right) or '=' (tie), not {key!r}.")
        order = self.orders[self.index]
        verdict = "tie" if key == "=" else order[int(key) - 1]
        self.pairs.prefer(self.index, verdict, comment, shown=order)
        self.show(self.index + 1 if advance and self.index < self.total - 1 else self.index)

    def _handle(self, _widget: Any, content: dict, _buffers: Any) -> None:
        if content.get("action") == "choose":
            self.choose(str(content.get("value")), content.get("comment"))
        elif content.get("action") == "go":
            self.show(self.index + int(content.get("delta", 1)))

    def static_picture(self) -> dict[str, str]:
        cells = [*self.fields, ["output 1", self.left], ["output 2", self.right]]
        rows = "".join(
            f"<tr><th style='text-align:left;vertical-align:top'>{html.escape(name)}</th>"
            f"<td style='white-space:pre-wrap'>{html.escape(text)}</td></tr>"
            for name, text in cells
        )
        where = f"Review of {self.name}: pair {self.index + 1} of {self.total}, {self.reviewed} reviewed"
        return {
            "text/html": no_math(
                f"<div class='fm-review-static'><p>{html.escape(where)}</p><table>{rows}</table></div>"
            ),
            "text/plain": where,
        }


def _text(value: Any) -> str:
    return "" if missing(value) else str(value)
