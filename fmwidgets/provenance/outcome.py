"""What a result is, for telling whether a re-run gave the same: texts, numbers and arrays.

``outcome(result)`` is taken when a call enters the history (records.py) and again when
``fm.repro(verify=True)`` re-runs it; ``verdict(a, b)`` says whether the two match: texts
exactly, numbers and arrays within a tolerance (float noise between runs and machines).
Timings (seconds, tokens/s, latency, dates: as columns, fields or a summary's rows), store ids (``run_id``, and ``name``s, which the store
numbers: a re-run's evaluation is "eval-2" where the first was "eval-1"; a name the user gave
comes from the arguments, which the re-run repeats) and a person's ratings (``human`` columns)
are left out: a re-run does not repeat them.
Results are read by their shape (dataclass fields, DataFrame columns, arrays, figure traces, a
widget's ``points``), so nothing here imports torch, plotly or ipywidgets, and new result
classes need no registration.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from ..handles import Handle

_SKIP = re.compile(
    r"second|time|timing|latency|per_s|created|started|^history$|^record$|^images?$|output_dir|^script$"
    r"|^run_id$|^name$|^human"
)
_MAX_VALUES = 20_000  # larger arrays are compared on an even sample of this many values (memory)
RTOL, ATOL = 1e-4, 1e-5


def outcome(result: Any) -> dict[str, Any]:
    """``{path: text | number | array}`` of the parts of ``result`` a re-run should repeat."""
    out: dict[str, Any] = {}
    try:
        _walk(result, "result", out, depth=0)
    except Exception:  # noqa: BLE001 - an unreadable result is simply not compared
        out.clear()
    return out


def _walk(value: Any, path: str, out: dict[str, Any], depth: int) -> None:
    if depth > 3 or value is None:
        return
    if isinstance(value, (bool, str)):
        out[path] = str(value)
    elif isinstance(value, (int, float, np.number)):
        out[path] = float(value)
    elif isinstance(value, np.ndarray):
        _array(value, path, out)
    elif isinstance(value, Handle):
        out[path] = f"{value.model_id}@{value.commit}"
    elif hasattr(value, "to_numpy") and hasattr(value, "columns"):  # a DataFrame
        # rows named like timings go too: a summary indexed by evaluator has a "latency" row
        value = value.loc[np.array([not _SKIP.search(str(label)) for label in value.index], dtype=bool)]
        for column in value.columns:
            if not _SKIP.search(str(column)):
                _array(value[column].to_numpy(), f"{path}[{column}]", out)
    elif hasattr(value, "to_numpy") and hasattr(value, "dtype"):  # a Series
        _array(value.to_numpy(), path, out)
    elif hasattr(value, "layout") and isinstance(getattr(value, "data", None), tuple):  # a figure
        for i, trace in enumerate(value.data):
            for axis in ("x", "y", "z"):
                if getattr(trace, axis, None) is not None:
                    _array(np.asarray(getattr(trace, axis)), f"{path}.data[{i}].{axis}", out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if not _SKIP.search(f.name):
                _walk(getattr(value, f.name), f"{path}.{f.name}", out, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _SKIP.search(str(key)):
                _walk(item, f"{path}[{key!r}]", out, depth + 1)
    elif isinstance(value, (list, tuple)):
        if all(isinstance(v, (str, int, float, bool, np.number)) for v in value):
            _array(
                np.asarray(value, dtype=object if any(isinstance(v, str) for v in value) else float),
                path,
                out,
            )
        else:
            for i, item in enumerate(value[:1000]):
                _walk(item, f"{path}[{i}]", out, depth + 1)
    elif isinstance(getattr(value, "points", None), np.ndarray):  # the embedding explorer
        _array(value.points, f"{path}.points", out)


def _array(values: np.ndarray, path: str, out: dict[str, Any]) -> None:
    values = values.ravel()
    if values.size > _MAX_VALUES:
        values = values[:: values.size // _MAX_VALUES + 1]
    if values.dtype.kind in "biuf":
        out[path] = values.astype(np.float64)
    else:
        out[path] = np.asarray([str(v) for v in values], dtype=object)


def verdict(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """How ``got`` differs from ``expected``: per part (texts, numbers) True/False/None, and
    the first difference in words."""
    verdict: dict[str, Any] = {"texts": None, "numbers": None, "difference": ""}
    for path in sorted(set(expected) | set(got)):
        a, b = expected.get(path), got.get(path)
        part = "texts" if _is_text(a if a is not None else b) else "numbers"
        same = _same(a, b)
        verdict[part] = same if verdict[part] is None else verdict[part] and same
        if not same and not verdict["difference"]:
            verdict["difference"] = _difference(path, a, b)
    return verdict


def _is_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, np.ndarray) and value.dtype == object)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype == object or b.dtype == object:
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))


def _difference(path: str, a: Any, b: Any) -> str:
    where = path.removeprefix("result")
    where = where.lstrip(".") or "the result"
    if a is None or b is None:
        return f"{where}: {'missing' if b is None else 'new'} in the re-run"
    if isinstance(a, str):
        return f"{where}: {_short(a)!r} -> {_short(b)!r}"
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"{where}: {a.size} values -> {b.size}"
    if a.dtype == object:
        i = int(np.argmax(a != b))
        return f"{where}[{i}]: {_short(str(a[i]))!r} -> {_short(str(b[i]))!r}"
    gap = float(np.nanmax(np.abs(a - b))) if a.size else 0.0
    return f"{where}: largest difference {gap:.3g}"


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
