"""The structured history: entries from Python, magics and widgets; replays that run; --verify."""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.provenance import history
from fmwidgets.core.models.registry import registry
from fmwidgets.provenance.history import entries

HOSTILE = 'Say <b>bold</b> <mask> </script> {x} $y """ \' \\ end'


@pytest.fixture
def b(tiny_paths):
    """The tiny BERT loaded by the test itself (first entry of its history), as 'b'."""
    history.clear()
    return fm.load(str(tiny_paths["bert"]), as_="b")


@pytest.fixture
def g(tiny_paths):
    """The tiny GPT-2 loaded by the test itself, as 'g'."""
    return fm.load(str(tiny_paths["gpt2"]), as_="g")


def test_python_calls_record_literals_variables_and_earlier_results(ip, bert):
    history.clear()
    ip.user_ns["df"] = df = pd.DataFrame({"text": ["a cat", "a dog", "a car"], "kind": ["x", "x", "y"]})
    ip.user_ns["X"] = vectors = fm.embed(df, text="text")
    fm.project(vectors, dims=2)
    fm.plot_embeddings(fm.project(fm.embed(["one", "two", "three"])), title="t")
    codes = [e.code for e in entries]
    assert codes[:2] == ["fm.embed(inputs=df, text='text')", "fm.project(X=X, dims=2)"]
    assert codes[2:] == ["fm.embed(inputs=['one', 'two', 'three'])", "fm.project(X=step2)",
                         "fm.plot_embeddings(points=step3, title='t')"]
    assert entries[1].arguments["X"].kind == "result" and entries[1].arguments["X"].step == 0
    table = fm.history()
    assert list(table["function"]) == ["embed", "project", "embed", "project", "plot_embeddings"]
    assert list(table["source"]) == ["python"] * 5 and table.loc[0, "models"] == {"bert": f"{bert.model_id}@{bert.commit}"}
    assert "sha256" in table.loc[0, "arguments"]["inputs"]
    code = fm.repro().code
    assert "\nX = fm.embed(inputs=df, text='text')\n" in code and "\nstep2 = fm.embed(" in code


def test_list_variables_are_defined_in_the_script_each_time_they_change(ip, bert):
    history.clear()
    ip.user_ns["texts"] = ["a cat", "a dog"]
    fm.embed(ip.user_ns["texts"])
    fm.embed(ip.user_ns["texts"])
    ip.user_ns["texts"] = ["a car"]
    fm.embed(ip.user_ns["texts"])
    code = fm.repro().code
    assert code.count("texts = ['a cat', 'a dog']\nfm.embed(inputs=texts)") == 1
    assert "texts = ['a car']\nfm.embed(inputs=texts)" in code and "Define these" not in code


def test_magics_are_kept_as_written_with_the_variables_they_read(ip, bert):
    history.clear()
    ip.user_ns["rows"] = pd.DataFrame({"text": ["a cat", "a dog"]})
    ip.run_line_magic("fm", "similar 'a kitten' --in rows --k 1")
    [entry] = entries
    assert entry.source == "magic" and entry.code == "%fm similar 'a kitten' --in rows --k 1"
    assert entry.function == "similar" and entry.arguments["df"].name == "rows"
    assert fm.history().loc[0, "call"] == entry.code
    ip.run_line_magic("fm", "embed rows --model bert")
    assert entries[-1].function == "EmbeddingExplorer" and entries[-1].arguments["source"].name == "rows"


def test_arguments_are_written_as_python_can_read_them_again():
    import numpy as np

    from fmwidgets.provenance.history import describe

    assert describe(np.float64(0.5), {}).code() == "0.5"
    assert describe(float("nan"), {}).code() == "float('nan')"
    assert describe({"a": [1, (2, "x")]}, {}).code() == "{'a': [1, (2, 'x')]}"
    frame = pd.DataFrame({"x": [1]})
    assert describe({"df": frame}, {}).code() == "<dict>"  # no literal form, no name
    assert describe(frame, {"_": frame, "mine": frame}).code() == "mine"


def test_widget_calls_are_recorded_as_the_public_call(ip, gpt2, bert):
    history.clear()
    pg = fm.Playground(models=["gpt2"], prompt=HOSTILE)
    pg.greedy.value, pg.max_new_tokens.value = True, 3
    pg.generate()
    pg.wait(60)
    assert [e.code for e in entries] == [f"fm.generate(prompt={HOSTILE!r}, model='gpt2', max_new_tokens=3, greedy=True)"]
    assert entries[0].source == "widget"
    ip.user_ns["df"] = pd.DataFrame({"text": ["a cat", "a dog", "a car"]})
    explorer = fm.EmbeddingExplorer(ip.user_ns["df"], model="bert", seed=0)
    explorer.search("a kitten", k=2)
    assert entries[1].code == "fm.EmbeddingExplorer(source=df, model='bert', seed=0)"
    assert entries[2].code.startswith("fm.similar(query='a kitten', df=df, text='text', k=2, model='bert'")
    assert entries[2].source == "widget"
    assert "project" not in " ".join(e.code for e in entries)  # no internal calls


