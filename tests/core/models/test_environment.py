"""fm.environment() and fm.repro(): versions, devices, models; replays that run and pin revisions."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError
from fmwidgets.provenance.history import entries as history

REPO = Path(__file__).resolve().parents[3]
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_environment_lists_versions_devices_and_models(gpt2):
    env = fm.environment()
    assert env.versions["fmwidgets"] == fm.__version__
    assert env.versions["python"] == platform.python_version()
    assert env.versions["torch"] == metadata.version("torch")
    assert env.versions["transformers"] == metadata.version("transformers")
    import torch

    assert env.devices["cuda"] == torch.cuda.is_available()
    assert env.devices["cpu_count"] == os.cpu_count()
    [row] = env.models
    assert row["name"] == "gpt2" and row["commit"] == gpt2.commit and row["commit"].startswith("sha256:")
    text = repr(env)
    assert "transformers" in text and gpt2.commit in text
    data, meta = env._repr_mimebundle_()
    assert meta["fmwidgets"]["kind"] == "environment"
    assert meta["fmwidgets"]["versions"]["torch"] == metadata.version("torch")
    assert gpt2.commit in data["text/html"]


def test_environment_html_escapes_model_names(tiny_paths):
    fm.load(str(tiny_paths["gpt2"]), as_="<img src=x onerror=alert(1)>")
    html = fm.environment()._repr_mimebundle_()[0]["text/html"]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_environment_is_recorded_and_repro_is_not():
    fm.environment()
    fm.repro()
    assert [e.code for e in history] == ["fm.environment()"]


def _hub_cache(root: Path, tiny: Path, repo_id: str = "fmtest/tiny-gpt2") -> Path:
    """A Hugging Face cache holding ``repo_id`` at FAKE_COMMIT, laid out as the hub client does."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / FAKE_COMMIT
    shutil.copytree(tiny, snapshot, ignore=shutil.ignore_patterns("_bpe"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(FAKE_COMMIT)
    return root


@pytest.fixture
def hub_cache(tmp_path, tiny_paths, monkeypatch):
    """An offline hub cache with one tiny model, used through the normal hub loading code."""
    from huggingface_hub import constants

    cache = _hub_cache(tmp_path / "hub", tiny_paths["gpt2"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_repro_pins_hub_revision_of_python_load(hub_cache):
    handle = fm.load("fmtest/tiny-gpt2", as_="tiny")
    assert handle.source == "hub" and handle.commit == FAKE_COMMIT
    code = fm.repro().code
    assert f"fm.load(model='fmtest/tiny-gpt2', as_='tiny', revision='{FAKE_COMMIT}')" in code


def test_repro_keeps_an_explicit_revision(hub_cache):
    fm.load("fmtest/tiny-gpt2", revision="main")
    assert "fm.load(model='fmtest/tiny-gpt2', revision='main')" in fm.repro().code


def test_repro_notes_local_weights_hash(tiny_paths):
    handle = fm.load(str(tiny_paths["gpt2"]), as_="local")
    code = fm.repro().code
    assert f"# local weights {handle.commit}" in code
    assert history[0].models["local"] == {"id": handle.model_id, "source": "local", "commit": handle.commit}


def test_repro_script_runs_and_loads_the_pinned_weights(hub_cache, tmp_path):
    fm.load("fmtest/tiny-gpt2", as_="tiny")
    fm.environment()
    script = fm.repro(out=tmp_path / "replay.py").path
    assert script.read_text().startswith("# fmwidgets session replay")
    probe = (
        "import runpy; ns = runpy.run_path(%r)\n"
        "from fmwidgets.core.models.registry import registry\n"
        "h = registry.get('tiny'); print(h.commit, h.source)" % str(script)
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(hub_cache), PYTHONPATH=str(REPO))
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [FAKE_COMMIT, "hub"]


def test_repro_writes_a_valid_notebook(gpt2, tmp_path):
    fm.environment()
    path = fm.repro(out=tmp_path / "replay.ipynb").path
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert sources[1] == "%load_ext fmwidgets\nimport fmwidgets as fm"
    assert sources[2] == "fm.environment()"
    assert json.loads(path.read_text())["nbformat"] == 4


def test_repro_refuses_an_existing_file_unless_asked(tmp_path):
    fm.environment()
    target = tmp_path / "replay.py"
    target.write_text("keep me")
    with pytest.raises(BadArgumentError, match=r"already exists; pass overwrite=True \(--overwrite\) to replace it"):
        fm.repro(out=target)
    assert target.read_text() == "keep me"
    fm.repro(out=target, overwrite=True)
    assert "fm.environment()" in target.read_text()


def test_repro_to_an_unwritable_place_is_one_sentence(tmp_path):
    with pytest.raises(BadArgumentError, match=r"could not be written to .*; pick a writable file path\.$"):
        fm.repro(out=tmp_path / "no" / "such" / "dir" / "x.py")
