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


# -- round 3: bounded results, interpreter internals and the environment by type, one sentence each

def one_sentence(info) -> str:
    message = str(info.value)
    assert "\n" not in message and len(message) < 400 and message.endswith("."), message
    return message


def test_a_decimal_that_would_print_millions_of_digits_is_refused_at_once(gpt2):
    import time
    from decimal import Decimal

    start = time.perf_counter()
    for value, spec in [("1e20000000", "f"), ("1e20000000", ".2f"), ("1e-20000000", "f"), ("1e999999999", "%"),
                        ("-1e999999", ">10,F")]:
        with pytest.raises(InterpolationError) as info:
            fill("{d:" + spec + "}", {"d": Decimal(value)})
        assert "digits" in one_sentence(info)
    assert fill("{d:.2f}", {"d": Decimal("1e-20000000")}) == "0.00"
    with pytest.raises(InterpolationError, match="digits"):
        fm.generate_df(pd.DataFrame({"d": [Decimal("1e20000000")]}), "{d:f}", model="gpt2", max_new_tokens=2)
    assert time.perf_counter() - start < 5
    assert fill("{d:.3e} {d}", {"d": Decimal("1e20000000")}) == "1.000e+20000000 1E+20000000"


class Huge:
    def __format__(self, spec):
        return "x" * (MAX_FIELD_LENGTH + 1)


def test_every_field_is_bounded_whatever_formats_it():
    with pytest.raises(InterpolationError, match="at most 1,000,000"):
        fill("{h}", {"h": Huge()})
    with pytest.raises(InterpolationError, match="at most 1,000,000"):
        fill("{s!r}", {"s": "y" * MAX_FIELD_LENGTH})
    assert len(fill("{s}", {"s": "y" * MAX_FIELD_LENGTH})) == MAX_FIELD_LENGTH


def _generator():
    yield 1


async def _coroutine():
    return 1


async def _async_generator():
    yield 1


@pytest.mark.parametrize("text,value", [
    ("{g.gi_frame.f_globals}", "generator"), ("{g}", "generator"), ("{rows}", "iterrows"),
    ("{c.cr_frame}", "coroutine"), ("{a.ag_frame}", "async generator"), ("{frame.f_locals}", "frame"),
    ("{tb.tb_frame}", "traceback"), ("{code.co_consts}", "code"), ("{box.f_globals}", "look-alike"),
    ("{box.frame}", "frame in an object"), ("{glob[os]}", "module globals"), ("{cell.cell_contents}", "cell"),
])
def test_interpreter_internals_are_refused_by_type(text, value, secret):
    import sys
    import types

    try:
        raise ValueError("x")
    except ValueError as exc:
        tb = exc.__traceback__
    coroutine = _coroutine()

    def outer():
        secret_here = secret
        return lambda: secret_here

    ns = {"g": _generator(), "rows": pd.DataFrame({"a": [1]}).iterrows(), "c": coroutine, "a": _async_generator(),
          "frame": sys._getframe(), "tb": tb, "code": outer.__code__, "glob": vars(sys.modules[__name__]),
          "box": SimpleNamespace(f_globals=globals(), frame=sys._getframe()),
          "cell": outer().__closure__[0]}
    try:
        with pytest.raises(InterpolationError) as info:
            fill(text, ns)
        assert secret not in one_sentence(info)
        assert isinstance(ns["cell"], types.CellType)
    finally:
        coroutine.close()


@pytest.mark.parametrize("text", ["{env}", "{env[HF_TOKEN]}", "{envb}", "{envb[HF_TOKEN]}", "{copy}",
                                  "{copy[HF_TOKEN]}", "{bcopy}", "{token}", "{holder.t}", "{pair}"])
def test_the_environment_in_every_form_is_refused(text, secret):
    ns = {"env": os.environ, "envb": os.environb, "copy": dict(os.environ), "bcopy": dict(os.environb),
          "token": os.environ["HF_TOKEN"], "holder": SimpleNamespace(t=f"my token is {secret}!"),
          "pair": ["HF_TOKEN", secret]}
    with pytest.raises(InterpolationError) as info:
        fill(text, ns)
    message = one_sentence(info)
    assert secret not in message and ("environment" in message)


