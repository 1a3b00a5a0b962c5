"""fm.load shows no transformers progress bars or fallback notes, and still raises its errors."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import fmwidgets as fm
from fmwidgets.testing import tiny_clip, tiny_vit
fm.load(str(tiny_clip()), as_="c")
fm.load(str(tiny_vit()), as_="v")
print("LOADED")
"""


def test_loading_a_model_prints_no_bars_or_library_notes():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert "LOADED" in proc.stdout, proc.stderr
    # neither building the tiny CLIP and ViT folders (04-embeddings, 08-...) nor loading them says
    # "requires torchvision (not installed); falling back to ...ImageProcessorPil"
    assert "torchvision" not in proc.stderr, proc.stderr
    loading = proc.stderr.split("Writing model shards")[-1]  # the builders write the folders first
    assert "Loading weights" not in loading, proc.stderr


def test_a_failed_load_still_raises_and_restores_the_library_settings(tmp_path):
    import pytest
    from transformers.utils import logging as hf_logging

    import fmwidgets as fm
    from fmwidgets.errors import FMError

    level = hf_logging.get_verbosity()
    with pytest.raises(FMError):
        fm.load(str(tmp_path))  # an empty folder is no model
    assert hf_logging.get_verbosity() == level and hf_logging.is_progress_bar_enabled()
