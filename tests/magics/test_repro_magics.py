"""%fm env and %fm repro in a real IPython shell: the replay keeps magics and runs again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from fmwidgets.core.models.environment import Environment
from fmwidgets.provenance.script import Repro
from fmwidgets.core.models.registry import registry
from fmwidgets.errors import FMError
from fmwidgets.provenance.history import entries as history

REPO = Path(__file__).resolve().parents[2]


def test_env_magic_returns_the_environment(ip, gpt2):
    env = ip.run_line_magic("fm", "env")
    assert isinstance(env, Environment)
    assert [m["name"] for m in env.models] == ["gpt2"]
    assert history[-1].code == "%fm env"


def test_env_takes_no_arguments(ip):
    with pytest.raises(UsageError, match="unrecognized arguments"):
        ip.run_line_magic("fm", "env --verbose")


def test_repro_magic_writes_a_script_that_replays_the_magics(ip, tiny_paths, tmp_path):
    folder = str(tiny_paths["gpt2"])
    ip.run_line_magic("fm", f"load {folder} --as tiny")
    ip.run_line_magic("fm", "env")
    out = tmp_path / "replay.py"
    result = ip.run_line_magic("fm", f"repro --out {out}")
    assert isinstance(result, Repro) and result.path == out
    code = out.read_text()
    assert f"ip.run_line_magic('fm', 'load {folder} --as tiny')" in code
    assert f"# local weights {registry.get('tiny').commit}" in code
    assert "ip.run_line_magic('fm', 'env')" in code and "repro" not in code.split("# %%", 2)[2]
    # plain `python replay.py` runs it: the shell it starts shares the script's globals
    probe = (f"import runpy; ns = runpy.run_path({str(out)!r})\n"
             "from fmwidgets.core.models.registry import registry; print(registry.get('tiny').commit)")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == registry.get("tiny").commit


def test_repro_is_left_out_of_later_replays(ip):
    ip.run_line_magic("fm", "env")
    ip.run_line_magic("fm", "repro")
    second = ip.run_line_magic("fm", "repro")
    assert [s.code for s in second.steps] == ["%fm env"]


def test_cell_magics_become_run_cell_magic_calls_and_stay_cells_in_a_notebook(ip, gpt2):
    ip.user_ns["name"] = "Ada"
    ip.run_cell_magic("fm", "prompt --max-new-tokens 5 --seed 1 --no-stream", "Say hello to {name}")
    result = ip.run_line_magic("fm", "repro")
    assert ("ip.run_cell_magic('fm', 'prompt --max-new-tokens 5 --seed 1 --no-stream', 'Say hello to {name}')"
            in result.code)
    assert result.cells[-1] == "%%fm prompt --max-new-tokens 5 --seed 1 --no-stream\nSay hello to {name}"


def test_repro_notebook_executes_in_a_kernel(ip, tiny_paths, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    ip.run_line_magic("fm", f"load {tiny_paths['gpt2']} --as tiny")
    ip.run_line_magic("fm", "env")
    path = tmp_path / "replay.ipynb"
    ip.run_line_magic("fm", f"repro --out {path}")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ, HF_HUB_OFFLINE="1"))
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    env_out = [o for o in outputs if "fmwidgets" in o.get("metadata", {})]
    assert env_out and env_out[-1]["metadata"]["fmwidgets"]["kind"] == "environment"
    assert "tiny" in env_out[-1]["data"]["text/plain"]


def test_repro_out_refuses_an_existing_file_unless_overwrite(ip, tmp_path):
    ip.run_line_magic("fm", "env")
    target = tmp_path / "replay.py"
    target.write_text("keep me")
    with pytest.raises(FMError, match="already exists"):
        ip.run_line_magic("fm", f"repro --out {target}")
    assert target.read_text() == "keep me"
    ip.run_line_magic("fm", f"repro --out {target} --overwrite")
    assert "ip.run_line_magic('fm', 'env')" in target.read_text()


def test_repro_to_a_missing_folder_raises_one_sentence(ip, tmp_path):
    with pytest.raises(FMError, match=r"pick a writable file path\.$"):
        ip.run_line_magic("fm", f"repro --out {tmp_path}/missing/x.py")
