"""Immutable, content-hashed prompt versions and the tags that mark releases.

``fm.save_prompt("qa", "Q: {question}\\nA:", model="gpt2", max_new_tokens=8)`` saves a version:
the template, its generation parameters and, with ``model=``, how to load the model it runs on
(``core/models/spec.py``).  Saving the same text, parameters and model again returns the version
that already exists; anything new becomes ``name@N+1``.  Versions are never edited or deleted,
so an evaluation that names ``"qa@2"`` can always be re-run with exactly what it used.  A
pinned version runs on its model wherever it is used (``p.run()``, ``fm.run_prompt``,
``fm.evaluate``): the model already loaded when it matches, else loaded once
(``core.models.loading.load_spec``), through ``generate_text``, the generation of ``fm.generate``.

A tag (``fm.tag_prompt("qa@3", "production")``) points at one version of a prompt; moving it
appends a move to the store's ``prompt_tags`` table, so every move is kept with its time and
the current target is the latest move.  ``"qa:production"`` is accepted wherever ``"qa@3"`` is,
which lets an application (``fmwidgets.prompts``) follow a release without a code change.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ...errors import BadArgumentError, DataError, NoModelLoadedError
from ...model_spec import ModelSpec
from ...provenance.history import recorded
from ...provenance.literals import keyword_names
from ...records import jsonable
from ...render import Shown
from ...render.prompts import prompt_version_bundle
from ...store import Store, now, store
from ..models.loading import load_spec
from ..models.registry import ModelHandle, get_model, registry
from .generate import Generation, check_prompt, generate_text
from .template import fields, fill

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
TAG = r"[A-Za-z][A-Za-z0-9_\-]{0,63}"
_TAG = re.compile(rf"^{TAG}$")
_ID = re.compile(rf"^(?P<name>[A-Za-z0-9_.\-]+)(?:@(?P<version>\d+)|:(?P<tag>{TAG}))$")
_COLUMNS = "name, version, template, params, hash, created, model"


@dataclass(frozen=True)
class PromptVersion(Shown, look=prompt_version_bundle):
    """One saved prompt: ``id`` is ``"name@N"``; ``model`` the model it is pinned to, if any."""

    name: str
    version: int
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    hash: str = ""
    created: str = ""
    model: ModelSpec | None = None

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fields(self) -> list[str]:
        return fields(self.template)

    def render(self, **values: Any) -> str:
        """The prompt text with each ``{field}`` filled from ``values`` (the notebook's safe templating)."""
        missing = [f for f in self.fields if f not in values]
        unknown = [k for k in values if k not in self.fields]
        if missing or unknown:
            wrong = f"needs {', '.join(missing)}" if missing else f"has no field {', '.join(unknown)}"
            raise BadArgumentError(
                f"The prompt {self.id} {wrong}; its fields are {', '.join(self.fields) or 'none'}, "
                "each passed as a keyword (render(question=...))."
            )
        return fill(self.template, values)

    def run(self, **values: Any) -> str:
        """The generated text: the pinned model (loaded on first use) continues ``render(**values)``
        with this version's parameters, through the same generation as ``fm.generate``."""
        return generate_version(self, values).text

    def __str__(self) -> str:
        return self.template


def pinned_model(version: PromptVersion) -> ModelHandle:
    """The model ``version`` runs on: its pinned model (loaded on first use), else the current one."""
    if version.model is not None:
        handle = load_spec(version.model, f"the prompt '{version.id}'")
        handle.require("generate")
        return handle
    if registry.current is None:
        raise NoModelLoadedError(
            f"The prompt {version.id} is pinned to no model and none is loaded; save it again with "
            "model= (fm.save_prompt(..., model=NAME)) so that it says what it runs on, or fm.load one first."
        )
    return get_model(None, "generate")


def generate_version(
    version: PromptVersion, values: dict[str, Any], on_text: Callable[[list[str]], None] | None = None
) -> Generation:
    """``version`` filled with ``values`` and continued by its model with its parameters."""
    prompt = version.render(**values)
    handle = pinned_model(version)
    return generate_text(prompt, handle, on_text=on_text, **version.params)


def content_hash(template: str, params: dict[str, Any], model: ModelSpec | None = None) -> str:
    """What makes two versions the same; a version without a model hashes as before pinning existed."""
    content: list[Any] = [template, params] + ([model.to_dict()] if model is not None else [])
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_prompt_id(text: str) -> bool:
    """Whether ``text`` names a saved version: ``"qa@2"`` or a tag, ``"qa:production"``."""
    return bool(_ID.match(text.strip()))


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadArgumentError(
            f"The prompt name {name!r} may use only letters, digits, '_', '-' and '.'; "
            "pick a name like 'qa' or 'summary-v2'."
        )
    return name


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not _TAG.match(tag):
        raise BadArgumentError(
            f"The tag {tag!r} is not a simple word; use letters, digits, '_' or '-', starting with "
            "a letter (at most 64), e.g. 'production' or 'staging'."
        )
    return tag


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """Generation parameters as a version keeps them: Python-name keys, JSON values."""
    keyword_names(params)
    return {k: jsonable(v) for k, v in params.items()}


@recorded
def save_prompt(name: str, template: str, model: Any = None, **params: Any) -> PromptVersion:
    """Save ``template`` (with its generation ``params``) as the next version of ``name``.

    ``model`` (a loaded model's name or handle) pins the version to that model: the version
    records how to load it again (hub id + commit, local folder), and ``p.run()`` /
    ``fm.run_prompt`` / ``fm.evaluate`` run on it.  The same text, params and model as an
    existing version give back that version (no new one).
    """
    check_name(name)
    check_prompt(template, what="template")
    fields(template)  # an unreadable placeholder is an error now, not at evaluation time
    params = check_params(params)
    spec = get_model(model, "generate").spec() if model is not None else None
    digest = content_hash(template, params, spec)
    with store().write() as cur:
        row = cur.execute(
            "SELECT version FROM prompts WHERE name = ? AND hash = ?", (name, digest)
        ).fetchone()
        if row is None:
            (last,) = cur.execute(
                "SELECT COALESCE(MAX(version), 0) FROM prompts WHERE name = ?", (name,)
            ).fetchone()
            cur.execute(
                f"INSERT INTO prompts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    last + 1,
                    template,
                    json.dumps(params),
                    digest,
                    now(),
                    json.dumps(spec.to_dict()) if spec else None,
                ),
            )
    return get_prompt(f"{name}@{row[0] if row else last + 1}")


