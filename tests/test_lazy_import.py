"""`import fmwidgets` and `%load_ext fmwidgets` must stay cheap: no torch, transformers, plotly..."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "datasets", "peft", "plotly", "sklearn", "ipywidgets", "anywidget")
SDKS = ("openai", "anthropic")  # the API extra: imported on an API model's first request


def _heavy_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('HEAVY:', *[m for m in {HEAVY!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("HEAVY:"), proc.stdout
    return last.split()[1:]


def test_import_fmwidgets_imports_nothing_heavy():
    assert _heavy_after("import fmwidgets") == []


def test_plain_python_prompts_import_nothing_heavy_and_no_notebook_parts():
    # an application's `from fmwidgets import prompts`; p.run() imports torch when it loads a model
    heavy = _heavy_after("from fmwidgets import prompts\nimport sys\nassert 'IPython' not in sys.modules")
    assert heavy == []


def test_load_ext_imports_nothing_heavy():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "sh = InteractiveShell.instance()\n"
        "sh.extension_manager.load_extension('fmwidgets')\n"
        "sh.run_line_magic('fm', 'help')\n"
    )
    assert _heavy_after(code) == []


def test_api_sdks_are_imported_only_when_an_api_model_is_used():
    probe = (
        "import fmwidgets as fm, sys\n"
        "fm.load, fm.generate, fm.set_api_key, fm.RemoteHandle, fm.evaluate\n"
        "from fmwidgets.core.models.remote import generation\n"
        f"print('SDKS:', *[m for m in {SDKS!r} if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "SDKS:"


def test_public_names_resolve_on_first_use():
    import fmwidgets as fm

    assert callable(fm.load) and fm.load.__module__ == "fmwidgets.core.models.loading"
    assert "load" in dir(fm)


def test_the_lazy_names_are_read_from_the_type_checking_block():
    """Editors see the lazy API through `if TYPE_CHECKING:` imports, and _LAZY is read from them."""
    import fmwidgets as fm

    assert fm._LAZY["generate"] == ".api" and fm._LAZY["ModelHandle"] == ".core.models.registry"
    assert set(fm._LAZY) <= set(fm.__all__) and "_lazy_names" not in fm._LAZY
