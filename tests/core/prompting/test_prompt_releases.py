"""Prompt releases: versions pinned to a model, tags, plain-Python use, export/import, replay.

Two tiny GPT-2s with different weights stand for "the current model" and "the candidate".  The
application side runs in a real second process (``fmwidgets.prompts``, no IPython) that keeps
running while this process moves a tag through its own store connection.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets import prompts, testing
from fmwidgets.config import settings
from fmwidgets.core.models.registry import ModelHandle, registry
from fmwidgets.model_spec import ModelSpec
from fmwidgets.core.prompting.versions import content_hash
from fmwidgets.errors import BadArgumentError, DataError, FMError, ModelLoadError
from fmwidgets.render import display_data
from fmwidgets.store import store

GEN = dict(greedy=True, max_new_tokens=6)
TEMPLATE = "Q: {q}\nA:"


@pytest.fixture(scope="module")
def other_path(tmp_path_factory):
    """A second tiny GPT-2 folder with other weights (seed 1): the candidate model."""
    return testing.tiny_gpt2(tmp_path_factory.mktemp("tiny") / "gpt2-b", seed=1)


_loaded: dict[str, ModelHandle] = {}


@pytest.fixture
def other(gpt2, other_path):
    """The candidate, loaded once as 'gpt2-b' and registered next to 'gpt2' (which stays current)."""
    if "b" not in _loaded:
        _loaded["b"] = fm.load(str(other_path), as_="gpt2-b")
    registry.add(_loaded["b"], make_current=False)
    registry.current = "gpt2"
    return _loaded["b"]


@pytest.fixture
def qa():
    return pd.DataFrame({"q": ["what is 1", "what is 2", "what is 3"], "a": ["1", "2", "3"]})


APP = textwrap.dedent("""
    import json, sys
    from fmwidgets import prompts
    store = sys.argv[1]
    for _ in range(2):  # one request, then (after the notebook moves the tag) the next one
        p = prompts.get("qa", tag="production", store=store)
        print(json.dumps({"id": p.id, "text": p.run(q="what is 1"), "prompt": p.render(q="what is 1"),
                          "ui": [m for m in ("IPython", "ipywidgets", "plotly") if m in sys.modules]}), flush=True)
        sys.stdin.readline()
