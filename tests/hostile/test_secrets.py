"""Keys in the environment never leave it: no record, history, replay (script, notebook, executed
notebook), %fm env, store, warning, error, printed or displayed output holds them.

The ``planted_keys`` fixture (tests/conftest.py) sets ``HF_TOKEN``, ``OPENAI_API_KEY`` and
``ANTHROPIC_API_KEY``; a session runs through ``STEPS`` (magics and Python calls, a few that try to
read the keys, a few that fail), and ``check()`` reads back every place a key could end up.  To
cover another kind of work (API models), append a step here, or use the fixture in a test of your
own (``planted_keys.plant(NAME, value)`` for a key variable of your own).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pandas as pd

import fmwidgets as fm


def _models(leaks, model_path) -> None:
    leaks.attempt("load magic", lambda: leaks.ip.run_line_magic("fm", f"load {model_path} --as g"))
    leaks.attempt("load a hub id offline", lambda: fm.load("someone/not-a-model"))


def _prompts(leaks, model_path) -> None:
    ip = leaks.ip
    ip.user_ns.update(name="Ada", tok=os.environ["HF_TOKEN"], env=dict(os.environ))
    magic = "prompt --model g --max-new-tokens 2 --greedy --no-stream"
    leaks.attempt("prompt magic", lambda: ip.run_cell_magic("fm", magic, "Hello {name}"))
    for text in ("{os.environ[HF_TOKEN]}", "{tok}", "{env[OPENAI_API_KEY]}", "{env}"):
        leaks.attempt(f"prompt {text}", lambda text=text: ip.run_cell_magic("fm", magic, text))
    leaks.attempt("generate", lambda: fm.generate("Once", model="g", max_new_tokens=2, temperature=0.7, seed=1,
                                                  stream=False))
    leaks.attempt("save_prompt", lambda: fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=2))


def _evaluation(leaks, model_path) -> None:
    rows = pd.DataFrame({"q": ["one", "two"], "a": ["1", "2"]})
    leaks.ip.user_ns["rows"] = rows
    leaks.attempt("evaluate", lambda: fm.evaluate(rows, "qa@1", model="g", reference="a", name="s", greedy=True))
    leaks.attempt("a bad keyword",
                  lambda: fm.generate("x", model="g", **{"api key": os.environ["OPENAI_API_KEY"]}))
    leaks.attempt("env magic", lambda: leaks.ip.run_line_magic("fm", "env"))


STEPS: list[Callable] = [_models, _prompts, _evaluation]


def test_no_planted_key_appears_anywhere(planted_keys, tiny_paths):
    for step in STEPS:
        step(planted_keys, str(tiny_paths["gpt2"]))
    planted_keys.check(inputs="import pandas as pd\nname = 'Ada'\n"
                              "rows = pd.DataFrame({'q': ['one', 'two'], 'a': ['1', '2']})")
    assert {"prompt {tok} (error)", "prompt {os.environ[HF_TOKEN]} (error)", "evaluate", "env magic",
            "executed replay notebook"} <= set(planted_keys.texts)  # the session reached every place