def test_chat_widget_turns_are_recorded_as_fm_chat(ip, chat_gpt2):
    history.clear()
    box = fm.Chat(model="chat", max_new_tokens=3, greedy=True)
    box.send(message="hi <b>there</b>")
    box.wait(60)
    box.send(message="and again")
    box.wait(60)
    first, second = entries
    assert first.code == ("fm.chat(message='hi <b>there</b>', model='chat', conversation=None, system=None, "
                          "max_new_tokens=3, greedy=True)")
    assert second.source == "widget" and second.runnable
    assert second.arguments["conversation"].value == list(box.replies[0].conversation)


def test_hostile_text_replays_instead_of_being_commented_out(ip, g, tmp_path):
    fm.generate(HOSTILE, max_new_tokens=2, greedy=True, stream=False)
    code = fm.repro(out=tmp_path / "replay.py").path.read_text()
    assert f"\nfm.generate(prompt={HOSTILE!r}, stream=False, max_new_tokens=2, greedy=True)\n" in code
    compile(code, "replay.py", "exec")
    verification = fm.repro(verify=True)
    assert list(verification.table["status"]) == ["same", "same"]


def test_verify_reruns_in_a_fresh_registry_and_reports_each_call(ip, b, tiny_paths):
    ip.run_line_magic("fm", f"load {tiny_paths['gpt2']} --as g")
    ip.user_ns["rows"] = pd.DataFrame({"item": ["soup", "film"]})
    ip.run_line_magic("fm", "prompt --df rows --template 'About {item}:' --max-new-tokens 3 --model g --out answers")
    fm.generate("Once", model="g", max_new_tokens=4, temperature=0.9)  # sampled, no seed given: pinned
    ip.user_ns["df"] = pd.DataFrame({"text": ["a cat", "a dog", "a car"]})
    fm.EmbeddingExplorer(ip.user_ns["df"], model="b").search("a kitten", k=2)
    before = dict(registry._models)
    verification = ip.run_line_magic("fm", "repro --verify")
    table = verification.table
    assert list(table["status"]) == ["same"] * 6, table.to_string()
    assert list(table["texts"]) == [True, True, True, True, None, True]
    assert list(table["numbers"][2:]) == [None, True, True, True]  # generate_df: texts only
    assert verification.ok and dict(registry._models) == before and "answers" in ip.user_ns
    assert [e.function for e in entries[:6]] == ["load", "load", "generate_df", "generate", "EmbeddingExplorer", "similar"]
    data, _ = verification._repr_mimebundle_()
    assert "Every re-run call reproduced." in data["text/plain"] and "<table" in data["text/html"]


def test_verify_skips_a_call_whose_input_changed_and_spots_a_different_result(ip, b):
    ip.user_ns["df"] = pd.DataFrame({"text": ["a cat", "a dog"]})
    fm.similar("a kitten", ip.user_ns["df"], k=1)
    fm.embed(["x", "y"])
    entries[2].outcome["result"][0] += 1.0  # as if the first run had produced other numbers
    ip.user_ns["df"] = pd.DataFrame({"text": ["a cow", "a dog"]})
    table = fm.repro(verify=True).table
    assert list(table["status"]) == ["same", "skipped", "different"]
    assert "'df' changed since the call" in table.loc[1, "difference"]
    assert table.loc[2, "numbers"] is False and "largest difference" in table.loc[2, "difference"]


def test_snapshots_let_the_replay_rebuild_dataframes(ip, b, tmp_path):
    fm.settings().snapshot_dir = str(tmp_path / "data")
    try:
        frame = pd.DataFrame({"text": ["a cat", "a dog"]})
        fm.similar("a kitten", frame, k=1)  # not a notebook variable: only the snapshot knows it
    finally:
        fm.settings().snapshot_dir = ""
    [arg] = [a for a in entries[1].arguments.values() if a.kind == "object"]
    assert pd.read_parquet(arg.snapshot).equals(frame)
    code = fm.repro().code
    assert f"fm.similar(query='a kitten', df=pd.read_parquet({arg.snapshot!r}), k=1)" in code
    assert "import pandas as pd" in code
    assert list(fm.repro(verify=True).table["status"]) == ["same", "same"]


