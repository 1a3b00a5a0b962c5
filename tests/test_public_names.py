"""One public function per feature: each ``fm.`` name is defined once (README, "Layout").

A headless core function that a public one wraps has a name of its own (``generate_text`` under
``fm.generate``), so a reader never has to guess which of two same-named functions runs.
Checked on the source (ast), so nothing heavy is imported.
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import fmwidgets

PACKAGE = Path(fmwidgets.__file__).parent


@functools.cache
def defined_functions(module_path: Path) -> set[str]:
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def module_file(module: str) -> Path:
    path = PACKAGE.joinpath(*module.lstrip(".").split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_no_public_function_has_a_same_named_twin_elsewhere():
    # the layers a public function can wrap or be wrapped by (magics name their handlers after
    # the subcommand, render/ its functions after the result: neither is a second fm. function)
    modules = sorted([*(PACKAGE / "core").rglob("*.py"), *(PACKAGE / "widgets").glob("*.py")])
    twins = {}
    for name, home in fmwidgets._LAZY.items():
        if name not in defined_functions(module_file(home)):
            continue
        others = [
            str(p.relative_to(PACKAGE)) for p in modules if p != module_file(home) and name in defined_functions(p)
        ]
        if others:
            twins[name] = others
    assert twins == {}


def test_the_public_functions_show_their_core_parameters():
    # help(fm.generate) and the history list generate_text's keywords, plus the display's own
    params = inspect.signature(fmwidgets.generate).parameters
    assert fmwidgets.generate.__name__ == "generate"
    assert {"max_new_tokens", "temperature", "stream", "keep"} <= set(params) and "on_text" not in params
    progress = inspect.signature(fmwidgets.evaluate).parameters["progress"]
    assert progress.annotation in (bool | None, "bool | None")


def takes_model(name: str, home: str) -> bool:
    """Whether public function (or class) ``name``, defined in ``home``, has a ``model`` parameter."""
    for node in ast.parse(module_file(home).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        elif not (isinstance(node, ast.FunctionDef) and node.name == name):
            continue
        if node is not None:
            return "model" in [a.arg for a in node.args.args + node.args.kwonlyargs]
    return False


def test_the_readme_says_what_each_call_taking_a_model_does_on_an_api_model():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### On an API-served model", 1)[1].split("\n### ", 1)[0]
    listed = [name for name, home in fmwidgets._LAZY.items() if takes_model(name, home)]
    assert len(listed) > 20  # the check reads the definitions (not a list kept by hand)
    assert [name for name in listed if f"fm.{name}" not in section] == []
