"""A saved prompt as an application runs it: find the release by name and tag, then generate.

``fmwidgets.prompts.get`` (plain Python) and ``fm.run_prompt`` (a notebook, with the text
streaming) come here.  A release is named by a
prompt id (``"qa@3"``, ``"qa:production"``), or a name and a tag; the name alone is its newest
version.  Each lookup reads the store again, so an application that calls ``get`` per request
follows a tag moved by another kernel with no code change.  Running the version is
``versions.generate_version``: its pinned model, its parameters, ``fm.generate``'s generation.
"""

from __future__ import annotations

from typing import Any, Callable

from ...errors import BadArgumentError
from ...store import Store
from .generate import Generation
from .versions import (
    PromptVersion,
    check_name,
    check_tag,
    generate_version,
    get_prompt,
    is_prompt_id,
    latest_prompt,
)


def find_release(name: str, tag: str | None = None, db: Store | None = None) -> PromptVersion:
    """The version ``name`` names: an id (``"qa@3"``, ``"qa:production"``), ``name`` with
    ``tag``, or the newest version of ``name``."""
    if not isinstance(name, str):
        raise BadArgumentError(f"The prompt must be named by text such as 'qa', not {type(name).__name__}.")
    if is_prompt_id(name):
        if tag is not None:
            raise BadArgumentError(
                f"'{name}' already names a version; pass either an id ('qa@3', 'qa:production') "
                "or a name with tag= ('qa', tag='production'), not both."
            )
        return get_prompt(name, db)
    check_name(name)
    if tag is not None:
        return get_prompt(f"{name}:{check_tag(tag)}", db)
    return latest_prompt(name, db)


def generate_from_prompt(
    name: str, tag: str | None = None, *, on_text: Callable[[list[str]], None] | None = None, **values: Any
) -> Generation:
    """Run the saved prompt ``name`` (an id, or a name with ``tag``) on its pinned model, its
    ``{fields}`` filled from ``values``; see ``find_release``."""
    return generate_version(find_release(name, tag), values, on_text)
