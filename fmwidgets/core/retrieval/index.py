"""``fm.index``: a DataFrame's rows embedded into a LanceDB table, searched by cosine similarity.

LanceDB keeps Arrow tables on disk (a temporary folder unless ``path=`` is given) and searches
small tables exhaustively (exact).  From ``ANN_MIN_ROWS`` rows an approximate index (``ann.py``:
faiss 4-bit PQ fast-scan codes, candidates re-ranked with the exact vectors) is built
automatically and saved beside the table; bench/bench_retrieval.py measures its recall and
latency against brute force.  The vectors come from ``core.embedding.embed.encode`` (the same
code as ``fm.embed``), always normalised, so cosine is what is searched.
``fmwidgets-index.json`` next to the table says which model (id, commit, pooling) made the
vectors; reopening with another model is refused, because its vectors would not be comparable
with the stored ones.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from ...engines import Engine
from ...errors import BadArgumentError, DataError, WrongFamilyError
from ...notices import FMWarning
from ...paths import home_as_tilde
from ...provenance.history import recorded
from ...records import RunRecord
from ...render import Recorded
from ...render.retrieval import index_bundle
from ...signatures import expands
from ..data import clean_texts
from ..embedding.embed import EmbeddingInterrupted, default_max_length, default_pooling, encode_on
from ..models.registry import ModelHandle, get_model, registry
from .ann import ANN_FILE, Ann, stored_vectors

META_FILE = "fmwidgets-index.json"
TABLE = "rows"
FORMAT = 1
# Below this an exhaustive scan is fast enough and exact.  Median ms/query of Index.search_vector on
# random 384-d vectors (quiet 2-core machine), LanceDB exact scan vs the ANN index (and its build):
# 16 vs 9 at 5,000 rows (1.1 s), 23 vs 10 at 10,000 (1.2 s), 31 vs 10 at 20,000, 104 vs 11 at
# 50,000, 274 vs 7 at 100,000 (2.5 s).  The exact scan grows with the rows; the ANN's ~9 ms is
# mostly fetching the found rows from the table.
ANN_MIN_ROWS = 10_000
RESERVED = ("vector", "score", "chunk", "_distance")

# indexes of this kernel by name (fm.index(name=...), %fm index --as NAME), for %%fm rag --index NAME
indexes: dict[str, Index] = {}


@dataclass(eq=False)
class Index(Recorded, look=index_bundle):
    """An embedded vector index over the rows of a DataFrame; ``search``, ``add``, ``len``."""

    path: str
    text: str
    model: dict[str, Any]  # id, commit, revision, pooling, dim: what made the vectors
    chunk_tokens: int | None
    overlap: int
    record: RunRecord
    name: str | None = None
    table: Any = field(default=None, repr=False)
    engine: Engine = field(default_factory=Engine)  # where its rows are embedded
    _handle: ModelHandle | None = field(default=None, repr=False)
    _tmp: Any = field(default=None, repr=False)  # a TemporaryDirectory that lives as long as the index
    _ann: Ann | None = field(default=None, repr=False)  # the approximate index, read on first use

    def __len__(self) -> int:
        return self.table.count_rows()

    @property
    def ann(self) -> bool:
        """Whether the approximate index (``ann.py``) answers searches, rather than an exact scan:
        once it exists, or the table has ``ANN_MIN_ROWS`` rows (an index written before it existed
        gets it on its first search)."""
        return self._ann is not None or (Path(self.path) / ANN_FILE).exists() or len(self) >= ANN_MIN_ROWS

    def build_ann(self) -> None:
        """Build the approximate index over every row now, whatever the table's size, and save it."""
        self._ann = Ann.build(*stored_vectors(self.table))
        self._ann.save(Path(self.path))

    def _update_ann(self) -> None:
        """Code the rows added since the approximate index was built; open or build it when due."""
        if self._ann is not None:
            self._ann.add(*stored_vectors(self.table, after=int(self._ann.row_ids[-1])))
            self._ann.save(Path(self.path))
        elif self.ann:
            self._searcher()

    def _searcher(self) -> Ann:
        """The approximate index, read from its file (coding rows added since) or built."""
        if self._ann is None:
            self._ann = Ann.open(Path(self.path), self.table)
        return self._ann

    @cached_property
    def columns(self) -> list[str]:
        """The stored columns but the vectors (kept: reading the table's schema takes milliseconds)."""
        return [c for c in self.table.schema.names if c != "vector"]

    def handle(self) -> ModelHandle:
        """The loaded model that made the vectors (loaded again from its id if needed)."""
        if self._handle is None:
            self._handle = _matching_model(self, None)
        return self._handle

    def vectors(self, texts: list[str], progress: bool | None = None, where: Engine | None = None) -> Any:
        """Normalised vectors of ``texts`` by the index's model (in this kernel, or ``where`` says)."""
        return encode_on(
            self.handle(),
            texts,
            "text",
            where or Engine("local"),
            pooling=self.model["pooling"],
            normalize=True,
            progress=progress,
        )

    def search(self, query: str, k: int = 5) -> Any:
        """The ``k`` rows nearest to ``query`` by cosine similarity, best first, with a ``score`` column."""
        if not isinstance(query, str) or not query.strip():
            raise DataError("The query is empty; pass the text to look for.")
        check_k(k, len(self))
        return self.search_vector(self.vectors([query])[0], k)

    def search_vector(self, vector: Any, k: int) -> Any:
        """Rows nearest to an already embedded ``vector`` (normalised), best first."""
        import numpy as np

        if self.ann:
            row_ids, scores = self._searcher().search(vector, k)
            rows = self.table.take_row_ids(row_ids.tolist()).select(self.columns).with_row_id().to_arrow()
            got = rows["_rowid"].to_numpy()
            order = np.argsort(got)
            found = rows.drop_columns(["_rowid"]).take(order[np.searchsorted(got, row_ids, sorter=order)])
            return found.to_pandas().assign(score=scores.astype(float))
        query = self.table.search(vector, vector_column_name="vector").distance_type("cosine").limit(k)
        found = query.to_pandas()
        found["score"] = (1.0 - found["_distance"]).astype(float)
        return found.drop(columns=["vector", "_distance"]).reset_index(drop=True)

    @expands(Engine, "where")
    def add(self, data: Any, *, where: Engine) -> Index:
        """Embed and append the rows of ``data`` (the same columns as the indexed DataFrame).

        They are embedded where ``fm.index`` embedded the first rows, unless ``engine`` (with
        ``ray_address`` and ``workers``) says otherwise.
        """
        where = where if where.given() else self.engine
        where.batches()
        frame = _rows(data, self.text)
        stored = [c for c in self.columns if c != "chunk"]
        if sorted(frame.columns) != sorted(stored):
            raise DataError(
                f"The new rows have columns {list(frame.columns)}, but the index holds {stored}; "
                "pass rows with the same columns."
            )
        rows = _chunked(self.handle(), frame, self.text, self.chunk_tokens, self.overlap)
        rows, vectors = _embedded(
            rows, lambda texts: self.vectors(texts, where=where), self.text, "were added"
        )
        arrow = _arrow(rows, vectors, schema=self.table.schema)
        _lance("add the rows", lambda: self.table.add(arrow))
        self._update_ann()
        return self

    def summary(self) -> str:
        mode = "ANN (PQ fast-scan, re-ranked exactly)" if self.ann else "exact search"
        chunks = f" · chunks of {self.chunk_tokens} tokens" if self.chunk_tokens else ""
        return f"{len(self)} rows · {self.model['id']} ({self.model['dim']}-d, cosine) · {mode}{chunks}"


