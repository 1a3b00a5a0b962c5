"""An API key is used for requests and appears nowhere else: a planted key is grepped for in every
output, record, history entry, repro script, the store file, %fm env, warnings and errors."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import fmwidgets as fm

KEY = "sk-fmtest-PLANTED-0123456789abcdef"
SECRET_PART = "0123456789abcdef"  # the key without its sk- shape (the variable is named FM_PLANTED_KEY)


def _text(result) -> str:
    data, metadata = (
        result._repr_mimebundle_() if hasattr(result, "record") else (result._repr_mimebundle_(), {})
    )
    return json.dumps(data, default=str) + json.dumps(metadata, default=str)


def test_a_planted_key_reaches_the_server_and_nothing_else(
    ip, served, proxy, isolated_store, tmp_path, monkeypatch
):
    monkeypatch.setenv("FM_PLANTED_KEY", KEY)
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handle = ip.run_line_magic(
            "fm", f"load {served.model} --base-url {proxy.base_url} --api-key-env FM_PLANTED_KEY --as keyed"
        )
        gen = fm.generate("the cat sat", model="keyed", max_new_tokens=4, stream=False)
        reply = fm.chat("hello", model="keyed", max_new_tokens=4, stream=False)
        table = fm.generate_df(
            pd.DataFrame({"q": ["a b", "c d"]}), "{q}", model="keyed", max_new_tokens=3, progress=False
        )
        run = fm.evaluate(
            pd.DataFrame({"q": ["a b"], "r": ["x"]}),
            "{q}",
            model="keyed",
            reference="r",
            max_new_tokens=3,
            progress=False,
        )
        sent_with = proxy.headers[-1]["authorization"]
        # a server that echoes the key in its error body: the sentence redacts it
        proxy.reset(
            rule=lambda n, path, body: (401, {"error": {"message": f"Incorrect API key provided: {KEY}"}})
        )
        with pytest.raises(fm.FMError) as refused:
            fm.generate("x", model="keyed", max_new_tokens=2, stream=False)
        with pytest.raises(fm.EngineError) as failed:
            fm.generate_df(
                pd.DataFrame({"q": ["a", "b"]}), "{q}", model="keyed", max_new_tokens=2, progress=False
            )
        proxy.reset()
        env = fm.environment()
    assert sent_with == f"Bearer {KEY}"  # the key was used
    seen += [
        _text(handle),
        repr(handle),
        json.dumps(handle.card()),
        json.dumps(handle.spec().to_dict()),
        repr(vars(handle)),
    ]
    seen += [_text(gen), _text(reply), json.dumps(table.attrs, default=str), table.to_json(), _text(run)]
    seen += [
        str(refused.value),
        repr(refused.value.__cause__),
        str(failed.value),
        repr(failed.value.__cause__),
    ]
    seen += [fm.history().to_json(default_handler=str), fm.repro().code, json.dumps(fm.repro().notebook())]
    seen += [_text(env), str(ip.run_line_magic("fm", "list")), fm.models().to_json()]
    seen += [str(w.message) for w in caught]
    store_files = sorted(isolated_store.parent.glob("store.sqlite*"))
    assert store_files and "Incorrect API key provided: [key hidden]" in str(refused.value)
    leaks = [i for i, text in enumerate(seen) if KEY in text or SECRET_PART in text]
    assert leaks == []
    assert all(SECRET_PART.encode() not in f.read_bytes() for f in store_files)
    assert "FM_PLANTED_KEY" in fm.repro().code  # the variable's name is how a replay finds the key
