"""Retrieval and labelling speed: fm.index and fm.label against fm.embed, exact search against numpy,
and the ANN index against brute force on random vectors.

Run:  .venv/bin/python bench/bench_retrieval.py [--n 512] [--repeat 3] [--ann-n 1000000] [--queries 50]
                                               [--ann-data random|clustered] [--compare-lance]

1. Index build throughput: fm.index on --n sentences vs fm.embed on the same sentences with the
   embedded MiniLM, interleaved runs, median; ratio target >= 0.95.
2. Exact search: for every query, fm.Index.search's rows and scores equal a numpy brute-force
   top-k over the same vectors (prints how many queries agree, target: all).
3. ANN: --ann-n random 384-d unit vectors in a LanceDB table (--ann-data clustered: around 1,000
   random centres instead, closer to real embeddings); numpy brute-force top-10 latency, then the
   ANN index fm.index builds from ANN_MIN_ROWS rows (build time, peak memory of this process while
   building and what it holds after), its query latency and recall@10 against brute force
   (targets: recall >= 0.95 at >= 10x lower latency), the whole Index.search_vector (which also
   fetches the rows from LanceDB), and other candidate counts.  --compare-lance also builds and
   times LanceDB's own IVF-RQ index on the same table.  --ann-n 0 skips this part.
4. fm.label(method="embedding") throughput vs fm.embed on the same sentences; target >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def median_rates(n: int, repeat: int, runs: dict) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeat):  # interleaved so that load from other processes hits every contender
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {k: n / statistics.median(v) for k, v in times.items()}


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_while(fn) -> tuple[float, float]:
    """Seconds ``fn()`` took and the peak resident memory (MB) sampled every 50 ms meanwhile."""
    peak, done = [rss_mb()], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak.append(rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return seconds, max(peak)


def ann_part(n: int, queries: int, data: str, compare_lance: bool = False) -> None:
    import lancedb
    import numpy as np
    import pyarrow as pa

    from fmwidgets.core.retrieval.ann import ANN_CANDIDATES, sub_vectors
    from fmwidgets.core.retrieval.index import Index
    from fmwidgets.records import RunRecord

    dim, k = 384, 10
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    qs = rng.standard_normal((queries, dim), dtype=np.float32)
    if data == "clustered":  # each vector near one of 1,000 random centres
        centres = rng.standard_normal((1000, dim), dtype=np.float32) / 0.7
        vectors += centres[rng.integers(0, len(centres), n)]
        qs += centres[rng.integers(0, len(centres), queries)]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)

    def brute(q):
        scores = vectors @ q
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.argsort(-scores[top])]

    truth = [brute(q) for q in qs]

    folder = tempfile.mkdtemp(prefix="fm-bench-ann-")
    db = lancedb.connect(folder)
    schema = pa.schema([("id", pa.int64()), ("vector", pa.list_(pa.float32(), dim))])
    table = db.create_table("rows", schema=schema)
    for s in range(0, n, 100_000):
        part = vectors[s:s + 100_000]
        table.add(pa.table({"id": pa.array(np.arange(s, s + len(part))),
                            "vector": pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1)), dim)}))
    index = Index(path=folder, text="id", model={"id": "random", "dim": dim}, chunk_tokens=None, overlap=0,
                  record=RunRecord("bench"), table=table)
    exact_times = []
    for q in qs[:5]:  # no index on the table yet: LanceDB scans every vector
        start = time.perf_counter()
        table.search(q, vector_column_name="vector").distance_type("cosine").limit(k).to_arrow()
        exact_times.append(time.perf_counter() - start)
    before = rss_mb()
    build_s, building = peak_while(index.build_ann)
    after = rss_mb()
    ann = index._ann

    def measure(search) -> tuple[float, float, float]:
        """Median latency of ``search(q) -> ids`` and of brute force, query by query interleaved (so
        load from other processes hits both), and the mean recall@10 against brute force."""
        times, brute_times, recalls = [], [], []
        for q, true in zip(qs, truth):
            start = time.perf_counter()
            brute(q)
            brute_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = search(q)
            times.append(time.perf_counter() - start)
            recalls.append(len(set(found) & set(true)) / k)
        return statistics.median(times), statistics.median(brute_times), statistics.mean(recalls)

    def line(name: str, a: float, b: float, recall: float) -> None:
        print(f"  {name:<38}: {a * 1000:8.2f} ms/query  {b / a:5.1f}x lower than brute force  recall@10 {recall:.3f}")

    print(f"ANN: {n} {data} {dim}-d unit vectors, {queries} queries, top-{k}; faiss PQ fast-scan "
          f"{sub_vectors(dim)} x 4-bit codes, {ANN_CANDIDATES} candidates re-ranked exactly")
    print(f"  numpy brute force                     : {measure(brute)[1] * 1000:8.2f} ms/query")
    print(f"  LanceDB exact scan (no index)         : {statistics.median(exact_times) * 1000:8.2f} ms/query")
    print(f"  ANN build                             : {build_s:8.1f} s; RSS {before:.0f} MB before, peak {building:.0f} MB "
          f"while building, {after:.0f} MB after (+{after - before:.0f} MB held: codes and vectors)")
    def positions(row_ids):  # LanceDB row ids -> row positions (the ``id`` column), as brute force gives
        return np.searchsorted(ann.row_ids, row_ids)

    a, b, recall = measure(lambda q: positions(ann.search(q, k)[0]))
    line("ANN index (row ids, exact scores)", a, b, recall)
    print(f"  {'':<38}  (targets: >= 10x at recall@10 >= 0.95)")
    a, b, recall = measure(lambda q: index.search_vector(q, k)["id"].to_numpy())
    line("Index.search_vector (rows from LanceDB)", a, b, recall)
    for candidates in (ANN_CANDIDATES // 2, ANN_CANDIDATES * 2):
        a, b, recall = measure(lambda q, c=candidates: positions(ann.search(q, k, candidates=c)[0]))
        line(f"other: {candidates} candidates", a, b, recall)
    if compare_lance:  # LanceDB's own best index on the same table, for the record in ann.py
        from lancedb.index import IvfRq

        start = time.perf_counter()
        table.create_index("vector", config=IvfRq(distance_type="cosine", num_partitions=64, num_bits=4))
        print(f"  LanceDB IVF-RQ build (64 partitions, 4 bits): {time.perf_counter() - start:.1f} s")
        for nprobes, refine in ((64, 3), (16, 3)):
            search = lambda q, p=nprobes, r=refine: (  # noqa: E731
                table.search(q, vector_column_name="vector").distance_type("cosine").limit(k)
                .nprobes(p).refine_factor(r).select(["id"]).to_arrow()["id"].to_numpy())
            a, b, recall = measure(search)
            line(f"LanceDB IVF-RQ nprobes={nprobes} refine={refine}", a, b, recall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ann-n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--ann-data", choices=["random", "clustered"], default="random")
    parser.add_argument("--compare-lance", action="store_true", help="also time LanceDB's own IVF-RQ index")
    opts = parser.parse_args()

    import numpy as np
    import pandas as pd
    from bench_embed import sentences

    import fmwidgets as fm

    warnings.simplefilter("ignore")
    handle = fm.load()
    texts = sentences(opts.n)
    frame = pd.DataFrame({"text": texts})
    fm.index(frame, text="text", progress=False)  # warm-up
    rates = median_rates(opts.n, opts.repeat, {
        "embed": lambda: fm.embed(texts, progress=False),
        "index": lambda: fm.index(frame, text="text", progress=False),
        "label": lambda: fm.label(frame, text="text", labels=["weather", "sport", "food"]),
    })
    print(f"device {handle.device}, {opts.n} sentences, median of {opts.repeat}")
    print(f"  fm.embed                 : {rates['embed']:8.1f} sentences/s")
    print(f"  fm.index                 : {rates['index']:8.1f} sentences/s  ratio {rates['index'] / rates['embed']:.3f} (target >= 0.95)")
    print(f"  fm.label (embedding)     : {rates['label']:8.1f} sentences/s  ratio {rates['label'] / rates['embed']:.3f} (target >= 0.9)")

    idx = fm.index(frame, text="text", progress=False)
    vectors = fm.embed(texts, progress=False)
    questions = sentences(20, seed=1)
    same = 0
    for q, qv in zip(questions, fm.embed(questions, progress=False)):
        scores = vectors @ qv
        order = np.argsort(-scores, kind="stable")[:10]
        found = idx.search(q, k=10)
        same += bool(np.allclose(found["score"], scores[order], atol=1e-5)
                     and set(found["text"]) == set(frame["text"].iloc[order]))
    print(f"  exact search = numpy top-10 on {same} of {len(questions)} queries (target: all)")
    if opts.ann_n:
        ann_part(opts.ann_n, opts.queries, opts.ann_data, opts.compare_lance)


if __name__ == "__main__":
    main()
