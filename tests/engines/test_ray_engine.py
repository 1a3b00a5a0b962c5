"""Batch work on a real local Ray cluster equals the same work in this process.

One 2-CPU Ray cluster is started for the whole module (start-up costs ~25 s on 2 cores) and shut
down at the end.  The tiny models are loaded by the actors from the same folders the fixtures
loaded, and a fine-tune that lives only in this kernel is saved to a folder for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, EngineError

ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: pip install 'fmwidgets[ray]'")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    from fmwidgets.engines.ray import connect

    connect(None)  # a local cluster with this machine's CPUs, as a notebook gets
    yield
    ray.shutdown()


ROWS = pd.DataFrame({"topic": ["cats", "dogs", "tea", "rain", "maps", "jazz", "salt"]})


def test_generate_df_on_ray_equals_in_process(gpt2):
    local = fm.generate_df(ROWS, "Tell me about {topic}:", greedy=True, max_new_tokens=6, batch_size=2,
                           progress=False)
    seen = []
    on_ray = fm.generate_df(ROWS, "Tell me about {topic}:", greedy=True, max_new_tokens=6, batch_size=2,
                            engine="ray", workers=2, progress=False)
    assert on_ray["output"].tolist() == local["output"].tolist()
    assert on_ray.attrs["fmwidgets"]["params"]["engine"] == "ray"


def test_seeded_sampling_on_ray_equals_in_process(gpt2):
    kwargs = dict(max_new_tokens=5, batch_size=3, temperature=0.9, seed=7, progress=False)
    local = fm.generate_df(ROWS, "{topic} is", **kwargs)
    on_ray = fm.generate_df(ROWS, "{topic} is", engine="ray", workers=2, **kwargs)
    assert on_ray["output"].tolist() == local["output"].tolist()


def test_progress_is_fed_by_the_cluster(gpt2):
    from fmwidgets.core.prompting.generate_df import generate_table

    calls = []
    generate_table(ROWS, "{topic}", greedy=True, max_new_tokens=2, batch_size=3, engine="ray",
                progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(ROWS), len(ROWS))
    assert sorted(d for d, _ in calls) == [d for d, _ in calls]


def test_embed_on_ray_equals_in_process(minilm):
    texts = [f"sentence number {i} about {w}" for i, w in enumerate(["cats", "tea", "rain"] * 9)]
    local = fm.embed(texts)
    on_ray = fm.embed(texts, engine="ray", workers=2, batch_size=4)
    assert on_ray.shape == local.shape
    np.testing.assert_allclose(on_ray, local, atol=1e-5)


def test_bad_engine_arguments_are_one_sentence(gpt2):
    with pytest.raises(BadArgumentError, match="workers"):
        fm.generate_df(ROWS, "{topic}", engine="ray", workers=0, progress=False)
    with pytest.raises(BadArgumentError, match="engine"):
        fm.generate_df(ROWS, "{topic}", engine="spark", progress=False)


def test_a_model_folder_missing_on_the_workers_is_one_sentence(gpt2, tmp_path):
    from fmwidgets.core.models.loading import load
    from fmwidgets.model_spec import ModelSpec

    spec = ModelSpec(source="local", model=str(tmp_path / "gone"), name="g", device="cpu", dtype="float32")
    with pytest.raises(EngineError, match="exists only on the notebook's machine"):
        spec.load(load)


def test_a_cuda_model_on_a_cluster_without_gpus_is_one_sentence_before_any_work(gpt2):
    """The cluster here has CPUs only: a model the notebook placed on cuda is refused before any
    actor starts (the handle is a copy that says cuda; nothing is moved or loaded)."""
    import dataclasses

    from fmwidgets.core.models.loading import load
    from fmwidgets.engines import Engine, run_chunks

    on_cuda = dataclasses.replace(gpt2, device="cuda")
    ran = []
    with pytest.raises(EngineError, match="runs on cuda but the Ray cluster has no GPUs"):
        run_chunks(on_cuda, lambda handle, chunk: ran.append(chunk), ["a", "b"], [1, 1], Engine("ray"),
                   load=load)
    assert ran == []


def test_a_failing_worker_names_the_unfinished_rows(gpt2):
    from fmwidgets.core.models.loading import load
    from fmwidgets.engines import Engine, run_chunks

    def boom(handle, chunk):
        if chunk == "c":
            raise RuntimeError("worker lost")
        return [chunk.upper()]

    with pytest.raises(EngineError, match=r"rows \d-2 unfinished \(RuntimeError: worker lost\)") as caught:
        run_chunks(gpt2, boom, ["a", "b", "c"], [1, 1, 1], Engine("ray", workers=1), load=load)
    partial = caught.value.partial
    assert partial[2] is None and all(r in (None, [c.upper()]) for r, c in zip(partial, "ab"))


QA = pd.DataFrame({"q": [f"what is {w}" for w in ["tea", "rain", "salt", "jazz", "maps", "cats", "dogs"]],
                   "a": ["a drink", "water", "a mineral", "music", "paper", "pets", "pets"]})
EVAL = dict(reference="a", evaluators=["exact_match", "chrf"], greedy=True, max_new_tokens=5, batch_size=2)


def test_evaluate_on_ray_equals_in_process_and_cached_rows_stay_here(gpt2):
    local = fm.evaluate(QA, "Q: {q}\nA:", cache=False, **EVAL)
    on_ray = fm.evaluate(QA, "Q: {q}\nA:", cache=False, engine="ray", workers=2, **EVAL)
    assert on_ray.table["output"].tolist() == local.table["output"].tolist()
    pd.testing.assert_frame_equal(on_ray.table[["exact_match", "chrf"]], local.table[["exact_match", "chrf"]])
    pd.testing.assert_frame_equal(on_ray.summary, local.summary)
    assert on_ray.record.params["engine"] == "ray" and "engine" not in local.record.params

    from fmwidgets.core.evaluation.run import run_evaluation

    fm.evaluate(QA.head(3), "Q: {q}\nA:", **EVAL)  # these three rows are now in the store's cache
    seen = []
    mixed = run_evaluation(QA, "Q: {q}\nA:", engine="ray", progress=lambda d, t: seen.append((d, t)), **EVAL)
    assert mixed.record.params["cache_hits"] == 3 and seen[-1] == (4, 4)  # only the misses went to Ray
    assert mixed.table["output"].tolist() == local.table["output"].tolist()


def test_label_on_ray_equals_in_process(minilm, gpt2):
    rows = pd.DataFrame({"text": ["I loved it", "Awful, broke at once", "Great value", "Never again",
                                  "Superb film", "Rude staff", "Works well", "A waste"] * 2})
    labels = {"positive": "a happy review", "negative": "a complaint"}
    scores = ["score_positive", "score_negative"]
    for method, model in (("embedding", minilm), ("prompt", gpt2)):
        local = fm.label(rows, text="text", labels=labels, method=method, model=model)
        on_ray = fm.label(rows, text="text", labels=labels, method=method, model=model, engine="ray", workers=2)
        assert on_ray["label"].tolist() == local["label"].tolist(), method
        np.testing.assert_allclose(on_ray[scores].to_numpy(), local[scores].to_numpy(), atol=1e-5)
        assert on_ray.attrs["fmwidgets"]["engine"] == "ray"


def test_index_on_the_default_engine_ray_equals_in_process(minilm, monkeypatch):
    passages = pd.DataFrame({"text": [f"{w} is a word about {w}s and more" for w in
                                      ["tea", "rain", "salt", "jazz", "maps", "cats", "dogs", "bread", "snow"]]})
    more = pd.DataFrame({"text": ["coffee is a hot drink", "a storm brings rain"]})
    local = fm.index(passages, text="text").add(more)
    monkeypatch.setattr(fm.settings(), "engine", "ray")  # fm.settings().engine is the default
    on_ray = fm.index(passages, text="text", workers=2).add(more)
    assert on_ray.record.params["engine"] == "ray" and len(on_ray) == len(local)
    for query in ("hot drinks", "weather"):
        found, expected = on_ray.search(query, k=4), local.search(query, k=4)
        assert found["text"].tolist() == expected["text"].tolist()
        np.testing.assert_allclose(found["score"], expected["score"], atol=1e-5)


def test_env_shows_the_connected_cluster():
    env = fm.environment()
    cluster = env.engine["cluster"]
    assert cluster["nodes"] >= 1 and cluster["cpus"] >= 1 and cluster["gpus"] == 0 and cluster["address"]
    assert f"Ray at {cluster['address']}" in repr(env)


def test_another_address_than_the_connected_cluster_is_one_sentence_before_any_work(gpt2):
    import socket

    calls = []
    hook = gpt2.model.register_forward_hook(lambda *a: calls.append(1))
    with socket.socket() as other:  # something that answers, but is not this kernel's cluster
        other.bind(("127.0.0.1", 0))
        other.listen()
        elsewhere = f"ray://127.0.0.1:{other.getsockname()[1]}"
        try:
            with pytest.raises(EngineError, match=r"^Nothing answers at the Ray address 'ray://127.0.0.1:1';"):
                fm.generate_df(ROWS, "{topic}", engine="ray", ray_address="ray://127.0.0.1:1", progress=False)
            with pytest.raises(EngineError, match=r"already connected to the Ray cluster at .* ray.shutdown\(\) first"):
                fm.generate_df(ROWS, "{topic}", engine="ray", ray_address=elsewhere, progress=False)
        finally:
            hook.remove()
    assert calls == [] and ray.is_initialized()
    from fmwidgets.engines.ray import connect

    address = ray.get_runtime_context().gcs_address  # the connected cluster's own address is that cluster
    assert connect(address) is ray and connect(address.replace("127.0.0.1", "localhost")) is ray


def test_a_worker_process_that_dies_names_the_rows_and_keeps_the_finished_ones(gpt2):
    import os

    from fmwidgets.core.models.loading import load
    from fmwidgets.engines import Engine, run_chunks

    def die(handle, chunk):
        if chunk == "c":
            os._exit(1)  # the actor's process ends, as when a node goes away
        return [chunk.upper()]

    with pytest.raises(EngineError, match=r"rows \d-2 unfinished") as caught:
        run_chunks(gpt2, die, ["a", "b", "c"], [1, 1, 1], Engine("ray", workers=1), load=load)
    partial = caught.value.partial
    assert partial[2] is None and all(r in (None, [c.upper()]) for r, c in zip(partial, "ab"))