@pytest.mark.parametrize("text,words", [
    ("{x!z}", "conversion '!z'"), ("{x:" * 3000 + "}" * 3000, "placeholders inside placeholders"),
    ("{x:{w:{w}}}", "placeholders inside placeholders"), ("{x:9" + "9" * 5000 + "}", "at most 1,000"),
    ("{bad.prop}", "Reading 'bad.prop' failed"), ("{bad[1]}", "Reading 'bad[1]' failed"),
    ("{big}", "cannot be written as text"), ("{bad!r}", "cannot be written as text"),
])
def test_odd_templates_are_one_sentence_each(text, words):
    class Bad:
        @property
        def prop(self):
            raise RuntimeError("boom")

        def __getitem__(self, key):
            raise RuntimeError("boom")

        def __repr__(self):
            raise RuntimeError("boom")

    with pytest.raises(InterpolationError) as info:
        fill(text, {"x": 1, "w": 5, "bad": Bad(), "big": 10**5000})
    assert words in one_sentence(info)
    if text == "{x!z}":
        with pytest.raises(InterpolationError, match="conversion"):
            fm.save_prompt("z", text)  # refused when saved, not at evaluation time


# -- the property: whatever the template and the values, a bounded text or an FMError

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from fmwidgets.core.prompting.template import MAX_FIELD_LENGTH  # noqa: E402
from fmwidgets.errors import FMError  # noqa: E402


class Raises:
    def __format__(self, spec):
        raise OverflowError("no")

    def __str__(self):
        raise MemoryError("no")

    @property
    def attr(self):
        raise ZeroDivisionError


def _values():
    import datetime
    import sys
    from decimal import Decimal

    frames = st.just(sys._getframe())
    return st.one_of(
        st.integers(), st.integers(min_value=10**4000, max_value=10**4400), st.floats(), st.complex_numbers(),
        st.decimals(allow_nan=True, allow_infinity=True), st.builds(lambda e: Decimal(f"1e{e}"),
                                                                   st.integers(-10**9, 10**9)),
        st.text(max_size=50), st.binary(max_size=20), st.none(), st.booleans(),
        st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
        st.datetimes(min_value=datetime.datetime(1, 1, 1)), frames, st.just(os.environ), st.just(os.environb),
        st.just(dict(os.environ)), st.builds(_generator), st.just(Raises()), st.just(Huge()), st.just(os),
        st.builds(SimpleNamespace, a=st.integers(), f_globals=st.just({}), attr=st.text(max_size=5)),
    )


_NAMES = st.sampled_from(["a", "b", "c", "w"])
_SPEC_CHARS = "<>=^+- #0123456789,_.eEfFgGn%xXobcds{}wabz:!"


@st.composite
def _placeholder(draw, depth=0):
    field = draw(_NAMES)
    for _ in range(draw(st.integers(0, 2))):
        field += draw(st.sampled_from([".a", ".attr", ".f_globals", ".gi_frame", ".real", "[0]", "[a]", "[HF_TOKEN]",
                                       "._x", ".__class__"]))
    conversion = draw(st.sampled_from(["", "", "!r", "!s", "!a", "!z", "!"]))
    spec = ""
    if draw(st.booleans()):
        spec = ":" + draw(st.text(alphabet=_SPEC_CHARS, max_size=12))
        if depth < 3 and draw(st.booleans()):
            spec += draw(_placeholder(depth=depth + 1))
    return "{" + field + conversion + spec + "}"


_TEMPLATES = st.one_of(
    st.lists(st.one_of(st.text(alphabet="ab {}:!.[]", max_size=6), _placeholder()), max_size=5).map("".join),
    st.text(alphabet="{}:!.[]abwz0123456789fe%<>", max_size=40),
)


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_TEMPLATES, values=st.fixed_dictionaries({"a": _values(), "b": _values(), "c": _values(),
                                                          "w": st.integers(-5, 2000)}))
def test_the_filler_gives_a_bounded_text_or_one_fm_error(template, values):
    os.environ["HF_TOKEN"] = "hf_property_test_secret"
    try:
        text = fill(template, values)
    except FMError as exc:
        assert "\n" not in str(exc) and "hf_property_test_secret" not in str(exc)
        return
    finally:
        del os.environ["HF_TOKEN"]
    assert isinstance(text, str)
    assert len(text) <= len(template) + MAX_FIELD_LENGTH * template.count("{")
    assert "hf_property_test_secret" not in text