# --------------------------------------------------------------------------------------------
# Checks


def check_k(k: Any, size: int) -> int:
    if not isinstance(k, int) or k < 1:
        raise BadArgumentError(f"k must be a whole number of at least 1, not {k!r}.")
    if k > size:
        raise BadArgumentError(
            f"k={k} asks for more rows than the index holds ({size}); use k={size} or less."
        )
    return k


def embedding_model(model: Any) -> ModelHandle:
    """The handle for ``model`` if it makes sentence vectors (an encoder or CLIP-style text tower)."""
    handle = get_model(model, "embed")
    if handle.family not in ("encoder", "clip"):
        raise WrongFamilyError(
            f"Model '{handle.name}' is {'an' if handle.family[0] in 'aeiou' else 'a'} {handle.family}, not an "
            "embedding model; index with a sentence encoder such as the embedded MiniLM (model=None after fm.load())."
        )
    return handle


def _rows(data: Any, text: str) -> Any:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"fm.index needs a DataFrame, not {type(data).__name__}; wrap texts as pd.DataFrame({{'text': texts}})."
        )
    if not isinstance(text, str):
        raise BadArgumentError("text= must name the column that holds the texts to index.")
    frame, _ = clean_texts(data, text)
    clash = [c for c in frame.columns if c in RESERVED]
    if clash:
        raise DataError(
            f"The column name '{clash[0]}' is used by the index itself; rename it before indexing."
        )
    dotted = [str(c) for c in frame.columns if "." in str(c)]
    if dotted:  # LanceDB reads a '.' as a path into a struct column and refuses the name
        raise DataError(
            f"The column name {dotted[0]!r} holds a '.', which LanceDB does not allow in a column name; "
            f"rename it first, e.g. df.rename(columns={{{dotted[0]!r}: {dotted[0].replace('.', '_')!r}}})."
        )
    return frame.reset_index(drop=True)


