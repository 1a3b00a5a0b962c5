"""``fm.LabelReview(labelled, text=COL)``: a person checks zero-shot labels, least confident first.

The rows of ``fm.label``'s result are shown one at a time, lowest ``confidence`` first, with
the model's label and its score for every label.  Accept the label (button, Enter or space) or
pick another (its button, or its number key); previous/next with the arrows; a filter shows all
rows, only the unreviewed ones, or those the model gave one label.  Each decision goes into the
SQLite store (``FM.store_path``, namespace ``label_review/<name>``), so a review survives the
kernel and reopening the same data restores it.  ``.result`` is the DataFrame with
``label_reviewed`` (the person's label, else the model's) and ``reviewed``, ready for
``fm.finetune(result, text=..., label="label_reviewed")``.  The front end is static/label_review.js
(textContent only: row text is never parsed as HTML).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..core.data import require_columns, require_rows
from ..core.embedding.label import score_column
from ..errors import BadArgumentError, DataError
from ..records import fingerprint_df
from ..render.style import CSS, no_math
from ..store import store
from .fallback import StaticBeside

FILTERS = ("all", "unreviewed")


class LabelReview(StaticBeside, anywidget.AnyWidget):
    """Review the labels of ``labelled`` (the result of ``fm.label``); see the module docstring."""

    _esm = Path(__file__).parent / "static" / "label_review.js"
    _css = CSS  # the shared theme-aware look (render/style.py)

    position = t.Int(0).tag(sync=True)  # place in the current order
    count = t.Int(0).tag(sync=True)  # rows in the current order (after the filter)
    total = t.Int(0).tag(sync=True)
    done = t.Int(0).tag(sync=True)  # rows reviewed
    text = t.Unicode("").tag(sync=True)
    predicted = t.Unicode("").tag(sync=True)
    chosen = t.Unicode(None, allow_none=True).tag(sync=True)
    confidence = t.Float(0.0).tag(sync=True)
    labels: t.List = t.List().tag(sync=True)
    scores: t.List = t.List().tag(sync=True)  # [[label, score], ...] of the row on screen
    show = t.Unicode("all").tag(sync=True)  # filter: all, unreviewed, or a label

    def __init__(self, labelled: Any, text: str | None = None, *, name: str | None = None) -> None:
        super().__init__()
        meta = labelled.attrs.get("fmwidgets", {}) if hasattr(labelled, "attrs") else {}
        text = text or meta.get("text")
        if not isinstance(text, str):
            raise BadArgumentError("Say which column holds the texts with text=COLUMN.")
        require_rows(labelled, "labelled DataFrame")
        require_columns(labelled, [text, "label", "confidence"], "labelled DataFrame")
        labels = [c[len("score_") :] for c in labelled.columns if str(c).startswith("score_")]
        if not labels:
            raise DataError("The DataFrame has no score_<label> columns; pass the result of fm.label.")
        self.frame = labelled.reset_index(drop=True)
        self.column = text
        self.name = name or fingerprint_df(self.frame[[text, "label"]])["sha256"]
        self.namespace = f"label_review/{self.name}"
        self.decisions: dict[int, str] = {int(k): v for k, v in store().items(self.namespace).items()}
        self.labels, self.total = labels, len(self.frame)
        self.on_msg(self._handle)
        self.observe(lambda _: self.go(0, restart=True), names="show")
        self.go(0, restart=True)

    # -- what the person does ------------------------------------------------------------------

    def order(self) -> list[int]:
        """Row positions under the current filter, least confident first."""
        rows = self.frame.sort_values("confidence", kind="stable").index.tolist()
        if self.show == "unreviewed":
            return [r for r in rows if r not in self.decisions]
        if self.show in self.labels:
            return [r for r in rows if self.frame.at[r, "label"] == self.show]
        return rows

    def go(self, delta: int, restart: bool = False) -> None:
        """Move ``delta`` rows along the current order (clamped) and show that row."""
        rows = self.order()
        self.count = len(rows)
        self.position = 0 if restart else max(0, min(self.position + delta, len(rows) - 1))
        self._show(rows[self.position] if rows else None)
        self.refresh_static()

    def decide(self, label: str | None = None) -> None:
        """Accept the model's label for the row on screen (``label=None``) or set another, then go on."""
        row = self.row
        if row is None:
            return
        chosen = self.frame.at[row, "label"] if label is None else label
        if _missing(chosen):  # an API model's reply that named no label (core/embedding/served_label.py)
            raise BadArgumentError(f"The model gave this row no label; pick one of {', '.join(self.labels)}.")
        if chosen not in self.labels:
            raise BadArgumentError(
                f"'{chosen}' is not one of the labels ({', '.join(self.labels)}); pick one of them."
            )
        self.decisions[row] = chosen
        store().put(self.namespace, str(row), chosen)
        was_filtered = self.show == "unreviewed"
        self.go(0 if was_filtered else 1)

    @property
    def result(self) -> Any:
        """The labelled rows with ``label_reviewed`` (the person's label, else the model's) and ``reviewed``."""
        out = self.frame.copy()
        out["reviewed"] = [i in self.decisions for i in range(len(out))]
        out["label_reviewed"] = [self.decisions.get(i, lab) for i, lab in enumerate(out["label"])]
        return out

    # -- view ----------------------------------------------------------------------------------

    @property
    def row(self) -> int | None:
        rows = self.order()
        return rows[self.position] if rows else None

    def _show(self, row: int | None) -> None:
        self.done = len(self.decisions)
        if row is None:
            self.text, self.predicted, self.chosen, self.confidence, self.scores = "", "", None, 0.0, []
            return
        record = self.frame.iloc[row]
        self.text = str(record[self.column])
        self.predicted = "" if _missing(record["label"]) else str(record["label"])
        self.chosen = self.decisions.get(row)
        self.confidence = float(record["confidence"])
        self.scores = [[lab, float(record[score_column(lab)])] for lab in self.labels]

    def _handle(self, _widget: Any, content: dict, _buffers: Any) -> None:
        if content.get("action") == "decide":
            self.decide(content.get("label"))
        elif content.get("action") == "go":
            self.go(int(content.get("delta", 1)))

    def static_picture(self) -> dict[str, str]:
        scores = ", ".join(f"{html.escape(lab)} {s:.2f}" for lab, s in self.scores)
        where = f"Label review: {self.done} of {self.total} rows reviewed"
        return {
            "text/html": no_math(
                f"<div class='fm-label-review-static'><p>{where}</p><pre style='white-space:pre-wrap'>"
                f"{html.escape(self.text)}</pre><p>model: <b>{html.escape(self.predicted)}</b> "
                f"({self.confidence:.2f}) · {scores}</p></div>"
            ),
            "text/plain": where,
        }


def _missing(label: Any) -> bool:
    """No label: None, or the NaN pandas may hold instead."""
    return label is None or (isinstance(label, float) and label != label)
