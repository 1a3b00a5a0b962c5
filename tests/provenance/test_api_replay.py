"""fm.repro(verify=True) over a session with an API-served model (transformers serve behind the
counting proxy): rows replay from the generation cache with no request at all, unless
call_api=True asks the server again; sampled calls asked again are "not deterministic"; the
history and the script name the key's variable, never the key."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError

PROMPTS = ["the cat sat", "one two three", "a dog ran", "hello world"]


def test_verify_replays_api_rows_from_the_cache_and_sends_no_request(ip, api_model, proxy):
    ip.user_ns["data"] = data = pd.DataFrame({"q": PROMPTS, "ref": ["x"] * len(PROMPTS)})
    fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=4, progress=False)
    fm.generate("the cat sat", model="srv", max_new_tokens=4, stream=False)
    assert list(fm.history()["function"]) == ["load", "evaluate", "generate"]
    assert f"base_url={proxy.base_url!r}" in fm.repro().code
    proxy.reset()
    table = fm.repro(verify=True).table
    assert proxy.requests == 0  # not even the load's /v1/models
    assert list(table["status"]) == ["same", "same", "skipped"], table.to_string()
    assert list(table["server"]) == ["server not asked", "4 rows from the cache", ""]
    assert "not in the generation cache" in table.loc[2, "difference"]
    assert "call_api=True" in table.loc[2, "difference"]
    again = ip.run_line_magic("fm", "repro --verify --call-api").table
    assert list(again["status"]) == ["same", "same", "same"], again.to_string()
    assert list(again["server"]) == ["1 request sent again", "4 rows from the cache", "1 request sent again"]
    assert proxy.count("/models") == 1 and proxy.count("/chat/completions") == 1  # the rows stayed cached
    with pytest.raises(BadArgumentError, match="add verify=True"):
        fm.repro(call_api=True)


def test_sampling_asked_again_is_marked_not_deterministic(api_model, proxy):
    fm.generate("the cat sat", model="srv", max_new_tokens=8, temperature=1.5, seed=3, stream=False)
    fm.generate("a dog ran", model="srv", max_new_tokens=8, greedy=True, stream=False)
    proxy.reset()
    verification = fm.repro(verify=True, call_api=True)
    table = verification.table
    assert list(table["status"]) == ["same", "not deterministic", "same"], table.to_string()
    assert verification.ok  # a sampled reply that came back otherwise is not a failure to reproduce
    assert "1 not deterministic" in verification._repr_mimebundle_()[0]["text/plain"]
    assert [p for _, p, _, _ in proxy.log] == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"]
    assert json.loads(proxy.log[1][2])["seed"] == 3  # the recorded seed went out again


def test_history_and_script_name_the_variable_never_the_key(served, proxy, monkeypatch):
    key = "sk-planted-replay-key-0123456789abcdef"
    monkeypatch.setenv("FM_REPLAY_KEY", key)
    fm.load(served.model, base_url=proxy.base_url, api_key_env="FM_REPLAY_KEY", as_="keyed")
    fm.chat("hello", model="keyed", max_new_tokens=3, stream=False)
    code = fm.repro().code
    assert "api_key_env='FM_REPLAY_KEY'" in code and key not in code
    assert key not in fm.history().to_json(default_handler=str)
    assert proxy.headers[-1]["authorization"] == f"Bearer {key}"  # the key was sent, and only there
    table = fm.repro(verify=True, call_api=True).table
    assert list(table["status"]) == ["same", "same"] and key not in table.to_string()
