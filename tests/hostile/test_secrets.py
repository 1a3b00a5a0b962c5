"""Keys in the environment never leave it: no record, history, replay, %fm env, store, warning,
error, printed or displayed output holds them.

``HF_TOKEN``, ``OPENAI_API_KEY`` and ``ANTHROPIC_API_KEY`` are planted, a session runs through
``STEPS`` (magics and Python calls, a few that try to read the keys, a few that fail), and then
every place a key could end up is read back and searched.  To cover another kind of work (API
models), append a step: a function of the ``Session`` that runs calls and hands what they return
or raise to ``session.keep`` (results are kept with their display and metadata).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import FMError

PLANTED = {
    "HF_TOKEN": "hf_PlantedTokenForTheSecretsTest0001",
    "OPENAI_API_KEY": "sk-planted-openai-key-for-the-secrets-test-0002",
    "ANTHROPIC_API_KEY": "sk-ant-planted-anthropic-key-for-the-secrets-test-0003",
}


@dataclass
class Session:
    """What one test session saw: texts by where they came from."""

    ip: Any
    tmp: Path
    model_path: str
    texts: dict[str, str] = field(default_factory=dict)

    def keep(self, label: str, value: Any) -> None:
        """A result (with what IPython would display and save of it), an error, or a text."""
        if isinstance(value, BaseException):
            self.texts[f"{label} (error)"] = f"{type(value).__name__}: {value}"
            return
        data, metadata = self.ip.display_formatter.format(value)
        self.texts[label] = repr(value) + json.dumps([data, metadata], default=repr)

    def attempt(self, label: str, call: Callable[[], Any]) -> None:
        try:
            self.keep(label, call())
        except FMError as exc:
            self.keep(label, exc)


def _models(s: Session) -> None:
    s.attempt("load magic", lambda: s.ip.run_line_magic("fm", f"load {s.model_path} --as g"))
    s.attempt("load a hub id offline", lambda: fm.load("someone/not-a-model"))


def _prompts(s: Session) -> None:
    s.ip.user_ns.update(name="Ada", os=os, tok=os.environ["HF_TOKEN"], env=dict(os.environ))
    s.attempt("prompt magic", lambda: s.ip.run_cell_magic(
        "fm", "prompt --model g --max-new-tokens 2 --greedy --no-stream", "Hello {name}"))
    for text in ("{os.environ[HF_TOKEN]}", "{tok}", "{env[OPENAI_API_KEY]}", "{env}"):
        s.attempt(f"prompt {text}", lambda text=text: s.ip.run_cell_magic(
            "fm", "prompt --model g --max-new-tokens 2 --greedy --no-stream", text))
    s.attempt("generate", lambda: fm.generate("Once", model="g", max_new_tokens=2, temperature=0.7, seed=1,
                                              stream=False))
    s.attempt("save_prompt", lambda: fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=2))


def _evaluation(s: Session) -> None:
    rows = pd.DataFrame({"q": ["one", "two"], "a": ["1", "2"]})
    s.ip.user_ns["rows"] = rows
    s.attempt("evaluate", lambda: fm.evaluate(rows, "qa@1", model="g", reference="a", name="s", greedy=True))
    s.attempt("a bad keyword", lambda: fm.generate("x", model="g", **{"api key": os.environ["OPENAI_API_KEY"]}))


def _session_records(s: Session) -> None:
    s.attempt("env magic", lambda: s.ip.run_line_magic("fm", "env"))
    s.keep("history", fm.history().to_json(default_handler=str))
    script = fm.repro(s.tmp / "replay.py")
    s.keep("replay script", script.code)
    s.keep("replay notebook", json.dumps(script.notebook()))


STEPS: list[Callable[[Session], None]] = [_models, _prompts, _evaluation, _session_records]


@pytest.fixture
def planted(monkeypatch):
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    return PLANTED


def test_no_planted_key_appears_anywhere(planted, ip, tiny_paths, tmp_path, isolated_store, capsys):
    session = Session(ip=ip, tmp=tmp_path, model_path=str(tiny_paths["gpt2"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in STEPS:
            step(session)
    session.keep("warnings", "\n".join(str(w.message) for w in caught))
    printed = capsys.readouterr()
    session.keep("printed", printed.out + printed.err)
    for path in sorted(isolated_store.parent.glob(isolated_store.name + "*")):  # the store, -wal, -shm
        session.keep(f"store file {path.name}", path.read_bytes().decode("latin-1"))
    assert {"prompt {tok} (error)", "prompt {os.environ[HF_TOKEN]} (error)", "evaluate", "history",
            "replay script"} <= set(session.texts)  # the session did reach every place it searches
    leaks = {label: [name for name, value in planted.items() if value in text]
             for label, text in session.texts.items()}
    assert {label: names for label, names in leaks.items() if names} == {}
