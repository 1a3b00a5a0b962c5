"""The home folder is written as ``~`` in records, ``%fm env`` and fine-tuning run cards."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.paths import home_as_tilde, tilde_paths
from fmwidgets.records import RunRecord


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home folder of our own, holding a copy of the tiny BERT."""
    folder = tmp_path / "home" / "ada.lovelace"
    folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    return folder


def test_home_as_tilde_only_rewrites_paths_that_start_with_home(home):
    h = str(home)
    assert home_as_tilde(h) == "~"
    assert home_as_tilde(f"{h}/models/m") == "~/models/m"
    assert home_as_tilde(f"loaded '{h}/m' and {h}/n") == "loaded '~/m' and ~/n"
    assert home_as_tilde(f"{h}-other/m") == f"{h}-other/m"  # a sibling folder, not the home
    assert home_as_tilde(f"/data{h}/m") == f"/data{h}/m"  # not where the path starts
    assert tilde_paths({"a": [f"{h}/x", 3, None], "b": {"c": h}}) == {"a": ["~/x", 3, None], "b": {"c": "~"}}


def test_records_env_and_run_cards_show_tilde(home, tiny_paths, tmp_path):
    folder = home / "models" / "tiny-bert"
    shutil.copytree(tiny_paths["bert"], folder)
    handle = fm.load(str(folder), as_="home-bert")
    record = RunRecord.for_model("x", handle, {"output_dir": str(home / "out")})
    assert record.to_dict()["model"] == "~/models/tiny-bert"
    assert record.to_dict()["params"]["output_dir"] == "~/out"
    assert str(home) not in record.summary()

    env = fm.environment()
    assert str(home) not in repr(env) and "~/models/tiny-bert" in repr(env)
    assert str(home) not in env._repr_mimebundle_()[0]["text/html"]

    out = home / "tuned"
    df = pd.DataFrame({"text": ["good movie", "bad movie"] * 4, "label": ["pos", "neg"] * 4})
    result = fm.finetune(df, label="label", model="home-bert", output_dir=str(out), epochs=1,
                         batch_size=4, max_length=16, as_="home-ft")
    card = (out / "fmwidgets_run.json").read_text()
    assert str(home) not in card and json.loads(card)["record"]["model"] == "~/models/tiny-bert"
    assert str(home) not in json.dumps(result._repr_mimebundle_(), default=str)
    assert fm.load("~/tuned", as_="home-reload").head == "classification"  # ~ paths load back
