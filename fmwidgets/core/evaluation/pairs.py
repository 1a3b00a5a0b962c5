"""People's verdicts on pairs of outputs, kept in the store's ``preferences`` table.

A pairwise review goes through ``Pairs``: one row per pair, with what each side's model was sent
(``prompt_a``, ``prompt_b``) and the two outputs.  ``Pairs.prefer`` keeps a verdict (a / b / tie,
the order the two were shown in, a comment) in the store and in the table's ``human`` column.

Why a verdict is keyed by its texts: it says which of two texts is better for one input, so it
belongs to those texts, not to a run.  A re-run that gives the same texts (same prompts as sent,
same outputs) finds its verdicts again; rows whose outputs changed start unreviewed, and the
verdicts on the earlier texts stay in the store under the review's name.  Nothing a person said
is deleted.

This module knows tables and the store, not comparisons: ``compare_evaluations`` fills its
``human`` column through it (``EvaluationComparison.pairs``), and ``preferences.py`` builds on
both.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ...errors import BadArgumentError, DataError
from ...store import now, store

VERDICTS = ("a", "b", "tie")
ORDERS = ("ab", "ba")  # which output was shown first (left)
PAIR_COLUMNS = ("prompt_a", "prompt_b", "output_a", "output_b")
# comparison columns that are not the row's input
NOT_INPUT = {*PAIR_COLUMNS, "score_a", "score_b", "status", "human", "human_comment"}


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pair_key(prompt_a: Any, prompt_b: Any, output_a: Any, output_b: Any) -> str:
    """What a verdict is about: the two prompts as sent and the two outputs."""
    texts = [None if missing(v) else str(v) for v in (prompt_a, prompt_b, output_a, output_b)]
    return hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:32]


@dataclass(eq=False)
class Pairs:
    """The pairs one review goes through: ``table`` (the comparison's own table, or one built from
    a DataFrame) holds ``prompt_a``, ``prompt_b``, ``output_a``, ``output_b`` and the columns
    shown as a row's input (``fields``); verdicts land in its ``human`` column."""

    name: str
    table: Any
    a: str  # what side a is: a run's name or a column's
    b: str
    fields: list[str]
    keys: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = [pair_key(*row) for row in self.table[list(PAIR_COLUMNS)].itertuples(index=False)]
        stored = self.stored()
        self._set({i: stored[k][:2] for i, k in enumerate(self.keys) if k in stored})

    def __len__(self) -> int:
        return len(self.table)

    def stored(self) -> dict[str, tuple[str, str | None, str]]:
        """pair key -> (verdict, comment, order shown) of this review's verdicts in the store."""
        rows = store().query(
            "SELECT pair, verdict, comment, shown FROM preferences WHERE review = ?", (self.name,)
        )
        return {key: (verdict, comment, shown) for key, verdict, comment, shown in rows}

    def prefer(self, row: int, verdict: str, comment: str | None = None, shown: str = "ab") -> None:
        """Keep a person's verdict on pair ``row`` (a position in ``table``): a, b or tie."""
        if verdict not in VERDICTS:
            raise BadArgumentError(f"A preference is 'a', 'b' or 'tie', not {verdict!r}.")
        if shown not in ORDERS:
            raise BadArgumentError(f"shown= is 'ab' (a on the left) or 'ba', not {shown!r}.")
        if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < len(self.table):
            raise BadArgumentError(
                f"Row {row!r} does not exist; this review has rows 0 to {len(self.table) - 1}."
            )
        texts = self.table.iloc[row][list(PAIR_COLUMNS)].tolist()
        for side, output in (("a", texts[2]), ("b", texts[3])):
            if missing(output):
                raise DataError(
                    f"Row {row} has no output from {getattr(self, side)!r}, so there is no pair to "
                    "judge there; review another row."
                )
        with store().write() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO preferences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.name, self.keys[row], row, self.a, self.b,
                 *(None if missing(t) else str(t) for t in texts), verdict, shown, comment or None, now()),
            )  # fmt: skip
        self._set({row: (verdict, comment or None)})

    def _set(self, verdicts: dict[int, tuple[str, str | None]]) -> None:
        if "human" not in self.table:
            self.table["human"] = pd.Series([None] * len(self.table), index=self.table.index, dtype=object)
            self.table["human_comment"] = pd.Series(
                [None] * len(self.table), index=self.table.index, dtype=object
            )
        for row, (verdict, comment) in verdicts.items():
            self.table.loc[self.table.index[row], "human"] = verdict
            self.table.loc[self.table.index[row], "human_comment"] = comment

    @property
    def reviewed(self) -> int:
        return int(self.table["human"].notna().sum())


def input_columns(table: Any, judge: str | None) -> list[str]:
    """The columns of a comparison's ``table`` that show a row's input: its data and reference,
    without a pairwise judge's columns, the columns that hold either side's outputs (a run scored
    with ``output=COLUMN``: showing it would tell which side is which) or repeat the reference."""
    judged = f"{judge}_" if judge else None

    def same(column: str, other: str) -> bool:
        return (
            other in table and column != other and table[column].astype(str).equals(table[other].astype(str))
        )

    return [
        c
        for c in table.columns
        if c not in NOT_INPUT
        and not (judged and str(c).startswith(judged))
        and not same(c, "output_a")
        and not same(c, "output_b")
        and not same(c, "reference")
    ]