""")


def test_an_application_runs_the_pinned_model_and_follows_a_moved_tag(gpt2, other, isolated_store, tmp_path):
    v1 = fm.save_prompt("qa", TEMPLATE, model="gpt2", **GEN)
    v2 = fm.save_prompt("qa", TEMPLATE, model="gpt2-b", **GEN)  # same text, other model: next version
    fm.tag_prompt("qa@1", "production")
    script = tmp_path / "app.py"
    script.write_text(APP)
    app = subprocess.Popen([sys.executable, str(script), str(isolated_store)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(app.stdout.readline() or app.stderr.read())
        fm.tag_prompt("qa@2", "production")  # this process's connection, the app has its own
        app.stdin.write("\n")
        app.stdin.flush()
        second = json.loads(app.stdout.readline() or app.stderr.read())
        app.stdin.write("\n")
        app.stdin.close()
        assert app.wait(timeout=60) == 0, app.stderr.read()
    finally:
        app.kill()
    here_a = fm.generate("Q: what is 1\nA:", model="gpt2", stream=False, **GEN).text
    here_b = fm.generate("Q: what is 1\nA:", model="gpt2-b", stream=False, **GEN).text
    assert here_a != here_b  # the two models can be told apart by their output
    assert first == {"id": "qa@1", "text": here_a, "prompt": "Q: what is 1\nA:", "ui": []}
    assert second["id"] == "qa@2" and second["text"] == here_b
    assert (v1.model.source, v1.model.commit) == ("local", gpt2.commit) and v2.model.commit == other.commit


def test_same_content_is_the_same_version_and_versions_show_model_and_tags(gpt2, other):
    v1 = fm.save_prompt("qa", TEMPLATE, **GEN)
    assert v1.model is None and v1.hash == content_hash(TEMPLATE, GEN)  # as before pinning existed
    pinned = fm.save_prompt("qa", TEMPLATE, model=gpt2, **GEN)
    assert pinned.id == "qa@2" and fm.save_prompt("qa", TEMPLATE, model="gpt2", **GEN) == pinned
    assert fm.save_prompt("qa", TEMPLATE, model="gpt2-b", **GEN).id == "qa@3"
    fm.tag_prompt("qa@2", "production")
    fm.tag_prompt("qa:production", "staging")  # promote what a tag points at
    table = fm.prompt_versions("qa")
    assert pd.isna(table["model"][0]) and table["model"].tolist()[1:] == [
        f"{gpt2.spec().model}@{gpt2.commit[7:15]} (local)", f"{other.spec().model}@{other.commit[7:15]} (local)"]
    assert table["tags"].tolist() == [[], ["production", "staging"], []]
    tuned = registry.add(dataclasses.replace(gpt2, name="gpt2-ft", source="tuned"), False)
    with pytest.raises(BadArgumentError, match="fine-tuned in this kernel.*save it to a folder first"):
        fm.save_prompt("qa", TEMPLATE, model=tuned)
    with pytest.raises(FMError, match="cannot generate text"):
        fm.save_prompt("qa", TEMPLATE, model=dataclasses.replace(gpt2, name="enc", family="encoder"))
    assert len(fm.prompt_versions("qa")) == 3


def test_a_saved_version_shows_its_id_settings_pin_and_template_escaped(gpt2):
    shown = display_data(fm.save_prompt("shown", "Say <b>{q}</b>:", max_new_tokens=4, greedy=True))
    assert shown["text/plain"] == "shown@1 · max_new_tokens=4, greedy=True · not pinned to a model\nSay <b>{q}</b>:"
    pinned = display_data(fm.save_prompt("shown", "Say <b>{q}</b>:", model=gpt2))["text/html"]
    assert f"shown@2 · pinned to {gpt2.spec().describe()}" in pinned  # not a dataclass repr
    assert "Say &lt;b&gt;{q}&lt;/b&gt;:" in pinned and "<b>{q}" not in pinned


def test_moving_a_tag_keeps_every_version_and_every_move():
    for text in ("A {q}", "B {q}", "C {q}"):
        fm.save_prompt("qa", text)
    fm.tag_prompt("qa@1", "production")
    fm.tag_prompt("qa@1", "production")  # already there: no move
    fm.tag_prompt("qa@3", "production")
    fm.tag_prompt("qa@2", "staging")
    assert prompts.get("qa", tag="production").template == "C {q}" and prompts.get("qa:staging").version == 2
    assert prompts.get("qa").id == "qa@3" and prompts.get("qa@1").template == "A {q}"
    history = fm.tag_history("qa")
    assert history[["tag", "id"]].values.tolist() == [["production", "qa@1"], ["production", "qa@3"],
                                                      ["staging", "qa@2"]]
    assert history["moved"].str.match(r"\d{4}-\d\d-\d\dT").all()
    assert fm.prompt_versions("qa")["id"].tolist() == ["qa@1", "qa@2", "qa@3"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: fm.tag_prompt("qa@1", "prod release"), BadArgumentError, "'prod release' is not a simple word"),
    (lambda: fm.tag_prompt("qa@1", "3"), BadArgumentError, "starting with a letter"),
    (lambda: fm.tag_prompt("qa", "production"), DataError, "write name@N for a version or name:tag"),
    (lambda: fm.tag_prompt("qa@9", "production"), DataError, "saved versions of 'qa' are qa@1, qa@2"),
    (lambda: prompts.get("qa", tag="prod"), DataError, "'qa' has no tag 'prod'; its tags are production"),
    (lambda: prompts.get("nope:production"), DataError, "no saved prompt 'nope:production'; the saved prompts are qa"),
    (lambda: prompts.get("qa@1", tag="production"), BadArgumentError, "not both"),
    (lambda: prompts.get("qa", store="/no/such/store.sqlite"), DataError, "no fmwidgets store at"),
    (lambda: prompts.get("qa@1").render(x="1"), BadArgumentError, "qa@1 needs q; its fields are q"),
    (lambda: prompts.get("qa@1").render(q="1", r="2"), BadArgumentError, "qa@1 has no field r"),
    (lambda: fm.save_prompt("qa", "{q}", **{"max-new-tokens": 3}), BadArgumentError, "not a Python name"),
    (lambda: fm.run_prompt("qa@1", q="x", stream=False), FMError, "pinned to no model and none is loaded"),
])
def test_bad_input_is_one_sentence_and_changes_nothing(call, error, message):
    fm.save_prompt("qa", "A {q}")
    fm.save_prompt("qa", "B {q}")
    fm.tag_prompt("qa@2", "production")
    with pytest.raises(error, match=message):
        call()
    assert fm.prompt_versions()["id"].tolist() == ["qa@1", "qa@2"] and len(fm.tag_history()) == 1


def test_evaluate_and_eval_magic_accept_a_tag_and_run_the_pinned_model(ip, gpt2, other, qa):
    fm.save_prompt("qa", TEMPLATE, model="gpt2", **GEN)
    fm.save_prompt("qa", TEMPLATE, model="gpt2-b", **GEN)
    fm.tag_prompt("qa@1", "production")
    fm.tag_prompt("qa@2", "candidate")
    current = fm.evaluate(qa, "qa:production", reference="a", evaluators=["chrf"], name="current", progress=False)
    ip.user_ns["qa"] = qa
    candidate = ip.run_line_magic("fm", "eval qa --prompt qa:candidate --reference a --evaluator chrf --as cand")
    assert (current.model, current.prompt, candidate.model, candidate.prompt) == ("gpt2", "qa@1", "gpt2-b", "qa@2")
    direct = fm.evaluate(qa, TEMPLATE, model="gpt2-b", reference="a", evaluators=["chrf"], progress=False, **GEN)
    assert candidate.table["output"].tolist() == direct.table["output"].tolist()
    assert fm.compare_evaluations("current", "cand").counts.sum() == len(qa)
    assert fm.models()["current"].tolist() == [True, False]  # the pinned model did not become current


def test_prompt_magics_tag_run_list_export_and_import(ip, gpt2, other, tmp_path):
    saved = ip.run_cell_magic("fm", "prompt --save qa --model gpt2-b --max-new-tokens 6 --greedy", "Q: {q}\nA:\n")
    assert saved.model == other.spec() and saved.params == GEN
    assert ip.run_line_magic("fm", "prompt tag qa@1 production").id == "qa@1"
    ran = ip.run_line_magic("fm", "prompt run qa:production --q 'what is 1' --out answer")
    assert ran.text == fm.generate("Q: what is 1\nA:", model="gpt2-b", stream=False, **GEN).text
    assert ip.user_ns["answer"] is ran and fm.models()["current"].tolist() == [True, False]
    assert ip.run_line_magic("fm", "prompt versions qa")["tags"].tolist() == [["production"]]
    path = tmp_path / "prompts.yaml"
    assert ip.run_line_magic("fm", f"prompt export {path} qa") == str(path)
    assert ip.run_line_magic("fm", f"prompt import {path}")["status"].tolist() == ["already here"] * 2
    with pytest.raises(Exception, match="the following arguments are required: TAG"):
        ip.run_line_magic("fm", "prompt tag qa@1")


TRICKY = ["Q: {q}\nA:", "  indented {q}\n\ttab\n", "trailing space \nend {q}", "ünïcode — {q}: ✓", "{q}\n\n\n"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_import_round_trips_into_an_empty_store(gpt2, tmp_path, monkeypatch, suffix):
    for i, text in enumerate(TRICKY):
        fm.save_prompt("qa", text, model="gpt2" if i % 2 else None, max_new_tokens=i + 1, stop=["\n", "#"])
    fm.save_prompt("summary", "Summarise: {text}", temperature=0.7)
    fm.tag_prompt("qa@2", "production")
    fm.tag_prompt("qa@4", "production")
    fm.tag_prompt("summary@1", "staging")
    before, path = fm.prompt_versions(), tmp_path / f"prompts{suffix}"
    fm.export_prompts(path)
    text = path.read_text()
    if suffix == ".yaml":
        assert "template: |-\n        Q: {q}\n        A:\n" in text  # a multi-line template stays readable
    monkeypatch.setattr(settings(), "store_path", str(tmp_path / "other.sqlite"))
    report = fm.import_prompts(path)
    assert (report["status"] == "added").sum() == 6 and "moved to qa@4" in report["status"].tolist()
    after = fm.prompt_versions()
    pd.testing.assert_frame_equal(after, before)
    assert fm.tag_history()[["tag", "id"]].values.tolist() == [["production", "qa@4"], ["staging", "summary@1"]]
    assert set(fm.import_prompts(path)["status"]) == {"already here"}  # importing again changes nothing
    assert fm.save_prompt("qa", "new {q}").id == "qa@6"  # numbering goes on after the imported ones


def test_import_refuses_conflicts_and_foreign_files_changing_nothing(tmp_path, monkeypatch):
    fm.save_prompt("qa", "A {q}")
    fm.save_prompt("qa", "B {q}")
    fm.tag_prompt("qa@2", "production")
    path = fm.export_prompts(tmp_path / "prompts.yaml", names="qa")
    monkeypatch.setattr(settings(), "store_path", str(tmp_path / "other.sqlite"))
    fm.save_prompt("qa", "A {q}")
    fm.save_prompt("qa", "different {q}")  # qa@2 holds other content here
    fm.tag_prompt("qa@1", "production")
    with pytest.raises(DataError, match=r"does not match this store: qa@2 holds other text.*nothing was imported"):
        fm.import_prompts(path)
    assert fm.prompt_versions()["template"].tolist() == ["A {q}", "different {q}"]
    assert prompts.get("qa:production").id == "qa@1" and len(fm.tag_history()) == 1
    bad = {
        "list.yaml": "- just\n- a list\n",
        "broken.yaml": "prompts: [unclosed\n",
        "broken.json": "{not json",
        "other.yaml": "fmwidgets: prompts 99\nprompts: {}\n",
        "badtag.yaml": "fmwidgets: fmwidgets prompts 1\nprompts:\n  qa:\n    tags: {production: 7}\n    versions: []\n",
        "badversion.yaml": "fmwidgets: fmwidgets prompts 1\nprompts:\n  qa:\n    versions: [{version: x, template: t}]\n",
    }
    for name, content in bad.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(DataError, match=r"is not a prompts file that fm.export_prompts wrote \(.*\); nothing"):
            fm.import_prompts(tmp_path / name)
    key = tmp_path / "key.yaml"
    key.write_text("fmwidgets: fmwidgets prompts 1\nprompts:\n  qa:\n    versions:\n    - version: 3\n      "
                   "template: t\n      model: {source: api, model: m, api_key_env: sk-live-123}\n")
    with pytest.raises(DataError, match="must be a variable name such as OPENAI_API_KEY, never the key"):
        fm.import_prompts(key)
    with pytest.raises(DataError, match="There is no file"):
        fm.import_prompts(tmp_path / "missing.yaml")
    assert fm.prompt_versions()["id"].tolist() == ["qa@1", "qa@2"]


def test_requests_on_threads_load_the_pinned_model_once_and_share_it(gpt2, tmp_path):
    import threading

    folder = testing.tiny_gpt2(tmp_path / "pinned")
    fm.load(str(folder), as_="pinned")
    fm.save_prompt("qa", "Q: {q}", model="pinned", max_new_tokens=2, greedy=True)
    fm.unload("pinned")  # as in a fresh application process: the first requests load it
    version, start, texts = prompts.get("qa@1"), threading.Barrier(4), []

    def request():
        start.wait()
        texts.append(version.run(q="x"))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    loaded = [n for n in fm.models()["name"] if n.startswith("pinned")]
    try:
        assert len(loaded) == 1 and len(texts) == 4 and len(set(texts)) == 1
    finally:
        for name in loaded:
            fm.unload(name)


def test_a_pinned_model_that_cannot_load_here_is_one_sentence(gpt2, tmp_path, monkeypatch):
    folder = testing.tiny_gpt2(tmp_path / "moving")
    handle = fm.load(str(folder), as_="moving")
    fm.save_prompt("qa", "Q: {q}", model="moving", max_new_tokens=2)
    fm.unload("moving")
    testing.tiny_gpt2(folder, seed=3)  # other weights in the same folder
    with pytest.raises(ModelLoadError, match=r"now holds other weights.*save the prompt again"):
        prompts.get("qa@1").run(q="x")
    assert "moving" not in fm.models()["name"].tolist() and handle.commit
    specs = {
        "hub": ({"source": "hub", "model": "gpt2", "commit": "abc123"}, r"gpt2@abc123 \(hub\).*hf download gpt2 --revision abc123"),
        "gone": ({"source": "local", "model": "/no/such/folder"}, r"the folder '/no/such/folder' is missing.*copy the model"),
        "api": ({"source": "api", "model": "m", "provider": "openai", "api_key_env": "OPENAI_API_KEY"},
                r"openai:m, which could not be loaded here: the key for 'm' is read from the environment "
                r"variable OPENAI_API_KEY, which is not set"),
    }
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for name, (spec, message) in specs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"fmwidgets": "fmwidgets prompts 1", "prompts": {
            name: {"versions": [{"version": 1, "template": "Q: {q}", "model": spec}]}}}))
        fm.import_prompts(path)
        with pytest.raises(ModelLoadError, match=rf"^The prompt '{name}@1' runs on .*{message}"):
            fm.run_prompt(f"{name}@1", q="x", stream=False)


def test_a_model_spec_keeps_no_credentials():
    spec = ModelSpec("api", "m", provider="openai", base_url="https://user:sk-secret@api.example.com:8443/v1?key=sk-2#x",
                     api_key_env="OPENAI_API_KEY")
    assert spec.base_url == "https://api.example.com:8443/v1" and "sk-" not in json.dumps(spec.to_dict())
    assert spec.describe() == "openai:m at https://api.example.com:8443/v1"


OLD_SCHEMA = """CREATE TABLE prompts (
    name TEXT NOT NULL, version INTEGER NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL,
    hash TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (name, version), UNIQUE (name, hash))"""


def test_a_store_from_before_pinning_opens_and_keeps_its_versions(gpt2, tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute(OLD_SCHEMA)
    old.execute("INSERT INTO prompts VALUES ('qa', 1, 'Q: {q}', '{\"max_new_tokens\": 3}', ?, '2024-01-01T00:00:00+00:00')",
                (content_hash("Q: {q}", {"max_new_tokens": 3}),))
    old.commit()
    old.close()
    monkeypatch.setattr(settings(), "store_path", str(path))
    assert fm.prompt_versions()[["id", "model", "tags"]].values.tolist() == [["qa@1", None, []]]
    assert fm.save_prompt("qa", "Q: {q}", max_new_tokens=3).id == "qa@1"  # the same content, found again
    assert fm.save_prompt("qa", "Q: {q}", model="gpt2", max_new_tokens=3).id == "qa@2"
    fm.tag_prompt("qa@2", "production")
    assert store().query("SELECT COUNT(*) FROM prompts")[0][0] == 2


def test_a_release_session_replays_and_verifies(ip, tiny_paths, other_path, qa, tmp_path):
    fm.load(str(tiny_paths["gpt2"]), as_="g")
    fm.load(str(other_path), as_="h")
    ip.user_ns["qa"] = qa
    fm.save_prompt("qa", TEMPLATE, model="g", **GEN)
    fm.save_prompt("qa", TEMPLATE, model="h", **GEN)
    fm.tag_prompt("qa@1", "production")
    fm.run_prompt("qa", tag="production", q="what is 1", stream=False)
    ip.run_line_magic("fm", "prompt tag qa@2 production")
    fm.run_prompt("qa:production", q="what is 1", stream=False)
    fm.evaluate(qa, "qa:production", reference="a", evaluators=["chrf"], name="release", progress=False)
    fm.export_prompts(str(tmp_path / "prompts.yaml"))
    fm.import_prompts(str(tmp_path / "prompts.yaml"))
    code = fm.repro().code
    assert "fm.run_prompt(name='qa', tag='production', stream=False, q='what is 1')" in code
    table = fm.repro(verify=True).table
    assert set(table["status"]) == {"same"}, table.to_string()
