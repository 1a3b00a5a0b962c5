"""A person's ratings are never lost: re-runs of a name, fm.repro(verify=True), stores of the old schema."""

from __future__ import annotations

import sqlite3
import warnings

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.config import settings
from fmwidgets.notices import FMWarning
from fmwidgets.store import store

GEN = dict(greedy=True, max_new_tokens=4)


@pytest.fixture
def qa():
    return pd.DataFrame({"q": [f"what is {i}" for i in range(6)], "a": [str(i) for i in range(6)]})


def notes(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, FMWarning)]


def ratings_of(run_id: int) -> list[tuple]:
    return store().query("SELECT pos, rating, comment FROM ratings WHERE run = ? ORDER BY pos", (run_id,))


def test_a_rerun_of_a_name_keeps_every_rating_and_carries_over_the_unchanged_rows(gpt2, qa):
    first = fm.evaluate(qa, "Q: {q}\nA:", model="gpt2", reference="a", name="qa-v1", **GEN)
    for row in range(5):
        first.rate(row, row % 2, comment=f"note {row}")
    rated = ratings_of(first.run_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same = fm.evaluate(qa, "Q: {q}\nA:", model="gpt2", reference="a", name="qa-v1", **GEN)
    assert same.run_id != first.run_id
    assert notes(caught) == [f"Kept the 5 rating(s) of the earlier run 'qa-v1' (#{first.run_id}): those rows are unchanged."]
    assert ratings_of(same.run_id) == rated and ratings_of(first.run_id) == rated
    assert same.table["human"].tolist()[:5] == [0, 1, 0, 1, 0]

    changed = qa.assign(q=[*qa["q"][:3], "new question", "another one", qa["q"][5]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        third = fm.evaluate(changed, "Q: {q}\nA:", model="gpt2", reference="a", name="qa-v1", **GEN)
    assert notes(caught) == [
        f"Kept 3 rating(s) of the earlier run 'qa-v1' (#{same.run_id}); 2 rated row(s) changed, their ratings "
        f"stay with run #{same.run_id} (fm.load_evaluation({same.run_id}))."
    ]
    assert ratings_of(third.run_id) == rated[:3] and ratings_of(same.run_id) == rated
    # the name stands for the latest run; every run stays reachable by its id
    assert fm.load_evaluation("qa-v1").run_id == third.run_id
    assert fm.load_evaluation(same.run_id).table["human_comment"].tolist()[:5] == [f"note {i}" for i in range(5)]
    assert fm.evaluations()["id"].tolist() == [first.run_id, same.run_id, third.run_id]


def test_verify_reruns_on_a_scratch_store_and_leaves_the_ratings_given_since(tiny_paths, qa, isolated_store,
                                                                              monkeypatch, tmp_path):
    monkeypatch.setattr(settings(), "snapshot_dir", str(tmp_path / "snapshots"))
    fm.load(str(tiny_paths["gpt2"]), as_="g")
    result = fm.evaluate(qa, "Q: {q}\nA:", model="g", reference="a", name="qa-v1", **GEN)
    result.rate(0, 1, comment="good")
    result.rate(2, 0)
    before = sqlite3.connect(isolated_store).execute("SELECT * FROM runs").fetchall()
    verification = fm.repro(verify=True)
    assert verification.table["status"].tolist() == ["same", "same"]
    db = sqlite3.connect(isolated_store)
    assert db.execute("SELECT * FROM runs").fetchall() == before  # no run added, none replaced
    assert db.execute("SELECT pos, rating, comment FROM ratings").fetchall() == [(0, 1.0, "good"), (2, 0.0, None)]
    assert fm.load_evaluation("qa-v1").table["human"].fillna(-1).tolist()[:3] == [1, -1, 0]


# The schema every store had before runs got ids (fmwidgets up to this change), verbatim.
OLD_SCHEMA = """
CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (namespace, key));
CREATE TABLE prompts (name TEXT NOT NULL, version INTEGER NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL,
    hash TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (name, version), UNIQUE (name, hash));
CREATE TABLE runs (name TEXT PRIMARY KEY, model TEXT, prompt TEXT, data TEXT, summary TEXT NOT NULL,
    meta TEXT NOT NULL, partial INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE rows (run TEXT NOT NULL, pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run, pos));
CREATE TABLE ratings (run TEXT NOT NULL, pos INTEGER NOT NULL, rating REAL, comment TEXT, created TEXT NOT NULL,
    PRIMARY KEY (run, pos));
CREATE TABLE cache (key TEXT PRIMARY KEY, output TEXT NOT NULL, created TEXT NOT NULL);
"""


def test_a_store_of_the_old_schema_is_migrated_with_nothing_lost(gpt2, qa, tmp_path, monkeypatch):
    # Two runs as the old code stored them (the same JSON it wrote), with ratings, a prompt, kv, cache.
    fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=4)
    a = fm.evaluate(qa, "qa@1", model="gpt2", reference="a", name="a", greedy=True)
    b = fm.evaluate(qa, "Q: {q}", model="gpt2", reference="a", name="b", **GEN)
    store().put("label-review", "row-1", {"label": "spam"})
    new = store().conn
    old_path = tmp_path / "old.sqlite"
    old = sqlite3.connect(old_path)
    old.executescript(OLD_SCHEMA)
    for table in ("kv", "prompts", "cache"):
        columns = ", ".join(r[1] for r in old.execute(f"PRAGMA table_info({table})"))  # the old schema's
        for row in new.execute(f"SELECT {columns} FROM {table}"):
            old.execute(f"INSERT INTO {table} VALUES ({','.join('?' * len(row))})", row)
    for result in (a, b):
        run = new.execute("SELECT name, model, prompt, data, summary, meta, partial, created FROM runs WHERE id = ?",
                          (result.run_id,)).fetchone()
        old.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run)
        old.executemany("INSERT INTO rows VALUES (?, ?, ?)",
                        [(result.name, p, d) for p, d in new.execute("SELECT pos, data FROM rows WHERE run = ?",
                                                                     (result.run_id,))])
    old.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
                    [("a", 1, 1.0, "fine", "2026-01-01"), ("b", 0, 0.0, None, "2026-01-02")])
    old.commit()
    old.close()

    monkeypatch.setattr(settings(), "store_path", str(old_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the file is ours, only older
        runs = fm.evaluations()
    assert runs[["id", "name"]].values.tolist() == [[1, "a"], [2, "b"]]
    loaded = fm.load_evaluation("a")
    pd.testing.assert_frame_equal(loaded.table.drop(columns=["human", "human_comment"]), a.table, check_dtype=False)
    assert loaded.table.loc[1, "human_comment"] == "fine" and fm.load_evaluation("b").table["human"][0] == 0
    assert fm.prompt_versions("qa")["params"].tolist() == [{"max_new_tokens": 4}]
    assert store().get("label-review", "row-1") == {"label": "spam"}
    db = sqlite3.connect(old_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {t for t in tables if t.endswith("_v0")}
    assert db.execute("SELECT COUNT(*) FROM cache").fetchone()[0] == new.execute("SELECT COUNT(*) FROM cache").fetchone()[0]
