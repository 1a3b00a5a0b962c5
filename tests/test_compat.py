"""fmwidgets/_compat.py: the only place with other libraries' private APIs, each with a fallback.

The grep reads every module's syntax tree: an import of a private module or name from another
package, or an ``obj._name`` / ``getattr(obj, "_name")`` whose ``_name`` fmwidgets never defines
itself, is another library's private API and must move to _compat.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fmwidgets
from fmwidgets import _compat

PACKAGE = Path(fmwidgets.__file__).parent
ATTR_CALLS = {"getattr", "hasattr", "setattr", "delattr"}


def _private(name: str) -> bool:
    # dunders and IPython's display protocol (_repr_html_, _ipython_display_...) are public
    return name.startswith("_") and not name.endswith("_")


def _defined_names(trees: list[ast.AST]) -> set[str]:
    """Every name fmwidgets defines itself: functions, classes, assigned names and attributes."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def private_uses(tree: ast.AST, own: set[str]) -> list[str]:
    """'line: what' for each use of another library's private API in one module's tree."""
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Import):
            what = next((a.name for a in node.names if any(map(_private, a.name.split(".")))), None)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "fmwidgets":
            module = node.module or ""
            if any(map(_private, module.split("."))):
                what = module
            elif any(_private(a.name) for a in node.names):
                what = f"{module}: " + ", ".join(a.name for a in node.names)
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            what = "." + node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ATTR_CALLS
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _private(node.args[1].value)
              and node.args[1].value not in own):
            what = f"{node.func.id}(…, {node.args[1].value!r})"
        elif isinstance(node, ast.keyword) and node.arg and _private(node.arg) and node.arg not in own:
            what = node.arg + "="
        if what:
            found.append(f"{node.lineno}: {what}")
    return found


def test_no_private_api_of_another_library_outside_compat():
    modules = {p: ast.parse(p.read_text()) for p in PACKAGE.rglob("*.py")}
    own = _defined_names([t for p, t in modules.items() if p.name != "_compat.py"])
    offenders = {
        str(p.relative_to(PACKAGE)): uses
        for p, t in modules.items() if p.name != "_compat.py" and (uses := private_uses(t, own))
    }
    assert offenders == {}, f"move these to fmwidgets/_compat.py: {offenders}"


@pytest.mark.parametrize("code", [
    "import _string",
    "from plotly.io._utils import x",
    "from transformers.utils import _private_helper",
    "kernel.manager._create_subshell()",
    "getattr(model, '_supports_sdpa', False)",
    "cached_file(x, _raise_exceptions_for_missing_entries=False)",
])
def test_the_grep_catches_each_kind_of_private_use(code):
    assert private_uses(ast.parse(code), own=set())


def test_the_grep_lets_own_and_protocol_names_pass():
    code = "self._lock = 1\nself._lock\nfig._repr_mimebundle_()\nfrom fmwidgets.x import y\nx.__dict__"
    assert private_uses(ast.parse(code), own={"_lock"}) == []


# --- fallbacks -------------------------------------------------------------------------------

FIELDS = ["name", "obj.attr", "d[key]", "d[0]", "0", "a.b[c].d", "x[ a ]", "", "a[b][c]"]
BAD_FIELDS = ["a..b", "a.", "a[b", "a[]", "a[b]c"]


@pytest.mark.parametrize("field", FIELDS)
def test_python_field_parser_matches_cpython(field):
    assert _compat._split_field_name_py(field) == _compat.split_field_name(field)


@pytest.mark.parametrize("field", BAD_FIELDS)
def test_python_field_parser_rejects_what_cpython_rejects(field):
    with pytest.raises(ValueError):
        _compat.split_field_name(field)
    with pytest.raises(ValueError):
        _compat._split_field_name_py(field)


@pytest.mark.parametrize("public", [False, True])
def test_plotly_renderers_are_activated_once_per_kernel(public, monkeypatch):
    from fmwidgets.display import static_plotly

    static_plotly()  # before plotly's first import, as fmwidgets' figures do
    import plotly.io as pio

    calls: list[str] = []
    monkeypatch.setattr(type(pio.renderers["notebook"]), "activate", lambda self: calls.append("notebook"))
    monkeypatch.setattr(_compat, "_ACTIVATED", set())
    if public:
        monkeypatch.setattr(_compat, "_major", lambda package: 99)  # a plotly without the private API
    before = pio.renderers.default
    try:
        pio.renderers.default = "plotly_mimetype+notebook"  # queues the notebook renderer again
        _compat.activate_plotly_renderers()
        _compat.activate_plotly_renderers()
    finally:
        pio.renderers.default = before
    assert calls == ["notebook"]  # plotly.js published once, however many figures follow


def test_attention_flags_read_the_model_and_fall_back_to_eager(bert, monkeypatch):
    from fmwidgets.core.embedding.embed import embed

    model = bert.model
    assert _compat.attn_implementation(model) == "eager" and _compat.supports_sdpa(model)
    fast = embed(["a short text", "another"], model=bert)
    monkeypatch.setattr(_compat, "_major", lambda package: 99)  # an untested future release
    assert _compat.attn_implementation(model) is None and not _compat.supports_sdpa(model)
    assert abs(embed(["a short text", "another"], model=bert) - fast).max() < 1e-5


def test_subshells_need_ipykernel_7_and_its_names(monkeypatch):
    class Kernel:
        _supports_kernel_subshells = True

    assert not _compat.kernel_subshells(object())
    assert not _compat.kernel_subshells(Kernel())  # no shell channel thread with a manager
    monkeypatch.setattr(_compat, "_major", lambda package: 8)
    assert not _compat.kernel_subshells(Kernel())


def test_datasets_fingerprint_names_the_data_and_falls_back_to_none(monkeypatch):
    import datasets

    one, two = datasets.Dataset.from_dict({"x": [1, 2]}), datasets.Dataset.from_dict({"x": [1, 3]})
    assert _compat.datasets_fingerprint(one) and _compat.datasets_fingerprint(one) != _compat.datasets_fingerprint(two)
    monkeypatch.setattr(_compat, "_major", lambda package: 99)
    assert _compat.datasets_fingerprint(one) is None
