"""Every result class that shows itself names its look (class X(Recorded, look=f))."""

from __future__ import annotations

import importlib
import pkgutil

import fmwidgets
from fmwidgets.render import Recorded, Shown


def subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]


def test_every_shown_class_names_a_look_in_render():
    for module in pkgutil.walk_packages(fmwidgets.__path__, "fmwidgets."):
        if ".magics" not in module.name and "testing_server" not in module.name:
            importlib.import_module(module.name)
    classes = [c for c in subclasses(Shown) if c.__module__.startswith("fmwidgets.") and c is not Recorded]
    assert len(classes) > 20
    missing = {c.__qualname__: c.__module__ for c in classes if getattr(c, "_look", None) is None}
    assert missing == {}
    assert all(c._look.__module__.startswith("fmwidgets.render.") for c in classes)
