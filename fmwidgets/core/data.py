"""Checks on user data (DataFrames, Series, lists of texts), shared by every feature.

Each check either fixes the data with a warning that says what it did (drop NaN rows, turn
numbers into text) or raises a one-sentence DataError that says what to change; ``strict=True``
turns every fix into an error.  Features call these before any model work starts, so a bad
DataFrame fails in a second, not after an hour of training.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable

from ..errors import DataError
from ..notices import FMWarning


def require_columns(df: Any, columns: Iterable[str], what: str = "DataFrame") -> None:
    """DataError naming the missing columns and listing those that exist."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        have = ", ".join(repr(str(c)) for c in df.columns) or "none"
        names = ", ".join(repr(c) for c in missing)
        raise DataError(f"The {what} has no column {names}; its columns are {have}: pass one of those.")


def require_rows(df: Any, what: str = "DataFrame") -> None:
    if len(df) == 0:
        raise DataError(f"The {what} is empty (0 rows); pass one with at least one row.")


def as_texts(values: Any, what: str = "input") -> list:
    """A list from a str, list, tuple, Series, numpy array or single-column DataFrame."""
    import pandas as pd

    if isinstance(values, str):
        return [values]
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(
                f"The {what} is a DataFrame with {values.shape[1]} columns; say which holds the "
                "text (text=COLUMN, --text COLUMN)."
            )
        values = values.iloc[:, 0]
    if isinstance(values, (bytes, dict)) or not hasattr(values, "__iter__"):
        raise DataError(
            f"The {what} must be a text, a list of texts, a Series or a DataFrame column, not "
            f"{type(values).__name__}; pass the texts themselves."
        )
    return list(values)


def clean_texts(df: Any, column: str, *, strict: bool = False, what: str = "DataFrame") -> tuple[Any, int]:
    """(rows of ``df`` with usable text in ``column``, number of rows dropped).

    Missing columns and empty frames are errors; NaN or blank texts are dropped with a warning
    (an error with ``strict``); non-text values are turned into text with a warning.
    """

    require_columns(df, [column], what)
    require_rows(df, what)
    col = df[column]
    blank = col.isna() | col.map(lambda v: isinstance(v, str) and not v.strip())
    n_blank = int(blank.sum())
    if n_blank == len(df):
        raise DataError(
            f"Every row of column '{column}' is empty or NaN; pick the column that holds the text."
        )
    if n_blank:
        if strict:
            raise DataError(
                f"{n_blank} of {len(df)} rows of column '{column}' are empty or NaN; fill or drop "
                "them (df.dropna(subset=[...])), or leave strict off to skip them."
            )
        warnings.warn(
            f"Skipped {n_blank} of {len(df)} rows whose '{column}' is empty or NaN.",
            FMWarning,
            stacklevel=3,
        )
        df = df.loc[~blank]
    non_text = ~df[column].map(lambda v: isinstance(v, str))
    if non_text.any():
        if strict:
            raise DataError(
                f"{int(non_text.sum())} values of column '{column}' are not text; convert them "
                f"(df['{column}'].astype(str)) or leave strict off."
            )
        warnings.warn(
            f"Turned {int(non_text.sum())} non-text values of '{column}' into text.",
            FMWarning,
            stacklevel=3,
        )
        df = df.assign(**{column: df[column].map(str)})
    return df, n_blank


def clean_text_list(texts: Any, *, strict: bool = False, what: str = "input") -> tuple[list[str], list[int]]:
    """(usable texts, their positions in the input) for a list / Series / str of texts."""
    import pandas as pd

    items = as_texts(texts, what)
    if not items:
        raise DataError(f"The {what} is empty; pass at least one text.")
    frame = pd.DataFrame({"text": items})
    kept, _ = clean_texts(frame, "text", strict=strict, what=what)
    return kept["text"].tolist(), kept.index.tolist()
