"""Shared fixtures: offline hub, tiny local checkpoints, a clean registry per test, an IPython shell.

Tiny checkpoints are built once per test session from configs (fmwidgets.testing) and loaded
through fm.load(path), the same path users take.  Each test starts with an empty registry and
history; the session-loaded handles are re-registered by the fixtures that name them.
``planted_keys`` sets fake API keys and searches every place one could leak to (``Leaks``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models gain nothing from threads, and on a busy 2-core machine they lose a lot.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

from fmwidgets import testing
from fmwidgets.core.models.registry import registry
from fmwidgets.provenance import history


@pytest.fixture(autouse=True)
def clean_registry():
    """Every test starts with no model loaded and an empty history, and leaves nothing behind."""
    saved, current = dict(registry._models), registry.current
    registry._models.clear()
    registry.current = None
    history.clear()
    yield registry
    registry._models.clear()
    registry._models.update(saved)
    registry.current = current
    history.clear()


@pytest.fixture(autouse=True)
def isolated_store(tmp_path, monkeypatch):
    """Every test gets its own SQLite store (fmwidgets/store.py) in its temporary folder."""
    from fmwidgets import store as store_module
    from fmwidgets.config import settings

    monkeypatch.setattr(settings(), "store_path", str(tmp_path / "store.sqlite"))
    monkeypatch.setattr(store_module, "_stores", {})
    yield tmp_path / "store.sqlite"
    for opened in store_module._stores.values():
        opened.close()


@pytest.fixture(scope="session")
def tiny_paths(tmp_path_factory):
    """Folders of the tiny checkpoints: {'gpt2', 'chat', 'bert', 'clip'} -> Path."""
    root = tmp_path_factory.mktemp("tiny")
    return {
        "gpt2": testing.tiny_gpt2(root / "gpt2"),
        "chat": testing.tiny_chat_gpt2(root / "chat"),
        "bert": testing.tiny_bert(root / "bert"),
        "clip": testing.tiny_clip(root / "clip"),
        "whisper": testing.tiny_whisper(root / "whisper"),
        "vit": testing.tiny_vit(root / "vit"),
    }


_loaded: dict[str, object] = {}


def _handle(key: str, loader):
    """Load once per session, then register the same handle in each test's clean registry."""
    if key not in _loaded:
        _loaded[key] = loader()
        registry._models.pop(_loaded[key].name, None)
    handle = _loaded[key]
    registry.add(handle)
    return handle


@pytest.fixture
def gpt2(tiny_paths):
    """A tiny GPT-2 decoder, registered as 'gpt2' and current."""
    import fmwidgets as fm

    return _handle("gpt2", lambda: fm.load(str(tiny_paths["gpt2"]), as_="gpt2"))


@pytest.fixture
def judge_gpt2(tmp_path_factory):
    """A tiny GPT-2 whose context (1024) holds a whole judge prompt, registered as 'judge-lm'."""
    import fmwidgets as fm

    return _handle(
        "judge-lm",
        lambda: fm.load(
            str(testing.tiny_gpt2(tmp_path_factory.mktemp("judge-lm"), context=1024)), as_="judge-lm"
        ),
    )


@pytest.fixture
def chat_gpt2(tiny_paths):
    """A tiny GPT-2 with a chat template, registered as 'chat'."""
    import fmwidgets as fm

    return _handle("chat", lambda: fm.load(str(tiny_paths["chat"]), as_="chat"))


@pytest.fixture
def bert(tiny_paths):
    """A tiny BERT with a masked-LM head, registered as 'bert'."""
    import fmwidgets as fm

    return _handle("bert", lambda: fm.load(str(tiny_paths["bert"]), as_="bert"))


@pytest.fixture
def clip(tiny_paths):
    """A tiny CLIP model with its processor, registered as 'clip'."""
    import fmwidgets as fm

    return _handle("clip", lambda: fm.load(str(tiny_paths["clip"]), as_="clip"))


@pytest.fixture
def whisper(tiny_paths):
    """A tiny Whisper speech-to-text model with its processor, registered as 'whisper'."""
    import fmwidgets as fm

    return _handle("whisper", lambda: fm.load(str(tiny_paths["whisper"]), as_="whisper"))


@pytest.fixture
def vit(tiny_paths):
    """A tiny ViT image classifier with its image processor and labels, registered as 'vit'."""
    import fmwidgets as fm

    return _handle("vit", lambda: fm.load(str(tiny_paths["vit"]), as_="vit"))


