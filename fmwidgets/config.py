"""User settings, as a traitlets ``Configurable`` so that ``%config FM.device = "cpu"`` works.

The class is named ``FM`` because traitlets uses the class name as the section name in
``%config`` and in ``ipython_config.py``.  There is one instance per process (``settings()``);
the magics register it with IPython's config manager so ``%config`` edits that same object.
"""

from __future__ import annotations

from traitlets import Bool, Dict, Float, Int, Unicode
from traitlets.config import Configurable


class FM(Configurable):
    """fmwidgets settings (change with ``%config FM.<name> = value``)."""

    default_model = Unicode(
        "", help="Model that `%fm load` with no argument loads; empty = the embedded MiniLM."
    ).tag(config=True)
    device = Unicode(
        "auto", help="Device for new models: auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps."
    ).tag(config=True)
    dtype = Unicode("auto", help="Weights dtype for new models: auto, float32, float16, bfloat16.").tag(
        config=True
    )
    stream_interval = Float(0.1, help="Seconds between two updates of streamed text in the notebook.").tag(
        config=True
    )
    max_attention_tokens = Int(512, help="Longest input the attention views accept before truncating.").tag(
        config=True
    )
    store_path = Unicode(
        ".fmwidgets/store.sqlite",
        help="SQLite file for prompt versions, evaluations, ratings and the generation cache "
        "(relative to the working directory).",
    ).tag(config=True)
    engine = Unicode("local", help="Where batch work runs by default: local (this kernel) or ray.").tag(
        config=True
    )
    ray_address = Unicode(
        "",
        help="Ray cluster for engine='ray' (ray://HOST:10001 or HOST:6379); empty = RAY_ADDRESS, "
        "else a local Ray started for the kernel.",
    ).tag(config=True)
    snapshot_dir = Unicode(
        "",
        help="Folder where DataFrames passed to fmwidgets calls are saved as Parquet (once per "
        "content), so fm.repro() can rebuild them; empty = off.",
    ).tag(config=True)
    prices = Dict(
        help="Prices of API-served models in US dollars per million tokens, keyed by the model id "
        "without its provider prefix: {'gpt-4o-mini': (0.15, 0.60)} (input, output), or (input, "
        "output, cached input). A model without a price has cost NaN, never $0.",
    ).tag(config=True)
    show_record = Bool(False, help="Show the one-line run record under every displayed result.").tag(
        config=True
    )


_settings: FM | None = None


def settings() -> FM:
    """The process-wide settings object (created on first use)."""
    global _settings
    if _settings is None:
        _settings = FM()
    return _settings


def attach(shell) -> FM:
    """Let IPython's ``%config FM.x = ...`` and ipython_config.py reach the settings object."""
    fm = settings()
    fm.parent = shell
    fm.update_config(shell.config)
    if fm not in shell.configurables:
        shell.configurables.append(fm)
    return fm
