"""The one embedded SQLite database where fmwidgets keeps what outlives a kernel.

It lives at ``fm.settings().store_path`` (``%config FM.store_path``; default
``.fmwidgets/store.sqlite`` in the working directory) and holds:

- ``prompts``: immutable, content-hashed prompt versions, each with the model it is pinned to
  (``core/prompting/versions.py``);
- ``prompt_tags``: every move of a prompt's tags ("production" -> qa@3), with its time; a tag
  points at its latest move;
- ``runs`` and ``rows``: evaluation runs, their summary and per-row results (``core/evaluation``);
  every run has its own ``id``, and a name stands for its latest run;
- ``ratings``: human ratings of evaluation rows (the Review widget), kept with the run they rated;
- ``preferences``: people's verdicts on pairs of outputs (a pairwise Review), keyed by the review's
  name and the pair's texts (``core/evaluation/preferences.py``);
- ``cache``: generated text keyed by model commit + prompt as sent + generation settings + seed;
- ``kv``: a small generic table for other features, through ``put`` / ``get`` / ``items`` /
  ``delete`` with a namespace, e.g. ``store().put("label-review", key, {"label": "spam"})``
  (values are anything ``json.dumps`` takes).

Why SQLite in WAL mode: two kernels (or a kernel and a script) may share one working folder;
WAL lets readers go on while one writer writes, and a busy timeout makes a second writer wait
instead of failing.  Every write is one ``BEGIN IMMEDIATE`` transaction, so a crash leaves
either all of a run or none of it.

Nothing a person made is lost to the file's troubles, and nothing else's file is touched:

- A store that cannot be opened (read-only folder, a file that is not a database) or that is
  another application's SQLite file (it has tables of its own; our files carry the
  ``application_id`` ``FMWG``) is one warning sentence, and that file is not written at all:
  fmwidgets keeps its data in an in-memory database for this session instead.
- A write the file cannot take (disk full, I/O error) is rolled back there, the store moves to
  an in-memory copy of itself, the same statements run again in memory, and one warning says so:
  the call that was saving goes on.
- The file deleted (or replaced) while the kernel runs is noticed at the next write (its device
  and inode), created again from this session's connection, which still holds everything, and
  said once.
- Files written before runs had ids (``user_version`` 0) are migrated in one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import sqlite3
import threading
import time
import urllib.parse
import warnings
from typing import Any, Iterable, Iterator

from .config import settings
from .errors import DataError
from .notices import FMWarning

BUSY_TIMEOUT_S = 30.0
APPLICATION_ID = int.from_bytes(b"FMWG", "big")  # PRAGMA application_id of every fmwidgets store
SCHEMA_VERSION = 1  # PRAGMA user_version: 1 = runs have ids (0: runs were keyed by name)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS prompts (
    name TEXT NOT NULL, version INTEGER NOT NULL, template TEXT NOT NULL, params TEXT NOT NULL,
    hash TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (name, version), UNIQUE (name, hash));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, model TEXT, prompt TEXT, data TEXT,
    summary TEXT NOT NULL, meta TEXT NOT NULL, partial INTEGER NOT NULL, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_name ON runs (name, id);
CREATE TABLE IF NOT EXISTS rows (
    run INTEGER NOT NULL, pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run, pos));
CREATE TABLE IF NOT EXISTS ratings (
    run INTEGER NOT NULL, pos INTEGER NOT NULL, rating REAL, comment TEXT, created TEXT NOT NULL,
    PRIMARY KEY (run, pos));
CREATE TABLE IF NOT EXISTS preferences (
    review TEXT NOT NULL, pair TEXT NOT NULL, pos INTEGER NOT NULL, a TEXT, b TEXT, prompt_a TEXT,
    prompt_b TEXT, output_a TEXT NOT NULL, output_b TEXT NOT NULL, verdict TEXT NOT NULL,
    shown TEXT NOT NULL, comment TEXT, created TEXT NOT NULL, PRIMARY KEY (review, pair));
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, output TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompt_tags (
    name TEXT NOT NULL, tag TEXT NOT NULL, version INTEGER NOT NULL, moved TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS prompt_tags_by_name ON prompt_tags (name, tag);
"""
_TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))

