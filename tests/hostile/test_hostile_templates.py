"""Prompt templates from a hostile or careless cell: no secrets read, no kernel-killing formats.

Every place a template is filled (``%%fm prompt``, ``generate_df`` templates, ``compare``
variants) goes through ``core.prompting.template.fill``, so the refusals are tested there and once through
each public entry point, which must refuse before any model work starts.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.prompting.template import MAX_FORMAT_WIDTH, fill
from fmwidgets.errors import InterpolationError


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_SECRET_VALUE")
    return "hf_SECRET_VALUE"


@pytest.mark.parametrize("text", [
    "{os.environ[HF_TOKEN]}", "{os}", "{os.path.sep}", "{environ[HF_TOKEN]}", "{holder.mod.environ}",
    "{sys.modules[os]}", "{holder.env[HF_TOKEN]}",
])
def test_modules_and_the_environment_are_refused(text, secret):
    ns = {"os": os, "sys": sys, "environ": os.environ,
          "holder": SimpleNamespace(mod=os, env=os.environ)}
    with pytest.raises(InterpolationError) as info:
        fill(text, ns)
    message = str(info.value)
    assert secret not in message
    assert "module" in message or "environment" in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


@pytest.mark.parametrize("text", ["{__builtins__}", "{__builtins__.open}", "{obj.__dict__}", "{obj._x}"])
def test_special_names_and_private_attributes_are_refused(text):
    import builtins

    with pytest.raises(InterpolationError):
        fill(text, {"__builtins__": builtins, "obj": SimpleNamespace(_x=1)})


def test_ordinary_placeholders_still_work():
    ns = {"name": "Ada", "obj": SimpleNamespace(city="Paris"), "d": {"k": "v"}, "x": 3.14159, "w": 8}
    assert fill("{name} {obj.city} {d[k]} {x:.2f} {x:>{w}.1f} {name:*^9}", ns) == \
        "Ada Paris v 3.14      3.1 ***Ada***"


@pytest.mark.parametrize("spec", ["999999999", ".999999999f", "0>99999999999", f"{MAX_FORMAT_WIDTH + 1}",
                                  "{w}", ",.{w}f"])
def test_huge_widths_and_precisions_are_refused_before_formatting(spec):
    with pytest.raises(InterpolationError, match="at most 1,000"):
        fill("{x:" + spec + "}", {"x": 1.5, "w": 999_999_999})


def test_a_width_at_the_bound_is_allowed():
    assert len(fill(f"{{x:{MAX_FORMAT_WIDTH}}}", {"x": "a"})) == MAX_FORMAT_WIDTH


def test_every_public_filler_refuses_before_model_work(gpt2, secret):
    """prompt (fm.generate with variables), generate_df, compare variants: one sentence, no model run."""
    calls = []
    hook = gpt2.model.register_forward_hook(lambda *a: calls.append(1))
    ns = {"os": os, "x": 1}
    try:
        with pytest.raises(InterpolationError, match="module 'os'"):
            fm.generate("{os.environ[HF_TOKEN]}", model="gpt2", variables=ns, max_new_tokens=2)
        with pytest.raises(InterpolationError, match="at most 1,000"):
            fm.generate("{x:999999999}", model="gpt2", variables=ns, max_new_tokens=2)
        with pytest.raises(InterpolationError, match="at most 1,000"):
            fm.generate_df(pd.DataFrame({"x": [1, 2]}), "{x:.999999999f}", model="gpt2", max_new_tokens=2)
        with pytest.raises(InterpolationError, match="module 'os'"):
            fm.compare(["a {x}", "b {os.environ[HF_TOKEN]}"], model="gpt2", variables=ns, max_new_tokens=2)
    finally:
        hook.remove()
    assert calls == []


def test_the_prompt_magic_refuses_a_huge_width(gpt2, ip):
    ip.user_ns["x"] = 1
    with pytest.raises(InterpolationError, match="at most 1,000"):
        ip.run_cell_magic("fm", "prompt --model gpt2 --no-stream --max-new-tokens 2", "{x:999999999}")
