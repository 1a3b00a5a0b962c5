"""Prompt versions and tags as one readable file, to share through git: export and import.

``fm.export_prompts("prompts.yaml")`` writes every version (template, parameters, pinned model,
time) and the current tags; ``fm.import_prompts("prompts.yaml")`` reads them into another
store.  YAML (PyYAML comes with transformers) keeps a multi-line template as a block of lines,
so a diff shows the lines that changed; a ``.json`` name writes JSON instead.  Nothing secret is
in it: a model is its spec (an API model's key is the *name* of its environment variable).

Import keeps version numbers.  It checks the whole file first and changes nothing when any part
is wrong: a file that is not ours, or a version that holds other content in this store than in
the file, is one sentence.  Tags in the file are moved to where the file says (each move is
recorded, as with ``fm.tag_prompt``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...errors import BadArgumentError, DataError
from ...model_spec import ModelSpec
from ...provenance.history import recorded
from ...store import store
from ..targets import writable_files
from .generate import check_prompt
from .template import fields
from .versions import (
    PromptVersion,
    check_name,
    check_params,
    check_tag,
    content_hash,
    current_tags,
    move_tag,
)

FORMAT = "fmwidgets prompts 1"  # the first key of every file written here
_VERSION_KEYS = {"version", "template", "params", "model", "created"}


def _yaml_text(data: dict) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Multi-line text as a ``|`` block (PyYAML picks a quoted style where a block cannot
        hold the text exactly, e.g. trailing spaces)."""

    def text(dumper: yaml.SafeDumper, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


@recorded
def export_prompts(path: str | os.PathLike, names: str | list[str] | None = None) -> str:
    """Write the versions and current tags of ``names`` (every saved prompt when None) to
    ``path`` (YAML, or JSON for a ``.json`` name), replacing it; returns the path."""
    db = store()
    saved = [r[0] for r in db.query("SELECT DISTINCT name FROM prompts ORDER BY name")]
    if isinstance(names, str):
        names = [names]
    if names is not None:
        unknown = [n for n in names if n not in saved]
        if unknown:
            raise DataError(
                f"No prompt named {', '.join(map(repr, unknown))} is saved; the saved prompts are "
                f"{', '.join(saved) or 'none'}."
            )
    tags = current_tags(db)
    prompts: dict[str, Any] = {}
    for name in names if names is not None else saved:
        rows = db.query(
            "SELECT version, template, params, created, model FROM prompts WHERE name = ? ORDER BY version",
            (name,),
        )
        prompts[name] = {
            "tags": {t: v for (n, t), v in sorted(tags.items()) if n == name},
            "versions": [
                {
                    "version": v,
                    "template": template,
                    "params": json.loads(params),
                    **({"model": json.loads(model)} if model else {}),
                    "created": created,
                }
                for v, template, params, created, model in rows
            ],
        }
    data = {"fmwidgets": FORMAT, "prompts": prompts}
    target = Path(os.path.expanduser(os.fspath(path)))
    text = (
        json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if target.suffix == ".json"
        else _yaml_text(data)
    )
    partial = target.with_name(target.name + ".partial")
    try:
        writable_files([target], "The prompts file", overwrite=True)
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)  # a reader never sees half a file
    except OSError as exc:
        raise BadArgumentError(
            f"The prompts file '{path}' cannot be written ({exc.strerror or type(exc).__name__}); "
            "pick a folder you can write to."
        ) from exc
    return str(target)


def _read(path: Path) -> Any:
    """The file's data; a DataError when it is missing or not YAML / JSON at all."""
    try:
        if not path.is_file():
            raise DataError(f"There is no file '{path}'; give the path that fm.export_prompts wrote.")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(
            f"The file '{path}' cannot be read ({exc.strerror or type(exc).__name__}); give the path "
            "that fm.export_prompts wrote."
        ) from exc
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise _not_ours(path, "it is not valid JSON") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _not_ours(path, "it is not valid YAML") from exc


def _not_ours(path: Path, why: str) -> DataError:
    return DataError(
        f"The file '{path}' is not a prompts file that fm.export_prompts wrote ({why}); nothing was imported."
    )


