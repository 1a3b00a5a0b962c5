"""signatures.expands / over: one definition of each keyword, shown in the signature."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import pytest

from fmwidgets.signatures import expands, over, settings_from


@dataclass(frozen=True)
class Knobs:
    size: int = 3
    colour: str | None = None
    rest: dict = field(default_factory=dict, metadata={"rest": "more"})


@expands(Knobs, "knobs", size=5)
def run(text: str, *, knobs: Knobs, loud: bool = False):
    return text, knobs, loud


def test_the_fields_are_keywords_where_the_object_stood_and_the_call_packs_them():
    params = inspect.signature(run).parameters
    assert list(params) == ["text", "size", "colour", "loud", "more"]
    assert params["size"].default == 5 and params["more"].kind is inspect.Parameter.VAR_KEYWORD
    assert run("a", colour="red", loud=True, spin=2) == ("a", Knobs(5, "red", {"spin": 2}), True)
    ready = Knobs(1)
    assert run("a", knobs=ready) == ("a", ready, False)  # a ready object passes through
    with pytest.raises(TypeError):
        run("a", 1)  # keywords only, as the signature says


def test_settings_from_takes_the_fields_and_leaves_the_rest_to_the_rest_field():
    keywords = {"size": 2, "spin": 1}
    assert settings_from(Knobs, keywords) == Knobs(2, None, {"spin": 1}) and keywords == {}


def test_over_shows_the_core_signature_with_the_public_display_keywords():
    def core(x, *, n=1, progress=None):
        return x

    @over(core)
    def public(x, *, show=True, **kw):
        return core(x, **kw)

    assert list(inspect.signature(public).parameters) == ["x", "show", "n"]