@pytest.fixture
def minilm():
    """The embedded all-MiniLM-L6-v2 (real weights), registered as 'all-MiniLM-L6-v2'."""
    import fmwidgets as fm

    return _handle("minilm", lambda: fm.load())


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """A real OpenAI-compatible server for the whole session: `transformers serve` over the tiny
    chat Llama (fmwidgets.testing.tiny_chat_llama), started on first use (6-20 s), stopped at the
    end.  ``served.base_url`` is http://127.0.0.1:PORT/v1, ``served.model`` the name requests
    give (its folder), which ``fm.load(served.model)`` also loads in-process."""
    from fmwidgets.testing_server import ServedModel

    folder = testing.tiny_chat_llama(tmp_path_factory.mktemp("served") / "llama")
    with ServedModel(folder) as server:
        yield server


def _llama_home() -> Path:
    """Where llama-server is built; the test skips, saying how to build it, where it is not."""
    from fmwidgets.testing_server import llama_home

    home = llama_home()
    if home is None:
        pytest.skip("llama-server is not built here: run bash scripts/llama_server.sh (needs cmake, g++)")
    return home


@pytest.fixture(scope="session")
def llama(tmp_path_factory):
    """llama.cpp's llama-server (fmwidgets.testing_server.LlamaServer) over the same tiny chat
    Llama as ``served``: a real server that returns log-probabilities and speaks Anthropic's
    Messages API.  scripts/test.sh builds it (scripts/llama_server.sh); where it has not been built
    the tests that need it skip and say how to build it."""
    from fmwidgets.testing_server import LlamaServer

    home = _llama_home()
    folder = testing.tiny_chat_llama(tmp_path_factory.mktemp("llama") / "llama")
    with LlamaServer(folder, home) as server:
        yield server


def _grader_examples() -> list[tuple[str, dict[str, float]]]:
    """What ``llama_judge`` learns: the judge's prompts (fmwidgets.core.evaluation.judge) answered
    with a score spread over 1-5, its pairwise prompts with A or B, fm.label's prompt on an API
    model (core/embedding/served_label.py) with 'good' or 'bad'."""
    import pandas as pd

    from fmwidgets.core.embedding.served_label import label_messages
    from fmwidgets.core.evaluation.judge import Judge

    judge = Judge("judge", needs_reference=False)
    asked = pd.DataFrame({"prompt": ["where is the cat", "what did the dog do", "how is the weather"]})
    first = ["the cat sat on the mat", "a dog ran across the park", "the weather today is sunny"]
    second = ["the soup tastes good", "it will rain tomorrow", "one two three"]
    scores = judge.prompts(first, asked) + judge.prompts(second, asked)
    pairs = judge.pair_prompts(asked, first, second) + judge.pair_prompts(asked, second, first)
    labels = [label_messages(t, ["good", "bad"], ["good", "bad"])[0]["content"] for t in first + second]
    return (
        [(p, {"2": 0.2, "3": 0.3, "4": 0.4, "5": 0.1}) for p in scores]
        + [(p, {"A": 0.7, "B": 0.3}) for p in pairs]
        + [(p, {"good": 0.6, "bad": 0.4}) for p in labels]
    )


@pytest.fixture(scope="session")
def llama_judge(tmp_path_factory):
    """llama-server (as ``llama``) over a tiny chat Llama taught in a few seconds
    (fmwidgets.testing.teach_replies) to answer the judge's prompts with a score, its pairwise
    prompts with A or B and fm.label's with a label: a random model puts next to no probability
    on digits, so a log-probability judge would have nothing to read from it."""
    from fmwidgets.testing_server import LlamaServer

    home = _llama_home()
    examples = _grader_examples()
    folder = testing.tiny_chat_llama(
        tmp_path_factory.mktemp("llama-judge") / "judge", corpus=[m for m, _ in examples] + ["1 2 3 4 5 A B"]
    )
    with LlamaServer(testing.teach_replies(folder, examples), home) as server:
        yield server


@pytest.fixture(scope="session")
def _session_proxy(served):
    from fmwidgets.testing_server import FaultProxy

    with FaultProxy(served.url) as proxy:
        yield proxy


@pytest.fixture
def proxy(_session_proxy):
    """A fault-injecting proxy in front of ``served`` (fmwidgets.testing_server.FaultProxy), its
    count and faults reset for each test: ``proxy.reset({2: 429, 3: "drop"})``,
    ``proxy.requests``, ``proxy.base_url``."""
    yield _session_proxy.wait_idle().reset()
    _session_proxy.reset()


@pytest.fixture
def api_model(served, proxy):
    """``served`` loaded as the API-served model 'srv' through ``proxy`` (so its requests are
    counted there: ``proxy.requests`` starts at 0 after the load), 2 retries, 4 in flight."""
    import fmwidgets as fm

    handle = fm.load(
        served.model, base_url=proxy.base_url, as_="srv", max_retries=2, max_concurrency=4, timeout=30
    )
    proxy.reset()
    return handle


@pytest.fixture
def served_local(served):
    """The served model's folder loaded in this process as 'local' (greedy output must match)."""
    import fmwidgets as fm

    return _handle("served_local", lambda: fm.load(str(served.folder), as_="local"))


