"""``fm.evaluations`` / ``fm.load_evaluation``: an evaluation run as kept in the store.

``Evaluation`` is the result of ``fm.evaluate``; ``save`` stores it as a new run (ratings of the
name's earlier run carry over to identical rows), ``evaluations`` lists the stored runs and
``load_evaluation`` brings one back with the human ratings given to it.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from ...errors import BadArgumentError, DataError
from ...notices import FMWarning
from ...records import RunRecord
from ...render import Recorded
from ...render.evaluation import evaluation_bundle
from ...store import now, store
from .summary import SUMMARY_COLUMNS

USAGE_TOTALS = ("tokens_in", "tokens_out", "seconds", "cost")  # fm.evaluations(): an API run's sums


@dataclass(eq=False)
class Evaluation(Recorded, look=evaluation_bundle):
    """One evaluation run: ``table`` (one row per example), ``summary`` (one row per evaluator)."""

    name: str
    table: Any
    summary: Any
    evaluators: list[str]
    model: str | None
    prompt: str | None  # the template, or the saved prompt id it came from
    partial: bool
    record: RunRecord
    created: str = field(default_factory=now)
    run_id: int | None = None  # the stored run (a name stands for its latest run; see save)

    def worst(self, k: int = 5, evaluator: str | None = None) -> Any:
        """The ``k`` rows with the lowest score (first evaluator by default; lower WER is better)."""
        name = evaluator or (self.evaluators[0] if self.evaluators else None)
        if name is None:
            return self.table.head(k)
        return self.table.sort_values(name, ascending=name != "wer", na_position="first").head(k)

    def rate(self, row: int, rating: float | None, comment: str | None = None) -> None:
        """A person's rating of row ``row`` (position in ``table``): into the store and ``table["human"]``."""
        if not 0 <= row < len(self.table):
            raise BadArgumentError(
                f"Row {row} does not exist; this evaluation has rows 0 to {len(self.table) - 1}."
            )
        store_rating(self, row, rating, comment)
        _add_ratings(self.table, {row: (rating, comment)})

    def agreement(self, a: str = "judge", b: str = "human") -> Any:
        """Cohen's kappa between columns ``a`` and ``b`` (a float), with its bootstrap interval and
        the confusion table (``calibration.Agreement``), over the rows where both have a value."""
        from .calibration import agreement

        return agreement(self.table, a, b, f"evaluation '{self.name}'")

    def calibrate(self, judge: str = "judge", human: str = "human") -> Any:
        """The mapping of ``judge`` scores to ``human`` ones fitted on the rated rows, and how well
        it holds on rows left out (``calibration.Calibration``)."""
        from .calibration import calibrate

        return calibrate(self.table, judge, human, f"evaluation '{self.name}'")

    def __len__(self) -> int:
        return len(self.table)

    @property
    def totals(self) -> dict[str, Any] | None:
        """An API-served model's run in sums: rows, tokens_in, tokens_out, seconds, cost (NaN when
        no price is set), cache_hits; None for a local model's run."""
        return totals(self.table, self.record.params.get("cache_hits", 0))


def totals(table: Any, cache_hits: int = 0) -> dict[str, Any] | None:
    """The sums of a run's accounting columns (None when it has none)."""
    if "tokens_in" not in table:
        return None
    sent = table["tokens_in"].notna()
    return {
        "rows": int(sent.sum()),
        "tokens_in": int(table["tokens_in"].sum()),
        "tokens_out": int(table["tokens_out"].fillna(0).sum()),
        "seconds": float(table["seconds"].sum()),
        # NaN as soon as one row has no known cost: a partial sum would read as the whole cost
        "cost": float(table.loc[sent, "cost"].sum(skipna=False)) if sent.any() else math.nan,
        "cache_hits": int(cache_hits),
    }


def _add_ratings(table: Any, ratings: dict[int, tuple[float | None, str | None]]) -> None:
    import numpy as np

    if "human" not in table:
        table["human"] = np.nan
        table["human_comment"] = None
    for row, (rating, comment) in ratings.items():
        table.loc[table.index[row], "human"] = np.nan if rating is None else float(rating)
        table.loc[table.index[row], "human_comment"] = comment


# ---------------------------------------------------------------------------------------------
# Storing and loading runs


def next_name() -> str:
    (count,) = store().query("SELECT COUNT(*) FROM runs")[0]
    taken = {r[0] for r in store().query("SELECT name FROM runs WHERE name LIKE 'eval-%'")}
    n = count + 1
    while f"eval-{n}" in taken:
        n += 1
    return f"eval-{n}"


