"""Engine choice and its one-sentence refusals, without starting a cluster."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, EngineError, MissingDependencyError

ROWS = pd.DataFrame({"topic": ["cats", "dogs"]})


def test_an_unreachable_ray_address_is_one_sentence(gpt2):
    """Ray itself would retry a wrong address for minutes; fmwidgets checks it first."""
    import socket

    with socket.socket() as s:  # a port on this machine where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EngineError, match="Nothing answers at the Ray address"):
        fm.generate_df(ROWS, "{topic}", engine="ray", ray_address=f"127.0.0.1:{port}", progress=False)


def test_without_the_ray_extra_engine_ray_names_the_install_command(gpt2, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as when not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'fmwidgets\[ray\]'"):
        fm.embed(["a text"], engine="ray")


def test_vllm_without_cuda_is_one_sentence_before_any_generation(gpt2):
    with pytest.raises(EngineError, match="needs a CUDA GPU"):
        fm.generate_df(ROWS, "{topic}", engine="vllm", progress=False)


def test_vllm_for_embeddings_says_it_generates_text_only(minilm):
    with pytest.raises(BadArgumentError, match="text generation only"):
        fm.embed(["a text"], engine="vllm")


def test_the_default_engine_comes_from_the_settings(gpt2):
    settings = fm.settings()
    settings.engine = "spark"
    try:
        with pytest.raises(BadArgumentError, match="not an engine"):
            fm.generate_df(ROWS, "{topic}", progress=False)
    finally:
        settings.engine = "local"


def test_env_names_the_engine(gpt2):
    env = fm.environment()
    assert env.engine["engine"] == "local"
    assert "engine" in repr(env) and "Ray" in repr(env)


def test_engine_flags_on_the_prompt_magic(ip, gpt2):
    from IPython.core.error import UsageError

    ip.user_ns["rows"] = ROWS
    out = ip.run_line_magic("fm", 'prompt --df rows --template "{topic}" --greedy --max-new-tokens 2 --engine local')
    assert len(out) == 2
    with pytest.raises(UsageError, match="--df runs only"):
        ip.run_cell_magic("fm", "prompt --engine ray", "hello")


QA = pd.DataFrame({"q": ["what is tea", "what is rain"], "a": ["a drink", "water"]})


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_evaluate_label_and_index_refuse_bad_engine_arguments_before_any_work(gpt2, minilm):
    from fmwidgets.store import store

    runs = store().query("SELECT COUNT(*) FROM runs")[0][0]
    with pytest.raises(BadArgumentError, match=r"workers=0 must be a whole number of at least 1\."):
        fm.evaluate(QA, "Q: {q}", model=gpt2, reference="a", engine="ray", workers=0)
    with pytest.raises(EngineError, match="Nothing answers at the Ray address"):
        fm.evaluate(QA, "Q: {q}", model=gpt2, reference="a", engine="ray", ray_address=f"127.0.0.1:{_free_port()}",
                    greedy=True, max_new_tokens=2)
    assert store().query("SELECT COUNT(*) FROM runs")[0][0] == runs  # nothing stored, nothing half-done
    with pytest.raises(EngineError, match="needs a CUDA GPU"):
        fm.evaluate(QA, "Q: {q}", model=gpt2, reference="a", engine="vllm")
    with pytest.raises(BadArgumentError, match="workers=-1"):
        fm.label(QA, text="q", labels=["x", "y"], workers=-1, engine="ray")
    with pytest.raises(BadArgumentError, match="text generation only"):
        fm.label(QA, text="q", labels=["x", "y"], method="prompt", model=gpt2, engine="vllm")
    with pytest.raises(BadArgumentError, match="workers=0"):
        fm.index(QA, text="q", model=minilm, engine="ray", workers=0)
    idx = fm.index(QA, text="q", model=minilm)
    with pytest.raises(EngineError, match="Nothing answers"):
        idx.add(QA, engine="ray", ray_address=f"127.0.0.1:{_free_port()}")
    assert len(idx) == 2  # the index kept its rows


def test_evaluating_a_classifier_on_an_engine_is_one_sentence(bert):
    with pytest.raises(BadArgumentError, match="generates with prompt= on a decoder"):
        fm.evaluate(QA, text="q", model=bert, engine="ray")


def test_the_default_engine_from_the_settings_reaches_evaluate_label_and_index(gpt2, minilm, monkeypatch):
    monkeypatch.setattr(fm.settings(), "engine", "spark")
    for call in (lambda: fm.evaluate(QA, "Q: {q}", model=gpt2, reference="a"),
                 lambda: fm.label(QA, text="q", labels=["x", "y"], model=minilm),
                 lambda: fm.index(QA, text="q", model=minilm)):
        with pytest.raises(BadArgumentError, match="'spark' is not an engine"):
            call()


def test_engine_flags_on_the_eval_label_and_index_magics(ip, gpt2, minilm):
    ip.user_ns["qa"] = QA
    with pytest.raises(BadArgumentError, match="workers=0"):
        ip.run_line_magic("fm", 'eval qa --prompt "Q: {q}" --model gpt2 --reference a --engine ray --workers 0')
    with pytest.raises(BadArgumentError, match="text generation only"):
        ip.run_line_magic("fm", "label qa --text q --labels 'x,y' --model all-MiniLM-L6-v2 --engine vllm")
    with pytest.raises(BadArgumentError, match="workers=0"):
        ip.run_line_magic("fm", "index qa --text q --as docs --model all-MiniLM-L6-v2 --engine ray --workers 0")
