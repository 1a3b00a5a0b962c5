"""The one embedded SQLite database where fmwidgets keeps what outlives a kernel.

It lives at ``fm.settings().store_path`` (``%config FM.store_path``; default
``.fmwidgets/store.sqlite`` in the working directory) and holds:

- ``prompts``: immutable, content-hashed prompt versions (``core/prompting/versions.py``);
- ``runs`` and ``rows``: evaluation runs, their summary and per-row results (``core/evaluation``);
- ``ratings``: human ratings of evaluation rows (the Review widget);
- ``cache``: generated text keyed by model commit + prompt as sent + generation settings + seed;
- ``kv``: a small generic table for other features, through ``put`` / ``get`` / ``items`` /
  ``delete`` with a namespace, e.g. ``store().put("label-review", key, {"label": "spam"})``
  (values are anything ``json.dumps`` takes).

Why SQLite in WAL mode: two kernels (or a kernel and a script) may share one working folder;
WAL lets readers go on while one writer writes, and a busy timeout makes a second writer wait
instead of failing.  Every write is one ``BEGIN IMMEDIATE`` transaction, so a crash leaves
either all of a run or none of it.  A store that cannot be opened (read-only folder, a file that
is not a database) is one warning sentence; fmwidgets then keeps its data in an in-memory
database for this session, so everything still works but nothing is kept after the kernel ends.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
import threading
import warnings
from typing import Any, Iterable, Iterator

from .config import settings

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS prompts (
    name TEXT NOT NULL, version INTEGER NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL,
    hash TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (name, version), UNIQUE (name, hash));
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY, model TEXT, prompt TEXT, data TEXT, summary TEXT NOT NULL,
    meta TEXT NOT NULL, partial INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    run TEXT NOT NULL, pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run, pos));
CREATE TABLE IF NOT EXISTS ratings (
    run TEXT NOT NULL, pos INTEGER NOT NULL, rating REAL, comment TEXT, created TEXT NOT NULL,
    PRIMARY KEY (run, pos));
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, output TEXT NOT NULL, created TEXT NOT NULL);
"""


class StoreWarning(UserWarning):
    """The store could not be opened; results are kept in memory for this session only."""


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """One connection to the database at ``path`` (``":memory:"`` for the in-memory fallback)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        if path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
        self.conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            with self.write() as cur:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    cur.execute(statement)
        except BaseException:
            self.conn.close()
            raise

    @property
    def persistent(self) -> bool:
        return self.path != ":memory:"

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction (``BEGIN IMMEDIATE`` takes the write lock up front)."""
        with self._lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    # -- generic key/value, for features that need a little persistence -----------------------

    def put(self, namespace: str, key: str, value: Any) -> None:
        with self.write() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?)", (namespace, key, json.dumps(value), now())
            )

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key))
        return json.loads(rows[0][0]) if rows else default

    def items(self, namespace: str) -> dict[str, Any]:
        rows = self.query("SELECT key, value FROM kv WHERE namespace = ? ORDER BY key", (namespace,))
        return {k: json.loads(v) for k, v in rows}

    def delete(self, namespace: str, key: str) -> None:
        with self.write() as cur:
            cur.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    # -- generation cache ----------------------------------------------------------------------

    def cached(self, keys: list[str]) -> dict[str, str]:
        """key -> output for the keys that are in the cache."""
        found: dict[str, str] = {}
        for first in range(0, len(keys), 500):
            chunk = keys[first : first + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.query(f"SELECT key, output FROM cache WHERE key IN ({marks})", chunk))
        return found

    def cache(self, entries: dict[str, str]) -> None:
        if entries:
            stamp = now()
            with self.write() as cur:
                cur.executemany(
                    "INSERT OR REPLACE INTO cache VALUES (?, ?, ?)",
                    [(k, v, stamp) for k, v in entries.items()],
                )

    def close(self) -> None:
        with self._lock:
            self.conn.close()


_stores: dict[str, Store] = {}


def store() -> Store:
    """The store at ``FM.store_path`` (opened once per path; in memory, with a warning, if it
    cannot be opened there)."""
    path = settings().store_path or ":memory:"
    path = path if path == ":memory:" else os.path.abspath(os.path.expanduser(path))
    if path not in _stores:
        try:
            _stores[path] = Store(path)
        except (OSError, sqlite3.Error) as exc:
            warnings.warn(
                f"The fmwidgets store '{path}' cannot be opened ({exc}); prompt versions, evaluations "
                "and the generation cache are kept in memory for this session only (set "
                "%config FM.store_path to a writable file to keep them).",
                StoreWarning,
                stacklevel=2,
            )
            _stores[path] = Store(":memory:")
    return _stores[path]
