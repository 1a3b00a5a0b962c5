"""fm.evaluate against generate_df, the cache, and the store, as ratios and times in one run.

Run:  .venv/bin/python bench/bench_evaluate.py [--model PATH_OR_ID] [--device cpu|cuda] [--rows 200]

- evaluate over N rows (cache off, exact_match) vs generate_df on the same rows and settings:
  target <= 1.05x (evaluate adds templating checks, scoring, a bootstrap and storing the run);
- an identical re-run served from the cache vs the first run: target >= 20x faster;
- storing 10,000 per-row results: target < 1 s; fm.evaluations() with 1,000 stored runs: < 0.2 s.
The store is a fresh SQLite file in a temporary folder.  Without --model a 4-layer, 256-wide
GPT-2-shaped decoder is built offline (fmwidgets.testing), so the run takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=16)
    opts = parser.parse_args()

    import pandas as pd
    from _decoder_bench import interleaved_medians

    import fmwidgets as fm
    from fmwidgets import testing
    from fmwidgets.config import settings
    from fmwidgets.core.evaluation.run import run_evaluation
    from fmwidgets.core.evaluation.stored import evaluations, save
    from fmwidgets.core.prompting.generate_df import generate_table

    warnings.simplefilter("ignore")
    folder = tempfile.mkdtemp(prefix="fm-bench-eval-")
    settings().store_path = os.path.join(folder, "store.sqlite")
    path = opts.model or str(testing.tiny_gpt2(os.path.join(folder, "model"), layers=4, heads=4, hidden=256,
                                               context=512))
    handle = fm.load(path, as_="bench", device=opts.device)
    words = testing.CORPUS
    df = pd.DataFrame({"text": [" ".join(words[i % len(words)].split()[: 3 + (i * 5) % 12]) for i in range(opts.rows)],
                       "ref": ["x"] * opts.rows})
    gen = dict(max_new_tokens=opts.new_tokens, min_new_tokens=opts.new_tokens, greedy=True)

    plain = generate_table(df, "{text}", **gen)  # warm-up, and the outputs to compare
    ours = run_evaluation(df, "{text}", reference="ref", cache=False, **gen)
    assert ours.table["output"].tolist() == plain["output"].tolist(), "evaluate and generate_df differ"
    med = interleaved_medians({
        "generate_df": lambda: generate_table(df, "{text}", **gen),
        "evaluate": lambda: run_evaluation(df, "{text}", reference="ref", cache=False, **gen),
    }, opts.repeat, cuda=handle.device.startswith("cuda"))
    print(f"model {handle.model_id} on {handle.device}, {opts.rows} rows, {opts.new_tokens} new tokens, "
          f"median of {opts.repeat}")
    print(f"  evaluate vs generate_df: {med['evaluate']:.3f} s vs {med['generate_df']:.3f} s = "
          f"{med['evaluate'] / med['generate_df']:.3f}x (target <= 1.05x)")

    other = df.assign(text=df["text"] + " again")  # prompts not yet in the cache
    start = time.perf_counter()
    run_evaluation(other, "{text}", reference="ref", **gen)
    first = time.perf_counter() - start
    cached = []
    for _ in range(opts.repeat):
        start = time.perf_counter()
        hit = run_evaluation(other, "{text}", reference="ref", **gen)
        cached.append(time.perf_counter() - start)
    assert hit.record.params["cache_hits"] == opts.rows
    again = statistics.median(cached)
    print(f"  cached re-run: {again:.3f} s vs first run {first:.3f} s = {first / again:.1f}x faster (target >= 20x)")

    big = ours.table.sample(10_000, replace=True, random_state=0).reset_index(drop=True)
    ours.table, ours.name = big, "ten-thousand"
    start = time.perf_counter()
    save(ours)
    print(f"  storing 10,000 per-row results: {time.perf_counter() - start:.3f} s (target < 1 s)")

    small = ours.table.head(3)
    ours.table = small
    for i in range(1000):
        ours.name = f"run-{i}"
        save(ours)
    times = []
    for _ in range(opts.repeat):
        start = time.perf_counter()
        listed = evaluations()
        times.append(time.perf_counter() - start)
    print(f"  fm.evaluations() with {len(listed)} stored runs: {statistics.median(times):.3f} s (target < 0.2 s)")


if __name__ == "__main__":
    main()
