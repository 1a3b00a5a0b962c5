"""How to load a model again, as plain data: what a prompt version pins (``fm.save_prompt(model=)``).

A ``ModelSpec`` names a hub id and the commit it resolved to, a local folder (with the hash of
its weight files, so a folder whose weights changed is noticed), the embedded model, or an
API-served model (provider, model, the server's address without credentials, and the *name* of
the environment variable that holds the key, never the key).  ``ModelHandle.spec()`` fills it
for a loaded model; an API handle fills it the same way.  ``core.models.loading.load_spec``
turns it back into a loaded model.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import asdict, dataclass, fields
from typing import Any

from ...errors import DataError
from ...paths import home_as_tilde

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
