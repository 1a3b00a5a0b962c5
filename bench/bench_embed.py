"""Embedding throughput: fm.embed against SentenceTransformer.encode on the same MiniLM.

Run:  .venv/bin/python bench/bench_embed.py [--n 512] [--repeat 5] [--batch-size 32]

Both embed the same --n sentences of mixed length (3 to ~120 words) with the embedded
all-MiniLM-L6-v2, on the same device and threads, batch size 32, in interleaved runs; the
script prints the median sentences/s of each, the ratio fm / sentence-transformers (target
>= 0.95) and the smallest cosine between the two sets of vectors (target >= 0.9999).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def sentences(n: int, seed: int = 0) -> list[str]:
    from fmwidgets.testing import CORPUS

    rng = random.Random(seed)
    return [" ".join(rng.choice(CORPUS) for _ in range(rng.choice([1, 1, 2, 3, 6, 12])))
            for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    opts = parser.parse_args()

    import numpy as np
    from sentence_transformers import SentenceTransformer

    import fmwidgets as fm
    from fmwidgets.core.models.loading import embedded_model_path

    warnings.simplefilter("ignore")
    handle = fm.load()
    st = SentenceTransformer(str(embedded_model_path()), device=handle.device)
    texts = sentences(opts.n)

    def ours():
        return fm.embed(texts, batch_size=opts.batch_size, progress=False)

    def theirs():
        return st.encode(texts, batch_size=opts.batch_size, show_progress_bar=False, convert_to_numpy=True)

    a, b = ours(), theirs()  # warm-up, and the equality check
    cosine = float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())

    times = {"fm": [], "st": []}
    for _ in range(opts.repeat):  # interleaved so that load from other processes hits both
        for name, fn in (("fm", ours), ("st", theirs)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    rate = {k: opts.n / statistics.median(v) for k, v in times.items()}
    print(f"device {handle.device}, {opts.n} sentences, batch {opts.batch_size}, median of {opts.repeat}")
    print(f"  sentence-transformers encode : {rate['st']:8.1f} sentences/s")
    print(f"  fm.embed                     : {rate['fm']:8.1f} sentences/s")
    print(f"  throughput ratio fm/st       : {rate['fm'] / rate['st']:.3f}   (target >= 0.95)")
    print(f"  smallest cosine fm vs st     : {cosine:.6f} (target >= 0.9999)")


if __name__ == "__main__":
    main()