def _versions_in(path: Path, data: Any) -> tuple[list[PromptVersion], dict[tuple[str, str], int]]:
    """Every version and tag of the file, each checked; the first wrong part is one sentence."""
    if (
        not isinstance(data, dict)
        or data.get("fmwidgets") != FORMAT
        or not isinstance(data.get("prompts"), dict)
    ):
        raise _not_ours(path, f"it does not start with fmwidgets: {FORMAT} and a prompts mapping")
    versions, tags = [], {}
    for name, entry in data["prompts"].items():
        check_name(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("versions"), list):
            raise _not_ours(path, f"prompt '{name}' has no list of versions")
        for item in entry["versions"]:
            where = f"a version of '{name}' in '{path}'"
            if not isinstance(item, dict) or not {"version", "template"} <= set(item) <= _VERSION_KEYS:
                raise _not_ours(path, f"{where} is not a mapping of {', '.join(sorted(_VERSION_KEYS))}")
            number, template, params = item["version"], item["template"], item.get("params") or {}
            if (
                isinstance(number, bool)
                or not isinstance(number, int)
                or number < 1
                or not isinstance(params, dict)
            ):
                raise _not_ours(path, f"{where} has version {number!r} or params that are not a mapping")
            check_prompt(template, what=f"template of {name}@{number}")
            fields(template)
            params = check_params(params)
            spec = ModelSpec.from_dict(item["model"], f"{name}@{number}") if item.get("model") else None
            created = str(item.get("created") or "")
            versions.append(
                PromptVersion(
                    name, number, template, params, content_hash(template, params, spec), created, spec
                )
            )
        for tag, number in (entry.get("tags") or {}).items():
            check_tag(tag)
            if not any(v.name == name and v.version == number for v in versions):
                raise _not_ours(
                    path, f"tag '{tag}' of '{name}' points at {name}@{number}, which the file does not hold"
                )
            tags[(name, tag)] = number
    seen: dict[tuple[str, Any], str] = {}
    for v in versions:
        for key in ((v.name, v.version), (v.name, v.hash)):
            if key in seen:
                raise _not_ours(path, f"{v.id} repeats {seen[key]}")
            seen[key] = v.id
    return versions, tags


@recorded
def import_prompts(path: str | os.PathLike) -> Any:
    """Read a file that ``fm.export_prompts`` wrote into this store, keeping version numbers.

    A version already here with the same content is left as it is; a version number that holds
    other content here (or content that is another version here) refuses the whole file in one
    sentence, changing nothing.  Tags move to where the file says.  Returns a DataFrame: one row
    per version and tag of the file (``what``, ``id``, ``status``).
    """
    import pandas as pd

    if not isinstance(path, (str, os.PathLike)):
        raise BadArgumentError(f"path must be a file path, not {type(path).__name__}.")
    source = Path(os.path.expanduser(os.fspath(path)))
    versions, tags = _versions_in(source, _read(source))
    report = []
    with store().write() as cur:
        clashes = []
        for v in versions:
            here = cur.execute(
                "SELECT version, hash FROM prompts WHERE name = ? AND (version = ? OR hash = ?)",
                (v.name, v.version, v.hash),
            ).fetchall()
            if any(row != (v.version, v.hash) for row in here):
                clashes.append(v.id)
            elif not here:
                cur.execute(
                    "INSERT INTO prompts (name, version, template, params, hash, created, model) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        v.name,
                        v.version,
                        v.template,
                        json.dumps(v.params),
                        v.hash,
                        v.created,
                        json.dumps(v.model.to_dict()) if v.model else None,
                    ),
                )
            report.append(("version", v.id, "already here" if here else "added"))
        if clashes:  # raising rolls the transaction back: the store is as it was
            more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
            raise DataError(
                f"The file '{source}' does not match this store: {clashes[0]}{more} holds other "
                "text, parameters or model here, or the same as another version number; nothing "
                "was imported (rename the prompt in the file, or import it into another store)."
            )
        for (name, tag), number in tags.items():
            moved = move_tag(cur, name, tag, number)
            report.append(("tag", f"{name}:{tag}", f"moved to {name}@{number}" if moved else "already here"))
    return pd.DataFrame(report, columns=["what", "id", "status"])
