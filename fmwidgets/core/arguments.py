"""Checks on the arguments of a call (numbers, names, frames, generate keywords), shared by every feature.

The magics and the Python API reach the same core function, so each feature checks its
arguments there, once, before any model work: a bad value becomes one ``BadArgumentError``
sentence naming the argument, instead of a library traceback half-way through a run.
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from typing import Any, Iterable

from ..errors import BadArgumentError, DataError, short
from ..provenance.literals import keyword_names

# Longer model names are typing accidents (a pasted text), never hub ids or folders.
MAX_NAME_LENGTH = 500
# Resource bounds: a larger batch or number of samples only exhausts memory, never helps.
MAX_BATCH_SIZE = 4096
MAX_SAMPLES = 256  # texts per prompt (n) and beams (num_beams)


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    integer: bool = False,
    hint: str = "",
) -> Any:
    """``value`` if it is a finite number within the bounds, else a BadArgumentError naming ``name``.

    ``low``/``high`` are inclusive bounds, ``above`` an exclusive lower bound.
    """
    kind = "a whole number" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        try:
            import numpy as np

            ok_type = isinstance(value, np.integer if integer else (np.integer, np.floating))
        except ImportError:  # pragma: no cover - numpy ships with pandas
            ok_type = False
    if not ok_type or not math.isfinite(value):
        raise BadArgumentError(f"{name} must be {kind}, not {short(value)}{hint and '; ' + hint}.")
    wrong = (
        (low is not None and value < low)
        or (high is not None and value > high)
        or (above is not None and value <= above)
    )
    if wrong:
        bounds = [
            f"above {above:g}" if above is not None else f"at least {low:g}" if low is not None else "",
            f"at most {high:g}" if high is not None else "",
        ]
        raise BadArgumentError(
            f"{name} must be {' and '.join(b for b in bounds if b)}, not {value:g}{hint and '; ' + hint}."
        )
    return value


def batch_size(value: Any) -> int:
    """``value`` if it is a batch size from 1 to ``MAX_BATCH_SIZE``, else one sentence."""
    return number(
        "batch_size", value, low=1, high=MAX_BATCH_SIZE, integer=True, hint="it is how many rows run at once"
    )


def model_name(model: Any) -> None:
    """A model name or path that cannot be one (too long, not text) is refused before any lookup."""
    if model is None or not isinstance(model, str):
        return
    if len(model) > MAX_NAME_LENGTH:
        raise BadArgumentError(
            f"The model name is {len(model):,} characters long ({short(model, 40)}); pass a loaded "
            "model's name, a hub id or a folder path."
        )
    bad = next((c for c in model if _is_control(c)), None)
    if bad is not None:
        raise BadArgumentError(
            f"The model name {short(model, 40)} holds the control character {bad!r}; retype it "
            "without line breaks, tabs or NUL characters."
        )


def _is_control(char: str) -> bool:
    """NUL, tab, line breaks (also U+2028/U+2029, NEL) and the other C0/C1 control characters."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def data_frame(df: Any, what: str, hint: str = "") -> None:
    """DataError unless ``df`` is a DataFrame with unique column names."""
    import pandas as pd

    if isinstance(df, pd.Series):
        raise DataError(
            f"{what} needs a DataFrame, not a Series; pass the whole DataFrame, or turn the Series "
            f"into one with series.to_frame(){hint and ' ' + hint}."
        )
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} needs a pandas DataFrame, not {type(df).__name__}{hint and '; ' + hint}.")
    unique_columns(df)


def unique_columns(df: Any, what: str = "DataFrame") -> None:
    """DataError naming the columns that appear twice (pandas then returns frames, not columns)."""
    from collections import Counter

    counts = Counter(df.columns)
    twice = [c for c, n in counts.items() if n > 1]  # in order of first appearance
    if twice:
        names = ", ".join(short(c, 40) for c in twice)
        raise DataError(
            f"The {what} has more than one column named {names}; rename or drop the duplicates "
            "(df.loc[:, ~df.columns.duplicated()])."
        )


def generate_keywords(keywords: dict[str, Any], known: Iterable[str]) -> None:
    """An unknown ``generate`` keyword is named, with the close names it may have meant."""
    keyword_names(keywords)
    from transformers import GenerationConfig

    names = (
        set(vars(GenerationConfig()))
        | set(known)
        | {
            "logits_processor",
            "stopping_criteria",
            "prefix_allowed_tokens_fn",
            "synced_gpus",
            "assistant_model",
            "negative_prompt_ids",
            "negative_prompt_attention_mask",
            "use_model_defaults",
            "custom_generate",
            "streamer",
            "tokenizer",
            "assistant_tokenizer",
        }
    )
    names = {n for n in names if not n.startswith("_")}
    for key in keywords:
        if key not in names:
            close = difflib.get_close_matches(key, sorted(names), n=3, cutoff=0.6)
            flag = "--" + key.replace("_", "-")
            maybe = (
                f"; did you mean {' or '.join('--' + c.replace('_', '-') for c in close)}?"
                if close
                else "; see transformers' GenerationConfig for the settings generate knows."
            )
            raise BadArgumentError(f"{flag} ({key}=) is not a generation setting{maybe}")
