"""fm.index / fm.open_index: exact cosine search on MiniLM vectors, persistence, add, chunks, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError

PASSAGES = pd.DataFrame({
    "text": ["the cat sat on the mat", "stocks fell sharply as investors worried", "it will rain tomorrow",
             "a dog ran across the park", "the new phone has a long battery life", "our team won the match",
             "scientists found water on a distant planet", "she reads a book every night"],
    "doc": [f"d{i}" for i in range(8)],
})


@pytest.fixture
def idx(minilm):
    return fm.index(PASSAGES, text="text")


def test_search_equals_exact_cosine_over_minilm_vectors(idx):
    vectors = fm.embed(PASSAGES["text"].tolist())
    for query in ("weather forecast", "pets", "money and markets"):
        q = fm.embed([query])[0]
        scores = vectors @ q
        order = np.argsort(-scores)[:5]
        found = idx.search(query, k=5)
        assert found["doc"].tolist() == PASSAGES["doc"].iloc[order].tolist()
        np.testing.assert_allclose(found["score"].to_numpy(), scores[order], atol=1e-5)
        assert list(found.columns) == ["text", "doc", "score"]
    assert len(idx) == 8 and not idx.ann


def test_add_appends_and_is_searched(idx):
    idx.add(pd.DataFrame({"text": ["sunny weather with a light breeze"], "doc": ["new"]}))
    assert len(idx) == 9
    assert idx.search("what is the weather like", k=1)["doc"].tolist() == ["new"]
    with pytest.raises(DataError, match="columns"):
        idx.add(pd.DataFrame({"passage": ["x"]}).assign(text="y"))
    assert len(idx) == 9


def test_persists_across_processes_and_refuses_another_model(minilm, bert, tmp_path):
    folder = tmp_path / "idx"
    fm.index(PASSAGES, text="text", model=minilm, path=str(folder))
    meta = json.loads((folder / "fmwidgets-index.json").read_text())
    assert meta["model"]["id"] == minilm.model_id and meta["model"]["pooling"] == "mean"
    code = textwrap.dedent(f"""
        import fmwidgets as fm
        idx = fm.open_index({str(folder)!r})
        print(len(idx), idx.search("rainy weather", k=1)["doc"][0])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["8", "d2"]
    with pytest.raises(DataError, match="was built with"):
        fm.open_index(str(folder), model=bert)
    with pytest.raises(DataError, match="not empty"):
        fm.index(PASSAGES, text="text", path=str(folder))
    assert len(fm.open_index(str(folder))) == 8  # nothing was lost


