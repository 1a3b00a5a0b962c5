"""Retrieval and labelling speed: fm.index and fm.label against fm.embed, exact search against numpy,
and the ANN index against brute force on random vectors.

Run:  .venv/bin/python bench/bench_retrieval.py [--n 512] [--repeat 3] [--ann-n 1000000] [--queries 50]
                                               [--ann-data random|clustered]

1. Index build throughput: fm.index on --n sentences vs fm.embed on the same sentences with the
   embedded MiniLM, interleaved runs, median; ratio target >= 0.95.
2. Exact search: for every query, fm.Index.search's rows and scores equal a numpy brute-force
   top-k over the same vectors (prints how many queries agree, target: all).
3. ANN: --ann-n random 384-d unit vectors in a LanceDB table (--ann-data clustered: around 1,000
   random centres instead, closer to real embeddings); numpy brute-force top-10 latency, then the
   IVF-RQ index fm.index builds above ANN_MIN_ROWS (build time, peak memory of this process while
   building), its query latency with fm.Index's search parameters and recall@10 against brute
   force (targets: recall >= 0.95 at >= 10x lower latency).  --ann-n 0 skips this part.
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


def ann_part(n: int, queries: int, data: str) -> None:
    import lancedb
    import numpy as np
    import pyarrow as pa

    from fmwidgets.core.retrieval.index import ANN_BITS, ANN_NPROBES, ANN_PARTITIONS, ANN_REFINE, Index, build_ann
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
    for q in qs[:5]:
        start = time.perf_counter()
        index.search_vector(q, k)
        exact_times.append(time.perf_counter() - start)
    before = rss_mb()
    build_s, building = peak_while(lambda: build_ann(table))
    index.search_vector(qs[0], k)  # warm the index cache

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

    def other(nprobes: int, refine: int):
        query = lambda q: table.search(q, vector_column_name="vector").distance_type("cosine").limit(k)  # noqa: E731
        return lambda q: query(q).nprobes(nprobes).refine_factor(refine).to_pandas()["id"].to_numpy()

    a, b, recall = measure(lambda q: index.search_vector(q, k)["id"].to_numpy())
    print(f"ANN: {n} {data} {dim}-d unit vectors, {queries} queries, top-{k}, IVF-RQ {ANN_PARTITIONS} partitions "
          f"{ANN_BITS} bits, nprobes={ANN_NPROBES} refine_factor={ANN_REFINE}")
    print(f"  numpy brute force        : {b * 1000:8.2f} ms/query")
    print(f"  LanceDB exact scan       : {statistics.median(exact_times) * 1000:8.2f} ms/query (no index)")
    print(f"  ANN build                : {build_s:8.1f} s, RSS {before:.0f} MB before, peak {building:.0f} MB while building")
    print(f"  ANN query                : {a * 1000:8.2f} ms/query  speed-up vs brute force {b / a:.1f}x (target >= 10x)")
    print(f"  ANN recall@10            : {recall:.3f}   (target >= 0.95)")
    sweep = ((ANN_NPROBES // 16, ANN_REFINE), (ANN_NPROBES // 4, ANN_REFINE), (ANN_NPROBES, 1), (ANN_NPROBES, 5))
    for nprobes, refine in sweep:
        a, b, recall = measure(other(nprobes, refine))
        print(f"  other: nprobes={nprobes:<3} refine_factor={refine:<3}: {a * 1000:8.2f} ms/query  {b / a:5.1f}x  "
              f"recall@10 {recall:.3f}")

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ann-n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--ann-data", choices=["random", "clustered"], default="random")
    opts = parser.parse_args()

    import numpy as np
    import pandas as pd

    import fmwidgets as fm
    from bench_embed import sentences

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
        ann_part(opts.ann_n, opts.queries, opts.ann_data)


if __name__ == "__main__":
    main()
