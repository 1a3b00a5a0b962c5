"""Prompt placeholders are filled from variables by lookup only: nothing is evaluated."""

from types import SimpleNamespace

import pytest

from fmwidgets.core.prompting.template import escape, fields, fill
from fmwidgets.errors import InterpolationError


def test_names_attributes_items_and_formats_are_filled():
    ns = {"name": "Ada", "obj": SimpleNamespace(city="Paris"), "d": {"k": "v", 0: "zero"}, "x": 3.14159}
    out = fill("{name} in {obj.city}: {d[k]} {d[0]} {x:.2f} {name!r}", ns)
    assert out == "Ada in Paris: v zero 3.14 'Ada'"


def test_double_braces_stay_literal_and_escape_round_trips():
    assert fill("json: {{\"a\": {n}}}", {"n": 1}) == 'json: {"a": 1}'
    text = "f(x) = {x} and {{y}}"
    assert fill(escape(text), {}) == text


def test_unknown_name_is_an_error_that_names_it():
    with pytest.raises(InterpolationError, match="'missing'"):
        fill("hello {missing}", {})


@pytest.mark.parametrize("bad", ["{obj.__class__}", "{obj._secret}", "{obj.__init__.__globals__}"])
def test_private_and_dunder_attributes_are_refused(bad):
    obj = SimpleNamespace(_secret="s")
    with pytest.raises(InterpolationError, match="private attribute"):
        fill(bad, {"obj": obj})


def test_expressions_are_not_evaluated():
    calls = []

    class Spy:
        def __getattr__(self, name):  # would be reached only by attribute access, never by eval
            calls.append(name)
            raise AttributeError(name)

    for text in ["{1+1}", "{__import__('os').getcwd()}", "{spy.x()}", "{len(spy)}"]:
        with pytest.raises(InterpolationError):
            fill(text, {"spy": Spy(), "len": len})
    assert calls == ["x()"]  # a name lookup, not a call: the attribute "x()" does not exist


def test_functions_are_not_called():
    with pytest.raises(InterpolationError, match="function"):
        fill("{s.upper}", {"s": "abc"})


def test_missing_item_and_bad_braces_are_one_sentence_errors():
    with pytest.raises(InterpolationError, match=r"no item \['nope'\]"):
        fill("{d[nope]}", {"d": {}})
    with pytest.raises(InterpolationError, match="unmatched brace"):
        fill("open { brace", {})
    with pytest.raises(InterpolationError, match="no variable name"):
        fill("positional {}", {})


def test_fields_lists_top_level_names_once():
    assert fields("{a} {b.c} {a} {d[0]} {{e}}") == ["a", "b", "d"]


def test_fields_lists_the_names_in_a_format_spec_which_rows_must_have_too():
    import pandas as pd

    from fmwidgets.core.prompting.generate_df import fill_rows
    from fmwidgets.errors import DataError

    assert fields("{x:>{w}} {y:{w}.{p}f}") == ["x", "w", "y", "p"]
    rows = pd.DataFrame({"x": ["a", "b"], "w": pd.Series([3, None], dtype=object)})
    with pytest.raises(DataError, match="has no column 'y', 'p'"):
        fill_rows(rows, "{x:>{w}} {y:{w}.{p}f}")
    with pytest.warns(UserWarning, match="Skipped 1 of 2 rows with an empty"):  # the width is a cell too
        assert fill_rows(rows, "[{x:>{w}}]") == (["[  a]"], [0])
