"""People's verdicts on pairs of outputs, and the training data they make.

A pairwise review (``fm.Review(comparison)``, ``fm.Review(df, a=COL, b=COL, input=COL)``) goes
through ``pairs.Pairs`` (``pairs_of``): verdicts kept in the store by the pair's texts and in the
table's ``human`` column, where ``agreement`` compares them with a pairwise judge's
``judge_preference``.

``preferences(source)`` turns them into TRL's formats:

- verdicts on pairs: ``prompt``, ``chosen``, ``rejected`` (DPOTrainer).  Ties are left out and
  counted.  ``prompt`` is what the ``a`` run was sent (``prompt_from="b"``: the b run's); the
  two differ where the runs used different templates, and the result says which it holds.
- an evaluation's ratings (``fm.Review(evaluation)``): ``prompt``, ``completion``, ``label``
  (KTOTrainer).  Thumbs up is True, down False; on the 1-5 scale 4-5 are True, 1-2 False and
  3 is left out (counted with the ties).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...errors import BadArgumentError, DataError
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.evaluation import preferences_bundle
from ...store import store
from ..data import require_columns, require_rows
from .compare import EvaluationComparison
from .pairs import PAIR_COLUMNS, Pairs, missing
from .stored import Evaluation, load_evaluation


def pairs_of(
    source: Any, a: str | None = None, b: str | None = None, input: str | None = None, name: str | None = None
) -> Pairs:
    """The pairs of a comparison (its table gets the ``human`` column) or of columns ``a`` and ``b``
    of a DataFrame, with ``input`` the column each row's prompt is in."""
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise BadArgumentError("name= must be a non-empty text, e.g. name='qa-v1 vs qa-v2'.")
    if isinstance(source, EvaluationComparison):
        given = [f"{k}=" for k, v in (("a", a), ("b", b), ("input", input)) if v is not None]
        if given:
            raise BadArgumentError(
                f"{', '.join(given)} name DataFrame columns; a comparison brings its two outputs and "
                "prompts, so leave them out."
            )
        return source.pairs(name)
    if isinstance(source, pd.DataFrame):
        if a is None or b is None or input is None:
            raise BadArgumentError(
                "Name the DataFrame's columns: fm.Review(df, a='OUTPUT_A', b='OUTPUT_B', input='PROMPT') "
                "(input is what both outputs answer)."
            )
        require_columns(source, [input, a, b], "DataFrame")
        require_rows(source, "DataFrame")
        if a == b:
            raise BadArgumentError(f"a= and b= are both {a!r}; name the two columns to compare.")
        table = pd.DataFrame(
            {
                input: source[input].to_numpy(),
                "prompt_a": source[input].to_numpy(),
                "prompt_b": source[input].to_numpy(),
                "output_a": source[a].to_numpy(),
                "output_b": source[b].to_numpy(),
            }
        )
        return Pairs(name or f"{a} vs {b}", table, a, b, [input])
    raise BadArgumentError(
        "A pairwise review takes fm.compare_evaluations(a, b) or a DataFrame with a=, b= and input= "
        f"columns, not {type(source).__name__}."
    )


# ---------------------------------------------------------------------------------------------
# Training data


class PreferenceData(Recorded, pd.DataFrame, look=preferences_bundle):
    """``prompt``, ``chosen``, ``rejected`` (``kind == "pairs"``) or ``prompt``, ``completion``,
    ``label`` (``"unpaired"``): TRL's formats.  ``ties`` rows were left out; ``prompt_from`` says
    whose prompt ``prompt`` holds (``"a"`` or ``"b"``: ``prompt_run``), and ``prompts_differ`` on
    how many rows the two sides' prompts were not the same."""

    _metadata = ["record", "kind", "source", "ties", "prompt_from", "prompt_run", "prompts_differ"]

    @property
    def _constructor(self):  # slices and copies are plain DataFrames
        return pd.DataFrame

    def to_dataset(self) -> Any:
        """The rows as a ``datasets.Dataset`` (what TRL's trainers take)."""
        import datasets

        return datasets.Dataset.from_pandas(pd.DataFrame(self), preserve_index=False)


def _from_pairs(rows: list[tuple], prompt_from: str, source: str, a: str, b: str) -> PreferenceData:
    """rows: (prompt_a, prompt_b, output_a, output_b, verdict) per reviewed pair."""
    take = 0 if prompt_from == "a" else 1
    kept, ties, differ, no_prompt = [], 0, 0, 0
    for *texts, verdict in rows:
        if verdict == "tie":
            ties += 1
            continue
        prompt = texts[take]
        if missing(prompt):
            no_prompt += 1
            continue
        differ += texts[0] != texts[1]
        chosen, rejected = (texts[2], texts[3]) if verdict == "a" else (texts[3], texts[2])
        kept.append((prompt, chosen, rejected))
    if no_prompt:
        raise DataError(
            f"{no_prompt} preferred pair(s) of {source!r} have no prompt from {(a, b)[take]!r} (a run "
            "scored with output= and no prompt=); evaluate it with prompt=, or review a DataFrame with "
            "input=PROMPT_COLUMN."
        )
    result = PreferenceData(kept, columns=["prompt", "chosen", "rejected"])
    result.kind, result.source, result.ties = "pairs", source, ties
    result.prompt_from, result.prompt_run, result.prompts_differ = prompt_from, (a, b)[take], differ
    return result


