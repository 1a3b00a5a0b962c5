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
    from fmwidgets.core.generate_df import generate_table

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
    from fmwidgets.engines.ray import ModelSpec

    spec = ModelSpec(source=str(tmp_path / "gone"), name="g", task=None, device="cpu",
                     dtype="float32", revision=None, trust_remote_code=False, local=True)
    with pytest.raises(EngineError, match="exists only on the notebook's machine"):
        spec.load()


def test_a_failing_worker_names_the_unfinished_rows(gpt2):
    from fmwidgets.engines import run_chunks

    def boom(handle, chunk):
        if chunk == "c":
            raise RuntimeError("worker lost")
        return [chunk.upper()]

    with pytest.raises(EngineError, match=r"rows \d-2 unfinished \(RuntimeError: worker lost\)") as caught:
        run_chunks(gpt2, boom, ["a", "b", "c"], [1, 1, 1], engine="ray", workers=1)
    partial = caught.value.partial
    assert partial[2] is None and all(r in (None, [c.upper()]) for r, c in zip(partial, "ab"))
