"""What produced a result: ``RunRecord``, plain data that travels with every result.

A ``RunRecord`` (``Generation``, ``FinetuneResult``, figures...) holds the model id and resolved
commit, dtype and device, every parameter, the seed, library versions and a fingerprint of any
DataFrame used.  ``render.Recorded._repr_mimebundle_`` puts it in the cell output's metadata under
the ``fmwidgets`` key, so a saved .ipynb says what produced each output.  What the session did,
call by call, is the history (``provenance/history.py``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

from .paths import home_as_tilde, tilde_paths

_LIBRARIES = ("fmwidgets", "torch", "transformers", "peft", "datasets", "plotly")


def package_version(name: str) -> str:
    """The installed version of a distribution (read without importing it), or "not installed"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results (read without importing them)."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict[str, str]:
    """Read once per process: parsing the packages' metadata took ~3 ms, more than the rest of an
    API request's own cost (bench/bench_api.py), and a package upgraded in a running kernel is
    not the one imported until it restarts."""
    return {name: package_version(name) for name in _LIBRARIES}


def fingerprint_df(df: Any) -> dict[str, Any]:
    """Shape, columns and a content hash of a DataFrame (or Series / list of texts)."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    elif not isinstance(df, pd.DataFrame):
        df = pd.DataFrame({"value": list(df)})
    hashed = pd.util.hash_pandas_object(df.astype(str), index=True).to_numpy().tobytes()
    return {
        "shape": list(df.shape),
        "columns": [str(c) for c in df.columns],
        "sha256": hashlib.sha256(hashed).hexdigest()[:16],
    }


@dataclass
class RunRecord:
    """What produced one result; plain data, JSON-serialisable through ``to_dict``."""

    kind: str
    model: str | None = None
    model_name: str | None = None
    commit: str | None = None
    family: str | None = None
    dtype: str | None = None
    device: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    data: dict[str, Any] | None = None
    # where an API-served model ran: provider, host, model, and what the replies said was run
    # (a comparison: that, by model name, for each served model among its columns)
    endpoint: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=library_versions)
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @classmethod
    def for_model(cls, kind: str, handle: Any, params: dict | None = None, seed=None, data=None, usage=None):
        """A record of ``kind`` for work done by the model behind ``handle``; ``usage`` holds an
        API-served model's per-row accounting, whose served model ids and fingerprints it notes."""
        return cls(
            kind=kind,
            model=handle.model_id,
            model_name=handle.name,
            commit=handle.commit,
            family=handle.family,
            dtype=handle.dtype,
            device=handle.device,
            params={k: jsonable(v) for k, v in (params or {}).items()},
            seed=seed,
            data=fingerprint_df(data) if data is not None else None,
            endpoint=served_endpoint(handle, usage),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data, the home folder written as ``~`` (it goes into shared notebooks)."""
        return tilde_paths(asdict(self))

    def summary(self) -> str:
        """One short line: model@commit, the parameters that were set, the seed."""
        model = home_as_tilde(self.model_name or self.model or "-")
        if self.commit:
            model += f"@{self.commit[:8]}"
        params = ", ".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        seed = f" seed={self.seed}" if self.seed is not None else ""
        return home_as_tilde(f"{self.kind} · {model} · {params}{seed}".rstrip(" ·"))


def served_endpoint(handle: Any, usage: list[dict[str, Any] | None] | None) -> dict[str, Any] | None:
    """Where the API-served model behind ``handle`` ran, with the model ids and fingerprints its
    replies (``usage``) reported; None for a model in this kernel."""
    endpoint = getattr(handle, "provenance", lambda: None)()
    return None if endpoint is None else {**endpoint, **_served_as(usage or [])}


def _served_as(rows: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The model id(s) and system fingerprint(s) the server reported in its replies."""
    out: dict[str, Any] = {}
    for key, name in (("model", "served_model"), ("fingerprint", "system_fingerprint")):
        seen = sorted({str(r[key]) for r in rows if r and r.get(key)})
        if seen:
            out[name] = seen[0] if len(seen) == 1 else seen
    return out


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: plain values kept, lists/dicts walked, anything else its ``repr``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)
