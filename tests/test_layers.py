"""The layer rule, checked on the source of every file: core/ is headless and imports nothing above
it, and engines/ (which core calls), render/ (the looks core's results name) and provenance/ (the
history core's public calls enter) import nothing from core/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fmwidgets

PACKAGE = Path(fmwidgets.__file__).parent
# Display libraries, and the fmwidgets layers above core (the package itself: its __init__).
FORBIDDEN = ("IPython", "ipywidgets", "anywidget", "plotly", "fmwidgets.plots", "fmwidgets.widgets",
             "fmwidgets.display", "fmwidgets.magics", "fmwidgets.api")


def imported_modules(source: str, package: str = "fmwidgets.core") -> list[str]:
    """Absolute names of every module ``source`` (a module of ``package``) imports."""
    here = package.split(".")
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            # `from .. import x` imports the package's __init__ (or a submodule x of it)
            names += [module] if node.module else [f"{module}.{a.name}" if module != "fmwidgets"
                                                   else "fmwidgets" for a in node.names]
    return names


def bad_imports(source: str, package: str = "fmwidgets.core",
                forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    return [n for n in imported_modules(source, package)
            if n == "fmwidgets" or any(n == f or n.startswith(f + ".") for f in forbidden)]


def package_of(path: Path) -> str:
    """The package a module file belongs to (a package's __init__ belongs to the package itself)."""
    return ".".join(("fmwidgets", *path.parent.relative_to(PACKAGE).parts))


def bad_imports_under(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """{file: forbidden imports} for every module under fmwidgets/<folder>/, subpackages included."""
    return {str(p.relative_to(PACKAGE)): bad for p in sorted((PACKAGE / folder).rglob("*.py"))
            if (bad := bad_imports(p.read_text(encoding="utf-8"), package_of(p), forbidden))}


def test_core_imports_no_display_code_and_nothing_above_it():
    assert len(list((PACKAGE / "core").rglob("*.py"))) > 40  # every file, not the top folder only
    assert bad_imports_under("core", FORBIDDEN) == {}


# engines/ runs the work core hands it (the model loader and the exported script come in as arguments).
BELOW_CORE = ("fmwidgets.core", *FORBIDDEN)


def test_engines_import_nothing_from_core():
    assert bad_imports_under("engines", BELOW_CORE) == {}


# render/ holds the looks that core's result classes name (class X(Recorded, look=f)); it takes
# results by duck typing and may draw Plotly figures (importing plotly inside the function).
ABOVE_RENDER = tuple(f for f in BELOW_CORE if f not in ("plotly", "fmwidgets.display"))


def test_render_imports_nothing_from_core_or_above():
    assert bad_imports_under("render", ABOVE_RENDER) == {}


# provenance/ holds the history that core's public functions record into (@recorded), the replay
# script and its re-run: what it needs from above comes in as values (Entry.rerun, the tracked
# registry).  It may use IPython where IPython already runs (the notebook's namespace, capture).
ABOVE_PROVENANCE = tuple(f for f in BELOW_CORE if f not in ("IPython",))


def test_provenance_imports_nothing_from_core_or_above():
    assert len(list((PACKAGE / "provenance").rglob("*.py"))) >= 5
    assert bad_imports_under("provenance", ABOVE_PROVENANCE) == {}


# plots/ are pure functions (data in, Figure out) that widgets and magics show; widgets/ are
# called by the magics: neither reaches up to what shows or calls it.
ABOVE_PLOTS = ("IPython", "ipywidgets", "anywidget", "fmwidgets.widgets", "fmwidgets.magics", "fmwidgets.api")
ABOVE_WIDGETS = ("fmwidgets.magics", "fmwidgets.api")


def test_plots_and_widgets_import_nothing_above_them():
    assert bad_imports_under("plots", ABOVE_PLOTS) == {}
    assert bad_imports_under("widgets", ABOVE_WIDGETS) == {}


# The modules at the top of the package, each under the rule of the layer it belongs to: the
# shared ground that every layer (engines and provenance included) imports, the plain-Python
# prompts module (headless, as core), the display helpers (used by render), and the public API
# that adds display to core calls (below the magics).  __init__ is the entry point and may import
# anything.  A new top-level module must be put in one of these.
LAYERS_ABOVE_SHARED = ("fmwidgets.core", "fmwidgets.engines", "fmwidgets.provenance", "fmwidgets.render",
                       "fmwidgets.plots", "fmwidgets.widgets", "fmwidgets.display", "fmwidgets.magics",
                       "fmwidgets.api", "fmwidgets.prompts")
TOP_LEVEL = {
    **dict.fromkeys(["_compat", "_version", "config", "errors", "handles", "model_spec", "notices", "paths",
                     "records", "signatures", "store", "testing", "testing_server"], LAYERS_ABOVE_SHARED),
    "prompts": FORBIDDEN,
    "display": ABOVE_RENDER,
    "api": ("fmwidgets.magics",),
}


def test_every_top_level_module_keeps_to_its_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(TOP_LEVEL), "put each top-level module under a layer's rule in TOP_LEVEL"
    found = {name: bad for name, forbidden in TOP_LEVEL.items()
             if (bad := bad_imports((PACKAGE / f"{name}.py").read_text(encoding="utf-8"), "fmwidgets",
                                    forbidden))}
    assert found == {}
    assert bad_imports("from .core.models.registry import registry\nfrom .errors import FMError\n", "fmwidgets",
                       LAYERS_ABOVE_SHARED) == ["fmwidgets.core.models.registry"]  # the check can fail


def test_every_module_of_the_package_is_checked():
    checked = {"core", "engines", "render", "provenance", "plots", "widgets"}  # the folder rules above
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    # magics/ is the top layer (only IPython's entry point, __init__, imports it)
    assert folders - checked == {"magics"}, "a new folder needs a rule in this file"


def test_the_check_resolves_relative_imports_in_subpackages():
    path = PACKAGE / "engines" / "ray.py"
    assert package_of(path) == "fmwidgets.engines"
    assert package_of(PACKAGE / "core" / "training" / "__init__.py") == "fmwidgets.core.training"
    assert bad_imports("from ..core.models.loading import load\nfrom ..errors import EngineError\n",
                       package_of(path), BELOW_CORE) == ["fmwidgets.core.models.loading"]
    assert bad_imports("from ...widgets import live\nfrom ..models import registry\n",
                       "fmwidgets.core.training") == ["fmwidgets.widgets"]


def test_the_check_sees_the_arrows_it_forbids():
    # the check itself can fail: a core module with each kind of arrow, and two allowed ones
    source = ("import plotly.graph_objects as go\nfrom ..plots.figure import with_record\n"
              "from .. import __version__\nfrom IPython.display import display\n"
              "from .registry import get_model\nfrom ..records import Recorded\n")
    assert bad_imports(source) == ["plotly.graph_objects", "fmwidgets.plots.figure", "fmwidgets",
                                   "IPython.display"]


# HTML markup a core module would only write to build a display (tags of cards and tables).
MARKUP = re.compile(r"<(div|table|tr|td|th|span|pre|b|code|style|svg)[\s>/]", re.IGNORECASE)
DISPLAY_METHODS = ("_repr_html_", "_repr_markdown_", "_repr_svg_", "_repr_png_", "_display_data",
                   "_ipython_display_")


def display_code(source: str) -> list[str]:
    """The display methods a core module defines and the HTML markup its string literals hold."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in DISPLAY_METHODS:
            found.append(f"def {node.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MARKUP.search(node.value):
            found.append(f"markup {MARKUP.search(node.value).group(0)!r}")
    return found


def test_core_builds_no_html():
    # a result's look lives in fmwidgets/render/ (look=): core/ is data and records
    found = {str(p.relative_to(PACKAGE)): bad for p in sorted((PACKAGE / "core").rglob("*.py"))
             if (bad := display_code(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_html_check_sees_display_code():
    source = ("class A:\n    def _repr_html_(self):\n        return f'<div class=x>{self}</div>'\n"
              "    def _display_data(self):\n        return {}\n"
              "def plain():\n    return 'a < b and c > d', '<unk>', 'x <br>'\n")
    assert display_code(source) == ["def _repr_html_", "def _display_data", "markup '<div '"]