def _version(row: tuple, where: str) -> PromptVersion:
    name, version, template, params, digest, created, model = row
    spec = ModelSpec.from_dict(json.loads(model), where) if model else None
    return PromptVersion(name, version, template, json.loads(params), digest, created, spec)


def get_prompt(prompt_id: str, db: Store | None = None) -> PromptVersion:
    """The version ``"name@N"`` or the one a tag points at (``"name:tag"``), from ``db`` (the
    store of ``FM.store_path`` by default); one sentence listing what exists when it is not saved."""
    match = _ID.match(prompt_id.strip()) if isinstance(prompt_id, str) else None
    if match is None:
        raise DataError(
            f"{prompt_id!r} is not a prompt id; write name@N for a version or name:tag for a "
            "tagged one, e.g. 'qa@2' or 'qa:production'."
        )
    db = db or store()
    name = match["name"]
    version = int(match["version"]) if match["version"] else _tagged(db, name, match["tag"], prompt_id)
    rows = db.query(f"SELECT {_COLUMNS} FROM prompts WHERE name = ? AND version = ?", (name, version))
    if not rows:
        have = _versions(db, name, prompt_id)
        raise DataError(
            f"There is no saved prompt '{prompt_id}'; saved versions of '{name}' are "
            f"{', '.join(f'{name}@{v}' for v in have)}."
        )
    return _version(rows[0], f"'{name}@{version}'")


def latest_prompt(name: str, db: Store | None = None) -> PromptVersion:
    """The newest version of ``name``."""
    db = db or store()
    return get_prompt(f"{name}@{_versions(db, name)[-1]}", db)


def _versions(db: Store, name: str, asked: str | None = None) -> list[int]:
    """The version numbers of ``name``; a DataError listing the saved prompts when there are none
    (``asked``: the id the caller was given, named in that sentence)."""
    have = [r[0] for r in db.query("SELECT version FROM prompts WHERE name = ? ORDER BY version", (name,))]
    if not have:
        names = [r[0] for r in db.query("SELECT DISTINCT name FROM prompts ORDER BY name")]
        known = f"the saved prompts are {', '.join(names)}" if names else "no prompt is saved yet"
        raise DataError(
            f"There is no saved prompt '{asked or name}'; {known} (fm.save_prompt or "
            "%%fm prompt --save NAME saves one)."
        )
    return have


