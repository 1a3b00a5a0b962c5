"""The base of every loaded model's handle, for the code below core that meets one.

The history writes a handle passed as an argument as its registry ``name``, and a replay check
compares the ``model_id@commit`` a call returned; neither may import core (torch), so both ask
``isinstance(value, Handle)``.  ``core.models.registry.ModelHandle`` (a model in this process)
is one; a handle of another kind (an API-served model) subclasses it too, and is then treated
alike with no other change.
"""

from __future__ import annotations


class Handle:
    """A loaded model as the session refers to it: its registry name, id and resolved commit."""

    name: str
    model_id: str
    commit: str | None
