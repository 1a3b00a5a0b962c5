"""An API model's key reaches its server and nothing else (the ``planted_keys`` fixture searches
every record, history, replay script and notebook, the executed replay, the store files, warnings,
errors and outputs): a model loaded with ``openai:`` (OPENAI_API_KEY) and one of our own
variable (``api_key_env``), through generate, chat, generate_df and evaluate on the local server,
and a server that echoes the key in its 401 body."""

from __future__ import annotations

import pandas as pd

import fmwidgets as fm

OWN_KEY = "sk-fmtest-PLANTED-own-variable-0123456789abcdef"


def test_an_api_key_reaches_the_server_and_nothing_else(planted_keys, served, proxy):
    leaks, ip = planted_keys, planted_keys.ip
    leaks.plant("FM_PLANTED_KEY", OWN_KEY)
    rows = pd.DataFrame({"q": ["one", "two"], "a": ["1", "2"]})
    ip.user_ns["rows"] = rows
    leaks.attempt(
        "load openai:",
        lambda: ip.run_line_magic("fm", f"load openai:{served.model} --base-url {proxy.base_url} --as big"),
    )
    leaks.attempt(
        "load with a key variable",
        lambda: fm.load(served.model, base_url=proxy.base_url, api_key_env="FM_PLANTED_KEY", as_="own"),
    )
    for name in ("big", "own"):
        handle = fm.use(name)
        leaks.keep(f"{name}: fields", repr(vars(handle)) + repr(handle.card()) + repr(handle.spec()))
        leaks.attempt(f"{name}: generate", lambda: fm.generate("Once", max_new_tokens=2, stream=False))
        leaks.attempt(f"{name}: chat", lambda: fm.chat("hello", max_new_tokens=2, stream=False))
        leaks.attempt(
            f"{name}: generate_df", lambda: fm.generate_df(rows, "{q}", max_new_tokens=2, progress=False)
        )
        leaks.attempt(
            f"{name}: evaluate",
            lambda: fm.evaluate(
                rows, "{q}", reference="a", name=f"{name}-run", max_new_tokens=2, progress=False
            ),
        )
    leaks.keep("models", fm.models().to_json())
    sent = {h.get("authorization") for h in proxy.headers}
    assert sent == {f"Bearer {leaks.planted['OPENAI_API_KEY']}", f"Bearer {OWN_KEY}"}  # both keys used
    proxy.reset(rule=lambda n, path, body: (401, {"error": {"message": f"Incorrect API key: {OWN_KEY}"}}))
    leaks.attempt("echoed in an error", lambda: fm.generate("x", max_new_tokens=2, stream=False))
    leaks.attempt("echoed in a batch", lambda: fm.generate_df(rows, "{q}", max_new_tokens=3, progress=False))
    proxy.reset()
    assert "Incorrect API key: [key hidden]" in leaks.texts["echoed in an error (error)"]
    assert "echoed in a batch (error)" in leaks.texts
    leaks.check(inputs="import pandas as pd\nrows = pd.DataFrame({'q': ['one', 'two'], 'a': ['1', '2']})")
    assert "executed replay notebook" in leaks.texts