def save(result: Evaluation) -> None:
    """Store ``result`` as a new run with its own id (its name now stands for it), in one transaction.

    Ratings are never deleted.  Those given to the name's earlier run stay with that run, and the
    ones of rows that are identical in the new run (same prompt as sent, same output) are copied
    to it; one line says what happened when the earlier run had any.
    """
    table = result.table.drop(columns=[c for c in ("human", "human_comment") if c in result.table])
    lines = table.to_json(orient="records", lines=True, default_handler=str).splitlines()
    meta = dict(
        evaluators=result.evaluators,
        record=result.record.to_dict(),
        columns=list(table.columns),
        totals=result.totals,
    )
    with store().write() as cur:
        earlier = cur.execute(
            "SELECT id FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (result.name,)
        ).fetchone()
        cur.execute(
            "INSERT INTO runs (name, model, prompt, data, summary, meta, partial, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.name,
                result.model,
                result.prompt,
                json.dumps(result.record.data),
                result.summary.reset_index().to_json(orient="records"),
                json.dumps(meta, default=str),
                int(result.partial),
                result.created,
            ),
        )
        run_id = cur.lastrowid
        cur.executemany(
            "INSERT INTO rows VALUES (?, ?, ?)", [(run_id, i, line) for i, line in enumerate(lines)]
        )
        rated = []
        if earlier is not None:
            rated = cur.execute(
                "SELECT r.pos, r.rating, r.comment, r.created, o.data FROM ratings r "
                "JOIN rows o ON o.run = r.run AND o.pos = r.pos WHERE r.run = ? ORDER BY r.pos",
                (earlier[0],),
            ).fetchall()
        carried = _carry_over(rated, lines)
        cur.executemany(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
            [(run_id, pos, rating, comment, created) for pos, (rating, comment, created) in carried.items()],
        )
    result.run_id = run_id
    if carried:
        _add_ratings(result.table, {pos: (rating, comment) for pos, (rating, comment, _) in carried.items()})
    if rated:
        _say_carried(result.name, earlier[0], len(carried), len(rated) - len(carried))


def _carry_over(rated: list[tuple], lines: list[str]) -> dict[int, tuple]:
    """new position -> (rating, comment, created) for each earlier rating whose row is unchanged:
    the same position when that row is the same, else the first unused identical row."""

    def key(line: str) -> str:
        row = json.loads(line)
        return json.dumps([row.get("prompt"), row.get("output")])

    keys = [key(line) for line in lines]
    out: dict[int, tuple] = {}
    later = []
    for pos, rating, comment, created, data in rated:
        if pos < len(keys) and keys[pos] == key(data):
            out[pos] = (rating, comment, created)
        else:
            later.append((key(data), (rating, comment, created)))
    for wanted, value in later:
        free = next((i for i, k in enumerate(keys) if k == wanted and i not in out), None)
        if free is not None:
            out[free] = value
    return out


def _say_carried(name: str, earlier: int, kept: int, changed: int) -> None:
    where = f"their ratings stay with run #{earlier} (fm.load_evaluation({earlier}))"
    if not changed:
        line = (
            f"Kept the {kept} rating(s) of the earlier run '{name}' (#{earlier}): those rows are unchanged."
        )
    elif kept:
        line = f"Kept {kept} rating(s) of the earlier run '{name}' (#{earlier}); {changed} rated row(s) changed, {where}."
    else:
        line = f"All {changed} rated row(s) of the earlier run '{name}' (#{earlier}) changed; {where}."
    warnings.warn(line, FMWarning, stacklevel=4)


def _run_id(name: Any) -> int:
    """The id of the stored run ``name`` stands for (its latest), or of run ``name`` itself (an int)."""
    if isinstance(name, int) and not isinstance(name, bool):
        if store().query("SELECT 1 FROM runs WHERE id = ?", (name,)):
            return name
        (last,) = store().query("SELECT MAX(id) FROM runs")[0]
        known = f"runs are numbered 1 to {last}" if last else "no run is stored yet"
        raise DataError(f"There is no stored evaluation run #{name}; {known} (fm.evaluations() lists them).")
    found = store().query("SELECT MAX(id) FROM runs WHERE name = ?", (name,))
    if found[0][0] is None:
        names = [
            r[0] for r in store().query("SELECT name FROM runs GROUP BY name ORDER BY MAX(id) DESC LIMIT 10")
        ]
        known = f"stored runs include {', '.join(map(repr, names))}" if names else "no run is stored yet"
        raise DataError(
            f"There is no stored evaluation named {name!r}; {known} (fm.evaluations() lists them)."
        )
    return int(found[0][0])


