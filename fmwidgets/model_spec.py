"""How to load a model again, as plain data: what a prompt version pins (``fm.save_prompt(model=)``)
and what each Ray replica loads (``engines.ray``).

A ``ModelSpec`` names a hub id and the commit it resolved to, a local folder (with the hash of
its weight files, so a folder whose weights changed is noticed), the embedded model, or an
API-served model (provider, model, the server's address without credentials, and the *name* of
the environment variable that holds the key, never the key).  ``ModelHandle.spec()`` fills it
for a loaded model; an API handle fills it the same way.  ``core.models.loading.load_spec``
turns it back into a loaded model.

An engine that loads the model again in another process also needs how this kernel loaded it
(registry name, head, device, dtype, remote code): ``engines.ray.replica_spec`` sets those fields
and ``ModelSpec.load`` uses them; a pin leaves them unset, and ``to_dict`` (what a store holds and
a version's hash reads) keeps only the fields that are set.  The class sits here, below core and
engines, because engines may not import core.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .errors import DataError, EngineError
from .paths import home_as_tilde

SOURCES = ("hub", "local", "embedded", "api")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from, enough to load it again on another machine."""

    source: str  # one of SOURCES
    model: str  # hub id, folder (home as ~), embedded id, or the API's model name
    commit: str | None = None  # hub commit, or "sha256:..." of a folder's weight files
    provider: str | None = None  # API models: "openai", "anthropic", ...
    base_url: str | None = None  # API models: scheme://host[:port]/path, credentials removed
    api_key_env: str | None = None  # API models: the environment variable that holds the key
    # how this kernel loaded it, for a replica loaded alike in another process (a pin leaves them unset)
    name: str | None = None
    task: str | None = None
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool | None = None

    def __post_init__(self) -> None:
        if self.base_url is not None:  # a key pasted into the address never reaches a store
            object.__setattr__(self, "base_url", without_credentials(self.base_url))

    def to_dict(self) -> dict[str, str]:
        """The fields that are set (what the store and an exported prompts file hold)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ModelSpec:
        """The spec in ``data`` (read from a store or a file named by ``where``), checked field by field."""
        known = {f.name for f in fields(cls)}
        if (
            not isinstance(data, dict)
            or not set(data) <= known
            or "source" not in data
            or "model" not in data
        ):
            raise DataError(
                f"The model of {where} is not a model spec fmwidgets wrote; it needs 'source' and "
                f"'model' and may have only {', '.join(sorted(known))}."
            )
        if data["source"] not in SOURCES or not all(isinstance(v, str) and v for v in data.values()):
            raise DataError(
                f"The model of {where} has source {data['source']!r} or a field that is not text; "
                f"the source is one of {', '.join(SOURCES)} and every field a non-empty text."
            )
        if "api_key_env" in data and not _ENV_NAME.match(data["api_key_env"]):
            raise DataError(
                f"The model of {where} names {data['api_key_env']!r} as its key's environment "
                "variable; that must be a variable name such as OPENAI_API_KEY, never the key."
            )
        return cls(**data)

    def load(self, load: Callable[..., Any]) -> Any:
        """The model loaded where this runs, as the notebook loaded it, with ``load`` (core's
        loader, passed in); a folder must exist here too."""
        if self.source == "local" and not Path(self.model).expanduser().is_dir():
            raise EngineError(
                f"The model folder '{self.model}' exists only on the notebook's machine, not on "
                f"the Ray worker {os.uname().nodename}; use a hub id, or save the model to a path "
                "that every node can read."
            )
        return load(
            None if self.source == "embedded" else self.model,  # installed with fmwidgets everywhere
            as_=self.name,
            task=self.task,
            device=self.device,
            dtype=self.dtype,
            revision=self.commit if self.source == "hub" else None,
            trust_remote_code=bool(self.trust_remote_code),
        )

    def describe(self) -> str:
        """One short phrase for tables and messages: ``gpt2@1a2b3c4d (hub)``."""
        if self.source == "api":
            where = f" at {self.base_url}" if self.base_url else ""
            return f"{self.provider or 'api'}:{self.model}{where}"
        at = f"@{self.commit.removeprefix('sha256:')[:8]}" if self.commit else ""
        return f"{self.model}{at} ({self.source})"


def without_credentials(url: str) -> str:
    """``url`` without a user, password, query or fragment (where keys sometimes travel)."""
    parts = urllib.parse.urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def local_path(path: str) -> str:
    """A folder as a spec keeps it: the home folder as ``~``, which ``fm.load`` reads back."""
    return home_as_tilde(path)
