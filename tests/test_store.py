"""The SQLite store: generic key/value, two processes writing at once, stores that cannot open."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import fmwidgets.store as store_module
from fmwidgets.config import settings
from fmwidgets.store import StoreWarning, store


def test_put_get_items_delete_survive_a_new_connection(isolated_store):
    db = store()
    db.put("label-review", "row-1", {"label": "spam", "by": "ann"})
    db.put("label-review", "row-2", ["ham"])
    assert db.get("label-review", "row-1") == {"label": "spam", "by": "ann"}
    assert db.get("label-review", "nope", "default") == "default"
    db.delete("label-review", "row-2")
    again = store_module.Store(str(isolated_store))
    assert again.items("label-review") == {"row-1": {"label": "spam", "by": "ann"}}
    assert again.query("PRAGMA journal_mode")[0][0] == "wal"
    again.close()


WRITER = textwrap.dedent("""
    import sys
    from fmwidgets.config import settings
    settings().store_path = sys.argv[1]
    import fmwidgets as fm
    from fmwidgets.store import store
    tag = sys.argv[2]
    for i in range(150):
        store().put("kv", f"{tag}-{i}", i)
        store().cache({f"{tag}-key-{i}": f"out {i}"})
        if i % 10 == 0:
            fm.save_prompt("shared", f"text {tag} {i} {{q}}")
""")


def test_two_processes_writing_at_once_lose_nothing(isolated_store, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(isolated_store), tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    db = sqlite3.connect(isolated_store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 300
    assert db.execute("SELECT COUNT(*) FROM cache").fetchone()[0] == 300
    versions = [v for (v,) in db.execute("SELECT version FROM prompts WHERE name = 'shared' ORDER BY version")]
    assert versions == list(range(1, 31))  # every save got its own number, none twice
    db.close()


OPENER = textwrap.dedent("""
    import sys, time
    from fmwidgets.store import Store
    folder, tag, starts = sys.argv[1], sys.argv[2], sys.argv[3:]
    for round_, start in enumerate(starts):
        while time.time() < float(start):
            pass
        db = Store(f"{folder}/round-{round_}.sqlite")
        db.put("kv", tag, round_)
        db.close()
""")


def test_processes_opening_a_new_store_at_the_same_instant_all_keep_it(tmp_path):
    # Each opener switches the new file to WAL, which SQLite refuses at once, without waiting, while
    # another holds the lock: before the open was retried one in five rounds lost a process's work.
    script = tmp_path / "opener.py"
    script.write_text(OPENER)
    first = time.time() + 1.5
    starts = [f"{first + 0.25 * r:.3f}" for r in range(8)]
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path), str(t), *starts]) for t in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    for round_ in range(8):
        db = sqlite3.connect(tmp_path / f"round-{round_}.sqlite")
        assert sorted(k for (k,) in db.execute("SELECT key FROM kv")) == [str(t) for t in range(6)]
        db.close()


@pytest.mark.parametrize("where", ["file_parent", "corrupt"])
def test_a_store_that_cannot_open_is_one_warning_and_work_goes_on(tmp_path, monkeypatch, where):
    import fmwidgets as fm

    if where == "file_parent":  # a folder that cannot be created (its parent is a file)
        (tmp_path / "afile").write_text("x")
        path = tmp_path / "afile" / "store.sqlite"
    else:
        path = tmp_path / "corrupt.sqlite"
        path.write_bytes(b"this is not a database" * 100)
    monkeypatch.setattr(settings(), "store_path", str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        version = fm.save_prompt("qa", "Q: {q}")
    messages = [str(w.message) for w in caught if issubclass(w.category, StoreWarning)]
    assert len(messages) == 1 and "cannot be opened" in messages[0] and "in memory" in messages[0]
    assert version.id == "qa@1" and not store().persistent
    if where == "corrupt":
        assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def store_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, StoreWarning)]


def test_the_store_file_deleted_while_the_kernel_runs_is_written_again_with_everything(isolated_store):
    import shutil

    import fmwidgets as fm

    fm.save_prompt("qa", "Q: {q}")
    store().put("notes", "a", 1)
    shutil.rmtree(isolated_store.parent / ".", ignore_errors=True)  # the whole folder, -wal and -shm too
    assert not isolated_store.exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fm.save_prompt("qa", "Q: {q} again")
        fm.save_prompt("summary", "Sum up: {text}")
    assert store_warnings(caught) == [
        f"The fmwidgets store '{isolated_store}' was deleted while this kernel ran; it is written again "
        "with everything this session kept."
    ]
    db = sqlite3.connect(isolated_store)
    assert db.execute("SELECT name, version FROM prompts ORDER BY name, version").fetchall() == [
        ("qa", 1), ("qa", 2), ("summary", 1)]
    assert db.execute("SELECT value FROM kv WHERE key = 'a'").fetchone() == ("1",)
    db.close()


def _hash(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_applications_database_is_left_untouched_and_the_session_goes_on(tmp_path, monkeypatch):
    import fmwidgets as fm

    path = tmp_path / "app.db"
    other = sqlite3.connect(path)
    other.executescript("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); "
                        "INSERT INTO users (email) VALUES ('a@example.com');")
    other.close()
    before = _hash(path)
    monkeypatch.setattr(settings(), "store_path", str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        version = fm.save_prompt("qa", "Q: {q}")
    assert store_warnings(caught) == [
        f"The file '{path}' is another application's SQLite database (tables users); fmwidgets leaves it "
        "untouched and keeps prompt versions, evaluations and the generation cache in memory for this "
        "session (set %config FM.store_path to a file of its own)."
    ]
    assert version.id == "qa@1" and fm.prompt_versions("qa")["id"].tolist() == ["qa@1"]
    assert _hash(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a real 2 MiB filesystem (tmpfs; root only) and a function that fills it up;
    elsewhere the store file is capped at its current size by SQLite's max_page_count instead."""
    import os
    import shutil

    folder = tmp_path / "small"
    folder.mkdir()
    mounted = os.geteuid() == 0 and shutil.which("mount") and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True).returncode == 0

    def fill() -> None:
        if not mounted:
            (pages,) = store().query("PRAGMA page_count")[0]
            store().conn.execute(f"PRAGMA max_page_count = {pages}")
            return
        with open(folder / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass

    yield folder, fill
    for opened in store_module._stores.values():
        opened.close()
    store_module._stores.clear()
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_while_saving_is_one_sentence_and_the_session_goes_on_in_memory(gpt2, full_disk, monkeypatch):
    import pandas as pd

    import fmwidgets as fm

    folder, fill = full_disk
    monkeypatch.setattr(settings(), "store_path", str(folder / "store.sqlite"))
    fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=3)
    fill()
    frame = pd.DataFrame({"q": [f"question number {i} " * 20 for i in range(40)], "a": ["x"] * 40})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fm.evaluate(frame, "qa@1", model="gpt2", reference="a", name="big", greedy=True)
        result.rate(0, 1)
    said = store_warnings(caught)
    assert len(said) == 1 and "could not be written (database or disk is full)" in said[0], said
    assert said[0].endswith("set %config FM.store_path to another file).") and not store().persistent
    again = fm.load_evaluation("big")  # from the copy in memory, with the rating given after the move
    assert len(again.table) == 40 and again.table["human"][0] == 1 and fm.prompt_versions("qa")["id"].tolist() == ["qa@1"]
    db = sqlite3.connect(folder / "store.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 1
    db.close()