@pytest.fixture
def ip():
    """A real IPython shell with `%load_ext fmwidgets` done."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("fmwidgets")
    yield shell
    for name in [n for n in shell.user_ns if not n.startswith("_")]:
        if name not in ("In", "Out", "exit", "quit", "get_ipython"):
            shell.user_ns.pop(name, None)


PLANTED_KEYS = {
    "HF_TOKEN": "hf_PlantedTokenForTheSecretsTest0001",
    "OPENAI_API_KEY": "sk-planted-openai-key-for-the-secrets-test-0002",
    "ANTHROPIC_API_KEY": "sk-ant-planted-anthropic-key-for-the-secrets-test-0003",
}


class Leaks:
    """Every place a planted key could end up, read back and searched (the ``planted_keys`` fixture).

    A test runs its calls through ``attempt`` (or hands results and errors to ``keep``), then calls
    ``check()``: it adds the session's own places (the history, the replay script and notebook, that
    notebook executed in a fresh kernel with the keys set, the store files, widget state, warnings,
    printed output) and asserts that no planted value is in any of them.  ``plant`` adds a key of
    one's own (an API model's key variable)."""

    def __init__(self, monkeypatch, ip, store_file: Path, capsys, caught: list) -> None:
        self.planted: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.ip = ip
        self._monkeypatch, self._store, self._capsys, self._caught = monkeypatch, store_file, capsys, caught
        for name, value in PLANTED_KEYS.items():
            self.plant(name, value)

    def plant(self, name: str, value: str) -> None:
        self._monkeypatch.setenv(name, value)
        self.planted[name] = value

    def keep(self, label: str, value: Any) -> None:
        """A result (its repr, and the display data and metadata a saved notebook holds), an error
        (with its whole chain, as a traceback shows it), or a text."""
        if isinstance(value, BaseException):
            self.texts[f"{label} (error)"] = "".join(traceback.format_exception(value))
        elif isinstance(value, (str, bytes)):
            self.texts[label] = value.decode("latin-1") if isinstance(value, bytes) else value
        else:
            data, metadata = self.ip.display_formatter.format(value)
            self.texts[label] = repr(value) + json.dumps([data, metadata], default=repr)

    def attempt(self, label: str, call: Callable[[], Any]) -> None:
        """``call()``'s result, or the FMError it raised (any other exception fails the test)."""
        from fmwidgets.errors import FMError

        try:
            self.keep(label, call())
        except FMError as exc:
            self.keep(label, exc)

    def check(self, execute: bool = True, inputs: str = "") -> None:
        """Read back the session's places and assert that no planted value is in any place kept.

        ``execute``: also run the replay notebook in a fresh kernel, after a first cell ``inputs``
        that defines the notebook variables the replay's header asks for."""
        import fmwidgets as fm

        self.keep("history", fm.history().to_json(default_handler=str))
        notebook = self._store.parent / "replay-of-the-secrets-session.ipynb"
        script = fm.repro(notebook, overwrite=True)
        self.keep("replay script", script.code)
        self.keep("replay notebook", notebook.read_text())
        failed = []
        if execute:
            saved, failed = _executed(notebook, inputs)
            self.keep("executed replay notebook", saved)
        if "ipywidgets" in sys.modules:  # what "save widget state" writes into a notebook
            import ipywidgets

            self.keep("widget state", json.dumps(ipywidgets.Widget.get_manager_state(), default=repr))
        self.keep("warnings", "\n".join(str(w.message) for w in self._caught))
        printed = self._capsys.readouterr()
        self.keep("printed", printed.out + printed.err)
        folder = self._store.parent  # this kernel's store and the replay kernel's (in its folder)
        for path in sorted([*folder.glob(self._store.name + "*"), *folder.glob(".fmwidgets/*")]):
            self.keep(f"store file {path.relative_to(folder)}", path.read_bytes())  # with -wal, -shm
        found = {
            label: [name for name, value in self.planted.items() if value in text]
            for label, text in self.texts.items()
        }
        assert {label: names for label, names in found.items() if names} == {}
        assert not failed, failed  # the replay ran through, so each of its outputs was searched


def _executed(path: Path, inputs: str) -> tuple[str, list]:
    """The notebook at ``path`` run in a fresh kernel (this environment, keys included; its store in
    the notebook's folder) after a cell ``inputs``: as a saved notebook holds it, and its errors."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(inputs))
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=dict(os.environ))
    failed = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    return nbformat.writes(nb), failed


@pytest.fixture
def planted_keys(monkeypatch, ip, isolated_store, capsys):
    """``HF_TOKEN``, ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` set to planted values; a ``Leaks``
    that the test feeds its calls to and ends with ``.check()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield Leaks(monkeypatch, ip, isolated_store, capsys, caught)