def _from_ratings(run: Evaluation) -> PreferenceData:
    table = run.table
    if "human" not in table or table["human"].isna().all():
        raise DataError(
            f"Nobody has rated '{run.name}' yet; rate rows with fm.Review(evaluation) first (or "
            "compare two runs and review the pairs: fm.Review(fm.compare_evaluations(a, b)))."
        )
    rated = table[table["human"].notna()]
    five = bool((rated["human"] > 1).any())  # the 1-5 scale (thumbs are 0 and 1)
    kept, middle = [], 0
    for prompt, output, rating in zip(rated["prompt"], rated["output"], rated["human"]):
        if five and rating == 3:
            middle += 1
            continue
        if missing(prompt) or missing(output):
            continue
        kept.append((prompt, output, bool(rating >= 4 if five else rating >= 1)))
    result = PreferenceData(kept, columns=["prompt", "completion", "label"])
    result.kind, result.source, result.ties = "unpaired", run.name, middle
    result.prompt_from, result.prompt_run, result.prompts_differ = None, run.name, 0
    return result


def _stored_pairs(name: str) -> tuple[list[tuple], str, str] | None:
    """(rows for ``_from_pairs``, side a's name, side b's) of the review ``name``, None if none."""
    rows = store().query(
        "SELECT prompt_a, prompt_b, output_a, output_b, verdict, a, b FROM preferences WHERE review = ? "
        "ORDER BY pos, created",
        (name,),
    )
    if not rows:
        return None
    return [r[:5] for r in rows], rows[-1][5], rows[-1][6]


def reviews() -> list[str]:
    """Names of the pairwise reviews in the store, most recent first."""
    rows = store().query("SELECT review FROM preferences GROUP BY review ORDER BY MAX(created) DESC")
    return [r[0] for r in rows]


@recorded
def preferences(source: Any, prompt_from: str = "a") -> PreferenceData:
    """Training data from what people said: a comparison (or its review's name) gives
    ``prompt``/``chosen``/``rejected`` for ``method="dpo"``; an evaluation rated with
    ``fm.Review`` (or its name) gives ``prompt``/``completion``/``label`` for ``method="kto"``."""
    if prompt_from not in ("a", "b"):
        raise BadArgumentError(f"prompt_from= is 'a' or 'b' (whose prompt to keep), not {prompt_from!r}.")
    pairs = getattr(source, "pairs", None)  # a pairwise review widget
    if isinstance(pairs, Pairs):
        source = pairs
    if isinstance(source, EvaluationComparison):
        source = pairs_of(source)
    if isinstance(source, Pairs):
        done = source.table[source.table["human"].notna()]
        rows = list(done[[*PAIR_COLUMNS, "human"]].itertuples(index=False, name=None))
        if not rows:
            raise DataError(
                f"No pair of '{source.name}' is reviewed yet; say which output is better with "
                "fm.Review(comparison) (keys 1 / 2 / =) or review.prefer(row, 'a')."
            )
        result = _from_pairs(rows, prompt_from, source.name, source.a, source.b)
    elif isinstance(source, Evaluation):
        result = _from_ratings(source)
    elif isinstance(source, str):
        stored = _stored_pairs(source)
        if stored is not None:
            result = _from_pairs(stored[0], prompt_from, source, stored[1], stored[2])
        else:
            try:
                run = load_evaluation(source)
            except DataError:
                names = reviews()[:10]
                known = (
                    f"reviews in the store: {', '.join(map(repr, names))}"
                    if names
                    else "no pair is reviewed yet"
                )
                raise DataError(
                    f"There is no review or evaluation named {source!r}; {known} (an evaluation's name "
                    "gives its ratings: fm.evaluations() lists them)."
                ) from None
            result = _from_ratings(run)
    else:
        raise BadArgumentError(
            "fm.preferences takes fm.compare_evaluations(a, b), a pairwise review, an evaluation or a "
            f"stored name, not {type(source).__name__}."
        )
    if len(result) == 0:
        what = "tie" if result.kind == "pairs" else "middle (3 of 5) rating"
        raise DataError(
            f"Every verdict of {result.source!r} is a {what} ({result.ties}), so there is nothing to "
            "train on; say which output is better on some rows."
        )
    result.record = RunRecord(
        kind="preferences",
        params=dict(
            source=result.source,
            kind=result.kind,
            prompt_from=result.prompt_from,
            rows=len(result),
            ties=result.ties,
        ),
    )
    return result
