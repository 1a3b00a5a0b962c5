"""Saved prompts from plain Python: what an application calls, with no notebook around it.

    from fmwidgets import prompts
    p = prompts.get("qa", tag="production", store="path/to/.fmwidgets/store.sqlite")
    p.render(question="...")     # the prompt text, filled by the notebook's safe templating
    p.run(question="...")        # the generated text, on the model the version is pinned to

``get`` reads the store each time it is called, so an application that calls it per request
(or per batch) picks up a tag moved in a notebook (``fm.tag_prompt("qa@4", "production")``)
with no change to its code.  Importing this module imports no IPython, ipywidgets or plotly;
``p.run`` imports torch and transformers when it first loads the model.
"""

from __future__ import annotations

import os

from .core.prompting.releases import find_release
from .core.prompting.versions import PromptVersion
from .store import store as _open

__all__ = ["PromptVersion", "get"]


def get(name: str, tag: str | None = None, store: str | os.PathLike | None = None) -> PromptVersion:
    """The saved version ``name`` names: ``"qa@3"``, ``"qa:production"``, ``"qa"`` with
    ``tag="production"``, or ``"qa"`` alone for its newest version.

    ``store`` is the path of the store file (default: ``FM.store_path``, the
    ``.fmwidgets/store.sqlite`` of the working folder).  The version has ``template``,
    ``params``, ``model`` (a ``ModelSpec``), ``render(**values)`` and ``run(**values)``.
    """
    return find_release(name, tag, _open(store) if store is not None else None)