# ---------------------------------------------------------------------------------------------
# IPython's own {name} / $name expansion of magic lines


def test_templates_are_not_filled_from_notebook_variables(ip, gpt2):
    ip.user_ns["item"] = "NOTEBOOK VARIABLE"
    ip.user_ns["rows"] = pd.DataFrame({"item": ["soup", "film"]})
    out = ip.run_line_magic("fm", 'prompt --df rows --template "Review: {item}" --max-new-tokens 2 --greedy')
    assert entries[-1].arguments["template"].value == "Review: {item}"  # what generate_df was given
    assert entries[-1].code == '%fm prompt --df rows --template "Review: {item}" --max-new-tokens 2 --greedy'
    expected = fm.generate_df(ip.user_ns["rows"], "Review: {item}", max_new_tokens=2, greedy=True, progress=False)
    assert list(out["output"]) == list(expected["output"])


def test_other_arguments_still_expand_names_and_dollars(ip, tiny_paths):
    ip.user_ns["path"] = str(tiny_paths["gpt2"])
    ip.user_ns["alias"] = "tiny"
    handle = ip.run_line_magic("fm", "load {path} --as $alias")
    assert handle.name == "tiny" and handle.model_id == str(tiny_paths["gpt2"])
    assert entries[-1].code == f"%fm load {tiny_paths['gpt2']} --as tiny"  # replays without the variables
    with pytest.raises(fm.FMError):  # an unknown name stays as written: not a folder
        ip.run_line_magic("fm", "load {nowhere}")


# ---------------------------------------------------------------------------------------------
# A tour notebook, run in a real kernel, then verified by re-running its recorded calls

VERIFY_CELL = """\
verification = fm.repro(verify=True)
print("VERIFY", verification.table[["step", "call", "status", "difference"]].to_json(orient="records"))"""


@pytest.mark.slow
def test_the_prompting_tour_verifies(tmp_path):
    import json
    import shutil

    import nbformat
    from test_notebooks import REPO, execute, outputs

    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    nb = nbformat.read(tmp_path / "notebooks" / "02-prompting.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(VERIFY_CELL))
    nb = execute(nb, tmp_path / "notebooks")
    [line] = [o.text for o in outputs(nb) if o.output_type == "stream" and "VERIFY" in o.text]
    rows = json.loads(line.split("VERIFY", 1)[1])
    statuses = {row["status"] for row in rows}
    assert statuses <= {"same", "nothing to compare"}, [r for r in rows if r["status"] not in ("same",)]
    calls = " ".join(row["call"] for row in rows)
    for expected in ("fm.load(", "%%fm prompt", "%fm prompt --df reviews", "fm.generate(prompt='The weather",
                     "%%fm compare", "fm.compare(", "%fm probs --of first", "%fm fill",
                     "fm.generate(prompt='The {animal} sat', model='gpt2'"):  # the last: the Playground's run
        assert expected in calls, expected


def test_a_re_run_evaluation_is_the_same_though_its_name_and_latency_are_new(ip, g):
    ip.user_ns["data"] = data = pd.DataFrame({"q": ["a cat", "a dog", "a car"], "ref": ["x", "y", "z"]})
    first = fm.evaluate(data, "{q}", model="g", reference="ref", evaluators=["chrf", "latency"], max_new_tokens=2,
                        greedy=True, progress=False)
    verification = fm.repro(verify=True)
    assert list(verification.table["status"])[-1] == "same", verification.table.to_string()
    assert first.name == "eval-1" and fm.evaluations()["name"].tolist() == ["eval-1"]  # the re-run's went to scratch


def test_verify_generates_a_local_models_rows_again_rather_than_reading_the_cache(ip, g):
    from fmwidgets.store import store

    ip.user_ns["data"] = data = pd.DataFrame({"q": ["a cat", "a dog", "a car"], "ref": ["x", "y", "z"]})
    fm.evaluate(data, "{q}", model="g", reference="ref", evaluators=["chrf"], max_new_tokens=2, greedy=True,
                progress=False)
    (cached,) = store().query("SELECT COUNT(*) FROM cache")[0]
    assert cached == 3
    with store().write() as cur:  # the generation cache now says something the model never said
        cur.execute("UPDATE cache SET output = 'not what the model says'")
    verification = fm.repro(verify=True)
    assert list(verification.table["status"])[-1] == "same", verification.table.to_string()
    assert store().query("SELECT DISTINCT output FROM cache") == [("not what the model says",)]  # left as it was
