"""RunRecord, DataFrame fingerprints, recorded calls and what fm.repro() makes of them."""

from __future__ import annotations

import pandas as pd

import fmwidgets as fm
from fmwidgets.config import settings
from fmwidgets.records import RunRecord, fingerprint_df
from fmwidgets.provenance.history import entries, recorded
from fmwidgets.render import Recorded


@recorded
def count_rows(df, column="text"):
    """A public-API-style function, as every fmwidgets feature is decorated."""
    return len(df[column])


def test_record_for_a_model_has_what_produced_the_result(gpt2):
    df = pd.DataFrame({"text": ["a", "b"]})
    record = RunRecord.for_model("generate", gpt2, {"temperature": 0.7, "stop": ("x",)}, seed=3, data=df)
    d = record.to_dict()
    assert (d["model"], d["commit"], d["dtype"], d["device"]) == (gpt2.model_id, gpt2.commit, "float32", "cpu")
    assert d["params"] == {"temperature": 0.7, "stop": ["x"]} and d["seed"] == 3
    assert d["data"]["shape"] == [2, 1] and d["data"]["columns"] == ["text"]
    assert set(d["versions"]) >= {"fmwidgets", "torch", "transformers"}
    assert record.summary() == f"generate · gpt2@{gpt2.commit[:8]} · temperature=0.7, stop=['x'] seed=3"


def test_fingerprint_follows_content_not_identity():
    a = pd.DataFrame({"text": ["x", "y"], "label": [0, 1]})
    assert fingerprint_df(a) == fingerprint_df(a.copy())
    changed = a.copy()
    changed.loc[1, "text"] = "z"
    assert fingerprint_df(changed)["sha256"] != fingerprint_df(a)["sha256"]
    assert fingerprint_df(a["text"])["columns"] == ["text"]


def _shown(result):
    return {"text/html": "<p>result</p>", "text/plain": "result"}


class _Shown(Recorded, look=_shown):
    def __init__(self):
        self.record = RunRecord(kind="demo", model_name="<b>m</b>", params={"p": "<i>"})


def test_displayed_results_carry_the_record_and_an_escaped_line_on_request():
    data, meta = _Shown()._repr_mimebundle_()
    assert meta["fmwidgets"]["kind"] == "demo" and "fm-record" not in data["text/html"]
    settings().show_record = True
    try:
        data, _ = _Shown()._repr_mimebundle_()
    finally:
        settings().show_record = False
    assert "&lt;b&gt;m&lt;/b&gt;" in data["text/html"] and "<b>m</b>" not in data["text/html"]
    assert data["text/plain"].endswith("demo · <b>m</b> · p=<i>")


def test_recorded_calls_name_notebook_variables_and_repro_comments_out_nameless_ones(ip):
    ip.user_ns["texts"] = pd.DataFrame({"text": ["a", "b", "c"]})
    assert count_rows(ip.user_ns["texts"]) == 3
    assert count_rows(ip.user_ns["texts"].head(2), column="text") == 2
    assert [e.code for e in entries] == ["fm.count_rows(df=texts)", "fm.count_rows(df=<DataFrame>, column='text')"]
    named = entries[0].arguments["df"]
    assert named.kind == "variable" and named.fingerprint == fingerprint_df(ip.user_ns["texts"])
    code = fm.repro().code
    assert "\nfm.count_rows(df=texts)\n" in code and "Define these notebook variables before running it: texts" in code
    assert "# an argument had no variable name" in code
    assert "\n# fm.count_rows(df=<DataFrame>, column='text')\n" in code