def _embedded(rows: Any, embed: Callable[[list], Any], text: str, kept: str) -> tuple[Any, Any]:
    """(rows, their vectors); after an interrupt, the rows embedded so far (in their order) and a
    warning, so that an hour of embedding is not lost to Ctrl-C."""
    import warnings

    import numpy as np

    try:
        return rows, embed(rows[text].tolist())
    except EmbeddingInterrupted as stop:
        order = np.argsort(stop.done)
        warnings.warn(
            f"Interrupted after {len(stop.done):,} of {stop.total:,} rows; those {len(stop.done):,} {kept} "
            "(add the others with index.add).",
            FMWarning,
            stacklevel=4,
        )
        return rows.iloc[np.asarray(stop.done)[order]].reset_index(drop=True), stop.vectors[order]


def _lance(what: str, write: Callable[[], Any]) -> Any:
    """A LanceDB write; its own errors (Rust messages ending in a source path) as one sentence."""
    try:
        return write()
    except (RuntimeError, OSError, ValueError) as exc:
        reason = home_as_tilde(" ".join(str(exc).split(", /")[0].split()))[:200]
        raise DataError(
            f"LanceDB could not {what} ({reason}); check the rows' columns and the index folder."
        ) from exc


def _model_facts(handle: ModelHandle, dim: int) -> dict[str, Any]:
    return {
        "id": handle.model_id,
        "commit": handle.commit,
        "revision": handle.revision,
        "pooling": default_pooling(handle),
        "dim": dim,
    }


def _same_model(handle: ModelHandle, facts: dict[str, Any]) -> bool:
    return handle.model_id == facts["id"] and (handle.commit or None) == (facts.get("commit") or None)


def _matching_model(index: Index, model: Any) -> ModelHandle:
    """``model`` when it made the index's vectors (refused otherwise); None finds or loads that model."""
    facts = index.model
    if model is not None:
        handle = embedding_model(model)
        if not _same_model(handle, facts):
            raise DataError(
                f"The index at '{index.path}' was built with '{facts['id']}' (commit {facts.get('commit') or 'unknown'}), "
                f"not '{handle.model_id}'; search it with that model or build a new index."
            )
        return handle
    for name in registry.names():
        handle = registry.get(name)
        if _same_model(handle, facts):
            return handle
    from ..models.loading import EMBEDDED_ID, load

    handle = load(None if facts["id"] == EMBEDDED_ID else facts["id"], revision=facts.get("revision"))
    if not _same_model(handle, facts):
        raise DataError(
            f"'{facts['id']}' loaded at commit {handle.commit}, but the index at '{index.path}' was "
            f"built at commit {facts.get('commit')}; load that revision or build a new index."
        )
    return handle


# --------------------------------------------------------------------------------------------
# Chunks and Arrow


def _chunked(handle: ModelHandle, frame: Any, text: str, chunk_tokens: int | None, overlap: int) -> Any:
    """``frame`` with long texts cut into windows of ``chunk_tokens`` tokens (``overlap`` shared)
    on token boundaries; each chunk keeps its row's other columns and gets its number in ``chunk``."""
    if not chunk_tokens:
        return frame
    pieces, rows, numbers = [], [], []
    step = chunk_tokens - overlap
    encoded = handle.tokenizer(frame[text].tolist(), add_special_tokens=False, return_offsets_mapping=True)
    for i, (value, spans) in enumerate(zip(frame[text], encoded["offset_mapping"])):
        starts = range(0, max(len(spans) - overlap, 1), step) if spans else [0]
        for n, s in enumerate(starts):
            window = spans[s : s + chunk_tokens]
            pieces.append(value[window[0][0] : window[-1][1]] if window else value)
            rows.append(i)
            numbers.append(n)
    out = frame.iloc[rows].reset_index(drop=True)
    out[text] = pieces
    out["chunk"] = numbers
    return out


def _arrow(frame: Any, vectors: Any, schema: Any = None) -> Any:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    column = pa.FixedSizeListArray.from_arrays(
        pa.array(vectors.reshape(-1), type=pa.float32()), vectors.shape[1]
    )
    table = table.append_column("vector", column)
    if schema is None:
        return table
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError, ValueError) as exc:
        raise DataError(
            f"The new rows' columns do not have the indexed columns' types ({exc}); convert them first."
        ) from exc


# --------------------------------------------------------------------------------------------
# Public API


def _write_meta(folder: Path, index: Index) -> None:
    meta = {
        "format": FORMAT,
        "text": index.text,
        "model": index.model,
        "chunk_tokens": index.chunk_tokens,
        "overlap": index.overlap,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))