# Columns added to a table after it first shipped: (table, column, statement).  A store written
# by an older fmwidgets gains them when it is opened, and keeps every row it had.
_ADDED_COLUMNS = (
    ("prompts", "model", "ALTER TABLE prompts ADD COLUMN model TEXT"),  # JSON ModelSpec or NULL
)

SERVED_CACHE = "api:"  # how cache keys of API-served replies begin (entries: output and accounting)

_SQLITE_BUSY = 5  # another connection holds the lock: an open is tried again (_connect)
# The store moves to memory on these (primary) result codes: the file cannot take the write.
_FILE_TROUBLE = {8, 10, 11, 13, 14, 26}  # SQLITE_READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB


class StoreWarning(FMWarning):
    """The store file could not be used as asked; what happened instead (memory, a new file)."""


class ForeignDatabase(Exception):
    """The file at the store path is another application's SQLite database."""


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def foreign_tables(path: str) -> list[str]:
    """The tables of another application's SQLite file at ``path`` ([] when it is ours, new or empty).

    Read without writing anything: the header, and the schema through an ``immutable`` read-only
    connection (``mode=ro`` alone when a ``-wal`` file holds newer pages).  A file that is not
    SQLite at all is left to ``sqlite3.connect``, whose error says so.
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return []
    if not header.startswith(b"SQLite format 3\x00"):
        return []
    application = int.from_bytes(header[68:72], "big")
    if application == APPLICATION_ID:
        return []
    mode = "ro" if os.path.exists(path + "-wal") else "ro&immutable=1"
    conn = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode={mode}", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        conn.close()
    names = sorted(n for n in names if not n.startswith("sqlite_"))
    if application:  # marked as some other application's file
        return names or [f"none; application_id {application}"]
    return names if set(names) - _TABLES else []


def _migrate(cur: sqlite3.Cursor) -> None:
    """Bring a store of an earlier schema to ``SCHEMA_VERSION`` (inside the opening transaction)."""
    (version,) = cur.execute("PRAGMA user_version").fetchone()
    runs = [r[1] for r in cur.execute("PRAGMA table_info(runs)")]
    if version == 0 and runs and "id" not in runs:  # runs keyed by name: give each one an id
        for table in ("runs", "rows", "ratings"):
            cur.execute(f"ALTER TABLE {table} RENAME TO {table}_v0")
        for statement in filter(str.strip, _SCHEMA.split(";")):
            cur.execute(statement)
        cur.execute(
            "INSERT INTO runs (name, model, prompt, data, summary, meta, partial, created) "
            "SELECT name, model, prompt, data, summary, meta, partial, created FROM runs_v0 ORDER BY created, rowid"
        )
        cur.execute(
            "INSERT INTO rows SELECT runs.id, o.pos, o.data FROM rows_v0 o JOIN runs ON runs.name = o.run"
        )
        cur.execute(
            "INSERT INTO ratings SELECT runs.id, o.pos, o.rating, o.comment, o.created "
            "FROM ratings_v0 o JOIN runs ON runs.name = o.run"
        )
        for table in ("rows", "ratings"):  # a rating of a run that is not stored stays where it was
            (before,) = cur.execute(f"SELECT COUNT(*) FROM {table}_v0").fetchone()
            (after,) = cur.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            if before == after:
                cur.execute(f"DROP TABLE {table}_v0")
        cur.execute("DROP TABLE runs_v0")
    cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _add_columns(cur: sqlite3.Cursor) -> None:
    """The columns of ``_ADDED_COLUMNS`` that a table does not have yet (inside the opening transaction)."""
    for table, column, statement in _ADDED_COLUMNS:
        if column not in {row[1] for row in cur.execute(f"PRAGMA table_info({table})")}:
            cur.execute(statement)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _connect(path: str) -> sqlite3.Connection:
    """A connection with the store's settings and schema (``path`` already checked to be ours).

    Two processes opening a new store at once both switch it to WAL, and SQLite answers that
    switch with "database is locked" at once, without waiting on ``busy_timeout``; so a busy open
    is tried again, for as long as a busy write would wait, instead of leaving one notebook's work
    in memory.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return _open(path)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _open(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            _migrate(conn.cursor())
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            _add_columns(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


class _Transaction:
    """The cursor a ``write()`` block gets.  Its statements run on the store's connection and are
    kept, so that when the file cannot take them the store moves to memory and runs them again there
    (``Store._rescue``) and the block goes on as if nothing happened."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.done: list[tuple[str, str, Any]] = []
        self.cur = db.conn.cursor()
        self.cur.execute("BEGIN IMMEDIATE")

    def _do(self, method: str, sql: str, params: Any) -> _Transaction:
        self.done.append((method, sql, params))
        try:
            getattr(self.cur, method)(sql, params)
        except sqlite3.Error as exc:
            self.db._rescue(exc, self)
        return self

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Transaction:
        return self._do("execute", sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Transaction:
        return self._do("executemany", sql, [tuple(r) for r in rows])

    def fetchone(self) -> Any:
        return self.cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self.cur.fetchall()

    @property
    def lastrowid(self) -> int | None:
        return self.cur.lastrowid

    def replay(self) -> None:
        self.cur = self.db.conn.cursor()
        self.cur.execute("BEGIN IMMEDIATE")
        for method, sql, params in self.done:
            getattr(self.cur, method)(sql, params)


class Store:
    """One connection to the database at ``path`` (``":memory:"`` for the in-memory fallback).

    ``persistent`` is True while the data goes to the file; False from the start for an in-memory
    store, or after the file could not take a write.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        if path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            tables = foreign_tables(path)
            if tables:
                raise ForeignDatabase(", ".join(tables[:5]) + (", ..." if len(tables) > 5 else ""))
        self.conn = _connect(path)
        self.persistent = path != ":memory:"
        self._identity = _identity(path) if self.persistent else None
        self._noticed = False  # the file was deleted or replaced, and that was said once

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """One write transaction (``BEGIN IMMEDIATE`` takes the write lock up front)."""
        with self._lock:
            self._check_file()
            tx = _Transaction(self)
            try:
                yield tx
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    tx.cur.execute("ROLLBACK")
                raise
            try:
                tx.cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rescue(exc, tx)
                tx.cur.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    # -- when the file lets us down ------------------------------------------------------------

    def _rescue(self, exc: sqlite3.Error, tx: _Transaction) -> None:
        """The file cannot take ``tx``: roll it back there, go on in an in-memory copy, run it again."""
        code = getattr(exc, "sqlite_errorcode", None)
        if not self.persistent or code is None or code & 0xFF not in _FILE_TROUBLE:
            raise exc
        with contextlib.suppress(sqlite3.Error):
            tx.cur.execute("ROLLBACK")
        self._to_memory(f"could not be written ({exc})")
        tx.replay()

    def _to_memory(self, why: str) -> None:
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            self.conn.backup(memory)
        except sqlite3.Error:  # not even readable: start empty
            memory.close()
            memory = _connect(":memory:")
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self.conn, self.persistent = memory, False
        warnings.warn(
            f"The fmwidgets store '{self.path}' {why}; this session goes on with a copy of it in "
            "memory, so nothing is lost now but nothing more is kept after the kernel ends (free "
            "some disk space, or set %config FM.store_path to another file).",
            StoreWarning,
            stacklevel=5,
        )

    def _check_file(self) -> None:
        """The file deleted or replaced since it was opened: write it again from this connection."""
        if not self.persistent or _identity(self.path) == self._identity:
            return
        gone = not os.path.exists(self.path)
        try:
            if gone:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                fresh = sqlite3.connect(self.path, isolation_level=None)
                self.conn.backup(fresh)
                fresh.close()
            elif foreign_tables(self.path):
                raise ForeignDatabase("another application's database took its place")
            conn = _connect(self.path)
        except (OSError, sqlite3.Error, ForeignDatabase) as exc:
            self._to_memory(
                f"was deleted or replaced while this kernel ran and cannot be written again ({exc})"
            )
            return
        self.conn.close()
        self.conn, self._identity = conn, _identity(self.path)
        if not self._noticed:
            self._noticed = True
            what = (
                "was deleted while this kernel ran; it is written again with everything this session kept"
                if gone
                else "was replaced by another store while this kernel ran; this session now writes to that one"
            )
            warnings.warn(f"The fmwidgets store '{self.path}' {what}.", StoreWarning, stacklevel=4)

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
_scratch: list[Store] = []  # innermost last: what store() returns inside scratch()


def store(path: str | os.PathLike | None = None) -> Store:
    """The store at ``path`` (default ``FM.store_path``), opened once per path.

    The configured store is kept in memory, with a warning, if it cannot be opened there or is
    another application's database.  A ``path`` the caller names (``fmwidgets.prompts.get(store=
    PATH)``, an application reading a notebook's store) must be a store that opens: otherwise one
    DataError sentence.
    """
    if path is not None:
        return _named(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if _scratch:
        return _scratch[-1]
    path = settings().store_path or ":memory:"
    path = path if path == ":memory:" else os.path.abspath(os.path.expanduser(path))
    if path not in _stores:
        try:
            _stores[path] = Store(path)
        except ForeignDatabase as exc:
            _stores[path] = _in_memory(
                f"The file '{path}' is another application's SQLite database (tables {exc}); fmwidgets "
                "leaves it untouched and keeps prompt versions, evaluations and the generation cache "
                "in memory for this session (set %config FM.store_path to a file of its own)."
            )
        except (OSError, sqlite3.Error) as exc:
            _stores[path] = _in_memory(
                f"The fmwidgets store '{path}' cannot be opened ({exc}); prompt versions, evaluations "
                "and the generation cache are kept in memory for this session only (set "
                "%config FM.store_path to a writable file to keep them)."
            )
    return _stores[path]


def _named(path: str) -> Store:
    if path not in _stores:
        if not os.path.isfile(path):
            raise DataError(
                f"There is no fmwidgets store at '{path}'; give the path of the store.sqlite a "
                "notebook wrote (its %config FM.store_path)."
            )
        try:
            _stores[path] = Store(path)
        except (OSError, sqlite3.Error, ForeignDatabase) as exc:
            raise DataError(
                f"The file '{path}' cannot be opened as an fmwidgets store ({exc}); give the path "
                "of the store.sqlite a notebook wrote."
            ) from exc
    return _stores[path]


def _in_memory(message: str) -> Store:
    warnings.warn(message, StoreWarning, stacklevel=3)
    return Store(":memory:")


@contextlib.contextmanager
def scratch() -> Iterator[Store]:
    """Inside the block ``store()`` is an in-memory copy of the store: a verification re-run reads
    the saved prompts and writes its runs there, and leaves the user's file as it was.

    The copy keeps the cached replies of API-served models (``SERVED_CACHE``: a re-run must not
    ask, and pay, again) and none of the local models' generations: those are generated again,
    or the re-run would only read back what the first run wrote.
    """
    source = store()
    copy = Store(":memory:")
    with source._lock:
        source.conn.backup(copy.conn)
    copy.conn.execute("DELETE FROM cache WHERE substr(key, 1, ?) != ?", (len(SERVED_CACHE), SERVED_CACHE))
    _scratch.append(copy)
    try:
        yield copy
    finally:
        _scratch.remove(copy)
        copy.close()