def test_ann_index_is_built_on_growth_saved_and_kept_up_to_date(minilm, tmp_path, monkeypatch):
    """Through fm.index with the ANN threshold lowered to 20 rows: the approximate index is built
    when add() reaches it, codes later rows, is reopened from its file in another process, and is
    rebuilt (with a warning) from a corrupt file; with fewer rows than candidates it equals exact search."""
    from fmwidgets.core.retrieval import index as index_module

    monkeypatch.setattr(index_module, "ANN_MIN_ROWS", 20)
    texts = [f"{a} {b}" for a in ("the cat sleeps", "stock prices fell", "heavy rain fell", "our team won",
                                  "a new phone", "the old train")
             for b in ("today", "again", "in the city", "at night", "this week")]
    frame = pd.DataFrame({"text": texts, "n": range(len(texts))})
    folder = tmp_path / "ann"
    idx = fm.index(frame.iloc[:19], text="text", path=str(folder))
    assert not idx.ann and not (folder / "ann.faiss").exists()
    idx.add(frame.iloc[19:25])
    assert idx.ann and (folder / "ann.faiss").exists() and idx._ann.codes.ntotal == 25
    idx.add(frame.iloc[25:])
    assert idx._ann.codes.ntotal == len(idx) == 30 and "PQ fast-scan" in idx.summary()
    vectors = fm.embed(texts)
    for query in ("rainy weather", "cats", "markets"):
        scores = vectors @ fm.embed([query])[0]
        order = np.argsort(-scores)[:5]
        found = idx.search(query, k=5)
        assert found["n"].tolist() == order.tolist() and list(found.columns) == ["text", "n", "score"]
        np.testing.assert_allclose(found["score"], scores[order], atol=1e-5)
    code = textwrap.dedent(f"""
        import fmwidgets as fm
        idx = fm.open_index({str(folder)!r})
        print(idx.ann, idx.search("the train this week", k=1)["n"][0])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "29"]
    (folder / "ann.faiss").write_bytes(b"not an index")
    again = fm.open_index(str(folder))
    with pytest.warns(UserWarning, match="could not be read; it is rebuilt from the table"):
        assert again.search("the train this week", k=1)["n"][0] == 29
    assert again._ann.codes.ntotal == 30 and (folder / "ann.faiss").stat().st_size > 100
    (folder / "ann.faiss.partial").mkdir()  # the codes cannot be written: a warning, and search goes on
    with pytest.warns(UserWarning, match="could not be saved"):
        again.add(pd.DataFrame({"text": ["a brand new sentence about trains"], "n": [30]}))
    assert again.search("a brand new sentence about trains", k=1)["n"][0] == 30 and again._ann.codes.ntotal == 31


def test_chunks_keep_their_rows_columns(minilm):
    long = " ".join(f"word{i}" for i in range(200))
    idx = fm.index(pd.DataFrame({"text": [long, "short"], "doc": ["long", "short"]}), text="text",
                   chunk_tokens=64, overlap=8)
    rows = idx.table.to_pandas()
    assert rows["doc"].tolist().count("short") == 1 and rows["doc"].tolist().count("long") > 2
    tokens = minilm.tokenizer(rows["text"].tolist(), add_special_tokens=False)["input_ids"]
    assert max(len(t) for t in tokens) <= 64
    assert rows[rows["doc"] == "long"]["chunk"].tolist() == list(range(rows["doc"].tolist().count("long")))
    assert "word0" in rows["text"][0] and "word199" in " ".join(rows["text"])


def test_display_card_escapes(minilm):
    idx = fm.index(pd.DataFrame({"text": ["<script>alert(1)</script>", "fine"]}), text="text", name="docs")
    data, meta = idx._repr_mimebundle_()
    assert "<script>" not in data["text/html"] and "&lt;script&gt;" in data["text/html"]
    assert "2 rows" in data["text/plain"] and meta["fmwidgets"]["kind"] == "index"


def test_bad_input(minilm, gpt2, tmp_path):
    with pytest.raises(DataError, match="empty"):
        fm.index(PASSAGES.iloc[:0], text="text", model=minilm)
    with pytest.raises(DataError, match="passage"):
        fm.index(PASSAGES, text="passage", model=minilm)
    with pytest.raises(WrongFamilyError, match="not an embedding model"):
        fm.index(PASSAGES, text="text", model=gpt2)
    idx = fm.index(PASSAGES, text="text", model=minilm)
    for k in (0, 9):
        with pytest.raises(BadArgumentError, match="k"):
            idx.search("cats", k=k)
    with pytest.raises(DataError, match="query is empty"):
        idx.search("  ")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "fmwidgets-index.json").write_text("{not json")
    with pytest.raises(DataError, match="not a readable fmwidgets index"):
        fm.open_index(str(corrupt))
    with pytest.raises(DataError, match="not a readable fmwidgets index"):
        fm.open_index(str(tmp_path / "missing"))


def test_a_column_name_with_a_dot_is_one_sentence_with_no_path_before_any_work(minilm, tmp_path):
    import os

    folder = tmp_path / "dotted"
    for frame, text in ((PASSAGES.assign(**{"a.b": 1}), "text"), (PASSAGES.rename(columns={"text": "my.text"}), "my.text")):
        with pytest.raises(DataError) as info:
            fm.index(frame, text=text, model=minilm, path=str(folder))
        message = str(info.value)
        assert "holds a '.'" in message and "\n" not in message and os.path.expanduser("~") not in message
        assert "lance" not in message.split("LanceDB")[0].lower() and not folder.exists()


def test_ann_index_finds_the_exact_neighbours(tmp_path):
    """The ANN index (built by the first search on 20,000 random 384-d vectors, the hardest case for an
    approximate index) keeps recall@10 against brute force at 0.95 or more, with exact scores."""
    import lancedb
    import pyarrow as pa

    from fmwidgets.core.retrieval.index import Index
    from fmwidgets.records import RunRecord

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_020, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors, queries = vectors[:20_000], vectors[20_000:]
    table = lancedb.connect(str(tmp_path)).create_table("rows", data=pa.table({
        "id": np.arange(20_000), "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), 384)}))
    idx = Index(path=str(tmp_path), text="id", model={"id": "random", "dim": 384}, chunk_tokens=None, overlap=0,
                record=RunRecord("test"), table=table)
    assert idx.ann and not (tmp_path / "ann.faiss").exists()  # due at this size: built by the first search
    recalls = []
    for q in queries:
        truth = set(np.argsort(-(vectors @ q))[:10])
        found = idx.search_vector(q, 10)
        recalls.append(len(truth & set(found["id"])) / 10)
        assert found["score"].is_monotonic_decreasing and list(found.columns) == ["id", "score"]
        np.testing.assert_allclose(found["score"], vectors[found["id"]] @ q, atol=1e-6)
    assert np.mean(recalls) >= 0.95 and (tmp_path / "ann.faiss").exists()