def current_tags(db: Store, name: str | None = None) -> dict[tuple[str, str], int]:
    """(name, tag) -> the version the tag points at now (its latest move)."""
    sql = (
        "SELECT name, tag, version FROM prompt_tags WHERE rowid IN "
        "(SELECT MAX(rowid) FROM prompt_tags GROUP BY name, tag)"
    )
    rows = db.query(sql + " AND name = ?", (name,)) if name else db.query(sql)
    return {(n, t): v for n, t, v in rows}


def _tagged(db: Store, name: str, tag: str, asked: str) -> int:
    tags = {t: v for (_, t), v in current_tags(db, name).items()}
    if tag not in tags:
        _versions(db, name, asked)  # an unknown prompt is named as such first
        known = f"its tags are {', '.join(sorted(tags))}" if tags else "it has no tags yet"
        raise DataError(
            f"The prompt '{name}' has no tag '{tag}'; {known} (fm.tag_prompt('{name}@N', '{tag}') sets one)."
        )
    return tags[tag]


def move_tag(cur: Any, name: str, tag: str, version: int) -> bool:
    """Point ``tag`` of ``name`` at ``version`` inside the write transaction ``cur``; False when
    it already points there (no move is recorded)."""
    row = cur.execute(
        "SELECT version FROM prompt_tags WHERE name = ? AND tag = ? ORDER BY rowid DESC LIMIT 1", (name, tag)
    ).fetchone()
    if row is not None and row[0] == version:
        return False
    cur.execute(
        "INSERT INTO prompt_tags (name, tag, version, moved) VALUES (?, ?, ?, ?)", (name, tag, version, now())
    )
    return True


@recorded
def tag_prompt(prompt: str, tag: str) -> PromptVersion:
    """Point ``tag`` (a simple word such as ``"production"``) at the version ``prompt`` names
    (``"qa@3"``, or ``"qa:staging"`` to promote what another tag points at).

    A tag that pointed at another version moves; no version is ever deleted, and the store keeps
    each move with its time (``fm.tag_history(name)``).  Returns the tagged version.
    """
    check_tag(tag)
    version = get_prompt(prompt)
    with store().write() as cur:
        move_tag(cur, version.name, tag, version.version)
    return version


def tag_history(name: str | None = None) -> Any:
    """A DataFrame of every tag move (of ``name``, or of every prompt), oldest first: name, tag,
    id (the version it pointed at from then on), moved (UTC time)."""
    import pandas as pd

    db = store()
    if name is not None:
        _versions(db, check_name(name))
    sql = "SELECT name, tag, version, moved FROM prompt_tags"
    rows = db.query(
        sql + " WHERE name = ? ORDER BY rowid" if name else sql + " ORDER BY rowid", (name,) if name else ()
    )
    frame = pd.DataFrame(rows, columns=["name", "tag", "version", "moved"])
    frame.insert(2, "id", [f"{n}@{v}" for n, v in zip(frame["name"], frame["version"])])
    return frame.drop(columns="version")


def prompt_versions(name: str | None = None) -> Any:
    """A DataFrame of the saved versions of ``name`` (every prompt when None), oldest first, with
    the model each is pinned to and the tags that point at it now."""
    import pandas as pd

    db = store()
    if name is not None:
        _versions(db, check_name(name))
    sql = f"SELECT {_COLUMNS} FROM prompts"
    rows = db.query(
        sql + " WHERE name = ? ORDER BY version" if name else sql + " ORDER BY name, version",
        (name,) if name else (),
    )
    versions = [_version(r, f"'{r[0]}@{r[1]}'") for r in rows]
    tags: dict[tuple[str, int], list[str]] = {}
    for (n, t), v in sorted(current_tags(db, name).items()):
        tags.setdefault((n, v), []).append(t)
    columns = ["id", "name", "version", "template", "params", "model", "tags", "hash", "created"]
    return pd.DataFrame(
        [
            (
                v.id,
                v.name,
                v.version,
                v.template,
                v.params,
                v.model.describe() if v.model else None,
                tags.get((v.name, v.version), []),
                v.hash,
                v.created,
            )
            for v in versions
        ],
        columns=columns,
    )
