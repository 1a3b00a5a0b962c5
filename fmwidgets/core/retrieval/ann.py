"""The approximate nearest-neighbour (ANN) index that large ``fm.index`` tables are searched with.

A 4-bit product-quantisation index in faiss's fast-scan layout (``IndexPQFastScan``: a vector
becomes ``dim/3`` half-bytes, compared with the query through look-up tables held in SIMD
registers) proposes ``ANN_CANDIDATES`` rows; these are re-ranked with their exact vectors, so
the scores returned are exact cosines and only the choice of candidates is approximate.

Why not LanceDB's own vector index (bench/bench_retrieval.py, 1,000,000 random 384-d unit
vectors, 2-core machine, latency against numpy brute force in the same run): random vectors have
no clusters, so IVF partitioning loses neighbours (probing a quarter of 64 partitions found 47% of
the true top-10) and graphs do worse (faiss HNSW, M=32, found 43% at ef=512 on 200,000 rows).
What works is scanning compact codes of every vector and re-ranking.  LanceDB's best, IVF-RQ with
4 bits, every partition probed and 3x re-ranking, reached recall@10 0.99 at only 3.6x: its scan
took 18 ns a vector.  faiss's PQ fast-scan with 128 sub-vectors scans the same million in about
8 ms, and re-ranking its best 2,000 with the exact vectors gave recall@10 0.97 at 12x (8.7 against
118 ms; 1,000 candidates: 0.93, 4,000: 0.99 at 11x; 96 sub-vectors and 2,000: 0.89 at 14x).

LanceDB stays the store: rows and their vectors live in its table, and the faiss codes are only an
accelerator saved beside it (``ann.faiss``).  Rows are only ever appended, so the table's row ids
ascend in the order rows were added, and position ``i`` of the codes is the ``i``-th row id; on
opening, rows added since are coded and an unreadable file is rebuilt from the table, so
deleting the file loses nothing.  The exact vectors for re-ranking are held in memory (4 bytes
per dimension per row: 1.5 GB for a million 384-d rows, what brute force holds too).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import DataError
from ...notices import FMWarning

ANN_FILE = "ann.faiss"
ANN_CANDIDATES = 2000  # rows proposed by the codes for each 10 asked for, re-ranked exactly
TRAIN_ROWS = 100_000  # the codebooks are learnt on at most this many rows (a fixed random sample)


def sub_vectors(dim: int) -> int:
    """The number of 4-bit codes a vector gets: the divisor of ``dim`` nearest ``dim / 3``
    (3 dimensions a code measured best on 384-d vectors: 128 codes, 64 bytes a vector)."""
    divisors = [m for m in range(1, dim + 1) if dim % m == 0 and m <= max(dim // 2, 1)]
    return min(divisors, key=lambda m: abs(m - dim / 3))


def stored_vectors(table: Any, after: int | None = None) -> tuple[Any, Any]:
    """The table's vectors (float32, one row each) and row ids, in the order the rows were added;
    with ``after``, only the rows added after the row with that id.  Read batch by batch into one
    array, so that a million rows cost their 1.5 GB once, not once more as Arrow."""
    import numpy as np

    where = None if after is None else f"_rowid > {int(after)}"
    rows = table.count_rows(where)
    dim = table.schema.field("vector").type.list_size
    vectors = np.empty((rows, dim), dtype=np.float32)
    row_ids = np.empty(rows, dtype=np.int64)
    query = table.search().select(["vector"]).with_row_id(True)
    if where:
        query = query.where(where)
    start = 0
    for batch in query.limit(None).to_batches():
        end = start + batch.num_rows
        vectors[start:end] = batch["vector"].flatten().to_numpy().reshape(-1, dim)
        row_ids[start:end] = batch["_rowid"].to_numpy()
        start = end
    if start != rows:
        raise DataError(
            f"The table changed while its vectors were read ({start} rows, not {rows}); search again."
        )
    if np.any(np.diff(row_ids) < 0):
        order = np.argsort(row_ids, kind="stable")
        vectors, row_ids = vectors[order], row_ids[order]
    return vectors, row_ids


@dataclass(eq=False)
class Ann:
    """PQ fast-scan codes of every row, the exact vectors for re-ranking, and the rows' ids."""

    codes: Any  # faiss.IndexPQFastScan, inner product on normalised vectors (= cosine)
    vectors: Any  # numpy float32 (rows, dim), the rows' exact vectors in code order
    row_ids: Any  # numpy int64 (rows,), the LanceDB row id of each position

    @classmethod
    def build(cls, vectors: Any, row_ids: Any) -> Ann:
        """Learn the codebooks on (a sample of) ``vectors`` and code them all."""
        import faiss
        import numpy as np

        if len(vectors) < 16:
            raise DataError(
                f"An ANN index needs at least 16 rows to learn its codes, not {len(vectors)}; "
                "search this table exactly."
            )
        dim = vectors.shape[1]
        codes = faiss.IndexPQFastScan(dim, sub_vectors(dim), 4, faiss.METRIC_INNER_PRODUCT)
        sample = vectors
        if len(vectors) > TRAIN_ROWS:
            pick = np.random.default_rng(0).choice(len(vectors), TRAIN_ROWS, replace=False)
            sample = vectors[np.sort(pick)]
        codes.train(sample)
        codes.add(vectors)
        return cls(codes, vectors, row_ids)

    @classmethod
    def open(cls, folder: Path, table: Any) -> Ann:
        """The saved codes brought up to date with ``table``, or new ones if the file is missing,
        unreadable, or holds more rows than the table."""
        import faiss

        vectors, row_ids = stored_vectors(table)
        file = folder / ANN_FILE
        if file.exists():
            try:
                codes = faiss.read_index(str(file))
            except RuntimeError:
                warnings.warn(
                    f"The ANN index file '{file}' could not be read; it is rebuilt from the table.",
                    FMWarning,
                    stacklevel=3,
                )
            else:
                if codes.d == vectors.shape[1] and codes.ntotal <= len(vectors):
                    ann = cls(codes, vectors[: codes.ntotal], row_ids[: codes.ntotal])
                    if codes.ntotal < len(vectors):
                        ann.add(vectors[codes.ntotal :], row_ids[codes.ntotal :])
                        ann.save(folder)
                    return ann
        ann = cls.build(vectors, row_ids)
        ann.save(folder)
        return ann

    def add(self, vectors: Any, row_ids: Any) -> None:
        """Code rows added to the table after the ones already coded (the codebooks stay)."""
        import numpy as np

        self.codes.add(vectors)
        self.vectors = np.concatenate([self.vectors, vectors])
        self.row_ids = np.concatenate([self.row_ids, row_ids])

    def save(self, folder: Path) -> None:
        """Write the codes next to the table; a half-written file never replaces a good one, and a
        folder that cannot be written (a shared, read-only index) only costs a rebuild next time."""
        import faiss

        partial = folder / (ANN_FILE + ".partial")
        try:
            faiss.write_index(self.codes, str(partial))
            os.replace(partial, folder / ANN_FILE)
        except (OSError, RuntimeError) as exc:
            warnings.warn(
                f"The ANN index could not be saved in '{folder}' ({type(exc).__name__}); searches work, "
                "and it is built again when the index is next opened.",
                FMWarning,
                stacklevel=3,
            )

    def search(self, vector: Any, k: int, candidates: int = ANN_CANDIDATES) -> tuple[Any, Any]:
        """Row ids and exact cosine scores of the ``k`` best rows among the ``candidates`` (per 10
        asked for) that the codes propose."""
        import numpy as np

        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        wanted = min(len(self.row_ids), max(candidates, candidates // 10 * k))
        _, found = self.codes.search(query, wanted)
        proposed = found[0][found[0] >= 0]
        scores = self.vectors[proposed] @ query[0]
        best = np.argsort(-scores, kind="stable")[:k]
        return self.row_ids[proposed[best]], scores[best]