@recorded
@expands(Engine, "where")
def index(
    data: Any,
    text: str = "text",
    *,
    model: Any = None,
    chunk_tokens: int | None = None,
    overlap: int = 0,
    path: str | None = None,
    name: str | None = None,
    progress: bool | None = None,
    where: Engine,
) -> Index:
    """Embed the rows of ``data`` (column ``text``) into a LanceDB table and return the ``Index``.

    ``chunk_tokens`` cuts longer texts into windows of that many tokens (``overlap`` of them
    shared by neighbours), each keeping its row's columns; None indexes each text whole (cut at
    the model's input length, as ``fm.embed`` does).  ``path`` keeps the index in that folder
    (``fm.open_index(path)`` reopens it); None uses a temporary folder.  ``name`` registers it in
    this kernel for ``%%fm rag --index NAME``.  ``engine="ray"`` embeds the rows on a Ray cluster
    (``ray_address``, ``workers`` model replicas), as ``fm.embed`` does; queries are embedded here.
    """
    import lancedb

    where.batches()  # a wrong engine or workers fails first
    handle = embedding_model(model)
    frame = _rows(data, text)
    if chunk_tokens is not None:
        if not isinstance(chunk_tokens, int) or chunk_tokens < 2:
            raise BadArgumentError(
                f"chunk_tokens must be a whole number of at least 2, not {chunk_tokens!r}."
            )
        limit = default_max_length(handle)
        if limit and chunk_tokens > limit:
            raise BadArgumentError(
                f"chunk_tokens={chunk_tokens} is longer than '{handle.name}' reads ({limit} tokens); "
                f"use {limit} or fewer."
            )
    if (
        not isinstance(overlap, int)
        or overlap < 0
        or (overlap and (not chunk_tokens or overlap >= chunk_tokens))
    ):
        raise BadArgumentError(
            f"overlap={overlap!r} must be 0, or with chunk_tokens a number of tokens below it."
        )
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="fm-index-")
        folder = Path(tmp.name)
    else:
        folder = Path(path).expanduser()
        if folder.exists() and any(folder.iterdir()):
            raise DataError(
                f"The folder '{path}' is not empty; reopen an index there with fm.open_index('{path}'), "
                "or pick a new folder."
            )
        folder.mkdir(parents=True, exist_ok=True)
    rows = _chunked(handle, frame, text, chunk_tokens, overlap)
    rows, vectors = _embedded(
        rows,
        lambda texts: encode_on(
            handle, texts, "text", where, pooling=default_pooling(handle), normalize=True, progress=progress
        ),
        text,
        "are in the index",
    )
    table = _lance(
        "write the index",
        lambda: lancedb.connect(str(folder)).create_table(TABLE, data=_arrow(rows, vectors)),
    )
    params = {
        "text": text,
        "chunk_tokens": chunk_tokens,
        "overlap": overlap,
        "path": path,
        "name": name,
        **where.params(),
    }
    result = Index(
        path=str(folder),
        text=text,
        model=_model_facts(handle, vectors.shape[1]),
        chunk_tokens=chunk_tokens,
        overlap=overlap,
        name=name,
        table=table,
        engine=where,
        _handle=handle,
        _tmp=tmp,
        record=RunRecord.for_model("index", handle, params, data=data),
    )
    _write_meta(folder, result)
    result._update_ann()
    if name:
        indexes[name] = result
    return result


@recorded
def open_index(path: str, *, model: Any = None, name: str | None = None) -> Index:
    """Reopen an index that ``fm.index(..., path=path)`` wrote; ``model`` must be the one that built it."""
    import lancedb

    folder = Path(path).expanduser()
    try:
        meta = json.loads((folder / META_FILE).read_text())
        table = lancedb.connect(str(folder)).open_table(TABLE)
        table.schema.field("vector")
        facts = meta["model"]
        result = Index(
            path=str(folder),
            text=meta["text"],
            model=facts,
            chunk_tokens=meta["chunk_tokens"],
            overlap=meta["overlap"],
            name=name,
            table=table,
            record=RunRecord("index"),
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise DataError(
            f"'{path}' is not a readable fmwidgets index ({type(exc).__name__}); point at a folder "
            "that fm.index(..., path=...) wrote, or build the index again."
        ) from exc
    result._handle = _matching_model(result, model)
    result.record = RunRecord.for_model("index", result._handle, {"path": str(path), "name": name})
    if name:
        indexes[name] = result
    return result


def get_index(index: Any) -> Index:
    """An ``Index`` from itself or from the name it was registered under."""
    if isinstance(index, Index):
        return index
    if isinstance(index, str) and index in indexes:
        return indexes[index]
    known = ", ".join(sorted(indexes)) or "none yet"
    raise BadArgumentError(
        f"There is no index named {index!r} in this kernel (known: {known}); build one with "
        "fm.index(df, text=..., name=...) or %fm index DF --text COL --as NAME."
    )