def store_rating(result: Evaluation, row: int, rating: float | None, comment: str | None) -> None:
    """Keep a person's rating of ``row`` with the run ``result`` came from."""
    run_id = result.run_id if result.run_id is not None else _run_id(result.name)
    with store().write() as cur:
        cur.execute(
            "INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?)", (run_id, row, rating, comment, now())
        )


RUN_COLUMNS = ("id", "name", "model", "prompt", "data", "rows")


def evaluations() -> Any:
    """A DataFrame of the stored runs, newest last: id, name, model, prompt, data fingerprint,
    rows, then one column per evaluator holding the run's mean score (NaN for a run without that
    evaluator; ``"cost (mean)"`` where an evaluator shares its name with a column of its own),
    then an API run's sums (``USAGE_TOTALS``), partial and created."""
    import pandas as pd

    rows = store().query(
        "SELECT id, name, model, prompt, data, summary, meta, partial, created FROM runs ORDER BY id"
    )
    own = {*RUN_COLUMNS, *USAGE_TOTALS, "partial", "created"}
    out: list[dict[str, Any]] = []
    metrics: dict[str, None] = {}  # the evaluators' columns, in the order runs first used them
    for run_id, name, model, prompt, data, summary, meta, partial, created in rows:
        scores = {}
        for s in json.loads(summary):
            column = s["evaluator"] if s["evaluator"] not in own else f"{s['evaluator']} (mean)"
            scores[column] = s["mean"]
            metrics.setdefault(column, None)
        sums = json.loads(meta).get("totals") or {}
        out.append(
            dict(
                id=run_id,
                name=name,
                model=model,
                prompt=prompt,
                data=(json.loads(data) or {}).get("sha256"),
                rows=(json.loads(data) or {}).get("shape", [None])[0],
                **scores,
                **{k: sums.get(k, math.nan) for k in USAGE_TOTALS},
                partial=bool(partial),
                created=created,
            )
        )
    columns = [*RUN_COLUMNS, *metrics, *USAGE_TOTALS, "partial", "created"]
    return pd.DataFrame(out, columns=columns)


def load_evaluation(name: Any) -> Evaluation:
    """A stored run by name (its latest run) or by id (``fm.evaluations()["id"]``), with the human
    ratings given to that run so far."""
    import io

    import pandas as pd

    if isinstance(name, Evaluation):
        return name
    if not isinstance(name, (str, int)) or isinstance(name, bool):
        raise BadArgumentError(
            "Expected an evaluation (fm.evaluate's result), a stored run's name or its id, not "
            f"{type(name).__name__}."
        )
    run_id = _run_id(name)
    found = store().query(
        "SELECT name, model, prompt, summary, meta, partial, created FROM runs WHERE id = ?", (run_id,)
    )
    name, model, prompt, summary, meta, partial, created = found[0]
    meta = json.loads(meta)
    lines = [r[0] for r in store().query("SELECT data FROM rows WHERE run = ? ORDER BY pos", (run_id,))]
    table = (
        pd.read_json(io.StringIO("\n".join(lines)), orient="records", lines=True, dtype=False)
        if lines
        else pd.DataFrame(columns=meta["columns"])
    )
    table = table.reindex(columns=meta["columns"])
    for column in [
        *meta["evaluators"],
        "seconds",
        "tokens_in",
        "tokens_out",
        "cost",
    ]:  # null came back as None
        if column in table:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    ratings = store().query("SELECT pos, rating, comment FROM ratings WHERE run = ?", (run_id,))
    if ratings:
        _add_ratings(table, {pos: (rating, comment) for pos, rating, comment in ratings})
    rows = json.loads(summary)  # a run with no evaluator has no summary row, and no column either
    summary_frame = pd.DataFrame(rows or None, columns=None if rows else SUMMARY_COLUMNS).set_index(
        "evaluator"
    )
    return Evaluation(
        name=name,
        table=table,
        summary=summary_frame,
        evaluators=meta["evaluators"],
        model=model,
        prompt=prompt,
        partial=bool(partial),
        record=RunRecord(**meta["record"]),
        created=created,
        run_id=run_id,
    )
