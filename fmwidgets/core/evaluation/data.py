"""The data of an evaluation: a DataFrame, a ``datasets.Dataset``, a file path or a hub id.

Files and hub ids go through ``datasets`` (``load_dataset("csv", data_files=...)``), which
memory-maps them as Arrow instead of reading them into Python lists, and whose fingerprint is
recorded with the run.  A DataFrame is used as it is: an Arrow round trip would only cost time
and could change the user's own values (mixed-type label columns do not survive it).
"""

from __future__ import annotations

import os
from typing import Any

from ..._compat import datasets_fingerprint
from ...errors import DataError
from ...records import fingerprint_df
from ..data import require_rows

_FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def load_data(data: Any, split: str | None = None) -> tuple[Any, dict[str, Any]]:
    """(a DataFrame with a 0..n-1 index, a fingerprint dict for the record)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        require_rows(data)
        frame = data.reset_index(drop=True)
        return frame, {"source": "DataFrame", **fingerprint_df(frame)}
    dataset, source = _dataset(data, split)
    if len(dataset) == 0:
        raise DataError(f"The data {source} is empty (0 rows); pass data with at least one row.")
    frame = dataset.to_pandas()
    return frame, {
        "source": source,
        "datasets_fingerprint": datasets_fingerprint(dataset),
        **fingerprint_df(frame),
    }


def _dataset(data: Any, split: str | None) -> tuple[Any, str]:
    import datasets

    if isinstance(data, datasets.DatasetDict):
        return _split(data, split, "the DatasetDict"), "DatasetDict"
    if isinstance(data, datasets.Dataset):
        return data, "Dataset"
    if not isinstance(data, (str, os.PathLike)):
        raise DataError(
            f"fm.evaluate cannot read data of type {type(data).__name__}; pass a DataFrame, a "
            "datasets.Dataset, a CSV/JSONL/Parquet path or a hub dataset id."
        )
    path = os.fspath(data)
    suffix = os.path.splitext(path)[1].lower()
    if os.path.exists(path):
        if suffix not in _FORMATS:
            raise DataError(
                f"'{path}' is not a file fmwidgets can read as data; use a .csv, .tsv, .jsonl, "
                ".json or .parquet file."
            )
        extra = {"delimiter": "\t"} if suffix == ".tsv" else {}
        ds = datasets.load_dataset(_FORMATS[suffix], data_files=path, split="train", **extra)
        return ds, f"file {path}"
    if suffix in _FORMATS:
        raise DataError(f"There is no file '{path}'; check the path (relative to {os.getcwd()}).")
    try:
        loaded = datasets.load_dataset(path, split=split)
    except Exception as exc:  # offline, unknown id, missing split: one sentence
        raise DataError(
            f"The hub dataset '{path}' could not be loaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); check the id and split, or "
            "pass a local file or DataFrame."
        ) from exc
    return (
        _split(loaded, split, f"'{path}'") if isinstance(loaded, datasets.DatasetDict) else loaded
    ), f"hub {path}"


def _split(data: Any, split: str | None, what: str) -> Any:
    if split is None or split not in data:
        raise DataError(f"Say which split of {what} to evaluate with split=: one of {', '.join(data)}.")
    return data[split]
