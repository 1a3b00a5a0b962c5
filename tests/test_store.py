"""The SQLite store: generic key/value, two processes writing at once, stores that cannot open."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
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
