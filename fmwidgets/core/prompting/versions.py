"""Immutable, content-hashed prompt versions: ``fm.save_prompt("qa", "Q: {question}\\nA:")``.

A version is the template plus its generation parameters.  Saving the same text and parameters
again returns the version that already exists; anything new becomes ``name@N+1``.  Versions are
never edited or deleted, so an evaluation that names ``"qa@2"`` can always be re-run with
exactly what it used.  They live in the store (``fmwidgets/store.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...errors import BadArgumentError, DataError
from ...records import _jsonable, recorded
from ...store import now, store
from .generate import check_prompt
from .template import fields

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ID = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)@(?P<version>\d+)$")


@dataclass(frozen=True)
class PromptVersion:
    """One saved prompt: ``id`` is ``"name@N"``."""

    name: str
    version: int
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    hash: str = ""
    created: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fields(self) -> list[str]:
        return fields(self.template)

    def __str__(self) -> str:
        return self.template


def content_hash(template: str, params: dict[str, Any]) -> str:
    text = json.dumps([template, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_prompt_id(text: str) -> bool:
    return bool(_ID.match(text.strip()))


@recorded
def save_prompt(name: str, template: str, **params: Any) -> PromptVersion:
    """Save ``template`` (with its generation ``params``) as the next version of ``name``.

    The same text and params as an existing version give back that version (no new one).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadArgumentError(
            f"The prompt name {name!r} may use only letters, digits, '_', '-' and '.'; "
            "pick a name like 'qa' or 'summary-v2'."
        )
    check_prompt(template, what="template")
    fields(template)  # an unreadable placeholder is an error now, not at evaluation time
    params = {k: _jsonable(v) for k, v in params.items()}
    digest = content_hash(template, params)
    db = store()
    with db.write() as cur:
        row = cur.execute(
            "SELECT version FROM prompts WHERE name = ? AND hash = ?", (name, digest)
        ).fetchone()
        if row is None:
            (last,) = cur.execute(
                "SELECT COALESCE(MAX(version), 0) FROM prompts WHERE name = ?", (name,)
            ).fetchone()
            cur.execute(
                "INSERT INTO prompts VALUES (?, ?, ?, ?, ?, ?)",
                (name, last + 1, template, json.dumps(params), digest, now()),
            )
    return get_prompt(f"{name}@{row[0] if row else last + 1}")


def get_prompt(prompt_id: str) -> PromptVersion:
    """The saved version ``"name@N"``; a DataError saying which versions exist when it is not saved."""
    match = _ID.match(prompt_id.strip())
    if match is None:
        raise DataError(f"'{prompt_id}' is not a prompt version id; write it as name@N, e.g. 'qa@2'.")
    name, version = match["name"], int(match["version"])
    rows = store().query(
        "SELECT name, version, template, params, hash, created FROM prompts WHERE name = ? AND version = ?",
        (name, version),
    )
    if not rows:
        have = [
            r[0]
            for r in store().query("SELECT version FROM prompts WHERE name = ? ORDER BY version", (name,))
        ]
        known = (
            f"saved versions of '{name}' are {', '.join(f'{name}@{v}' for v in have)}"
            if have
            else f"no prompt named '{name}' is saved (fm.save_prompt or %%fm prompt --save {name})"
        )
        raise DataError(f"There is no saved prompt '{prompt_id}'; {known}.")
    n, v, template, params, digest, created = rows[0]
    return PromptVersion(n, v, template, json.loads(params), digest, created)


def prompt_versions(name: str | None = None) -> Any:
    """A DataFrame of the saved versions of ``name`` (every prompt when None), oldest first."""
    import pandas as pd

    sql = "SELECT name, version, template, params, hash, created FROM prompts"
    rows = store().query(
        sql + " WHERE name = ? ORDER BY version" if name else sql + " ORDER BY name, version",
        (name,) if name else (),
    )
    frame = pd.DataFrame(rows, columns=["name", "version", "template", "params", "hash", "created"])
    frame.insert(0, "id", [f"{n}@{v}" for n, v in zip(frame["name"], frame["version"])])
    frame["params"] = [json.loads(p) for p in frame["params"]]
    return frame
