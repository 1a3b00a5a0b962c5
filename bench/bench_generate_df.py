"""generate_df: rows per second one row at a time against left-padded batches, on this device.

Run:  .venv/bin/python bench/bench_generate_df.py [--model PATH_OR_ID] [--device cpu|cuda] [--rows 16]

Decides ``generate_df``'s default batch size: batching fills a GPU, and on a CPU the padding
and the longer attention may or may not cost more than the batching saves.  Prompts of different lengths (as in a real
DataFrame), greedy, 32 new tokens; the ratio is rows/s of each batch size over batch size 1,
measured in the same run (medians of --repeat).  Also checks that batched and unbatched greedy
outputs agree (padding can change a few tokens in low precision; the count is printed).
"""

from __future__ import annotations

import argparse
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,4,8,16")
    opts = parser.parse_args()

    import pandas as pd
    from _decoder_bench import interleaved_medians, load_decoder

    from fmwidgets import testing
    from fmwidgets.core.prompting.generate_df import DEFAULT_BATCH_SIZE, generate_table

    warnings.simplefilter("ignore")
    handle = load_decoder(opts.model, opts.device)
    words = testing.CORPUS
    df = pd.DataFrame({"text": [" ".join(words[i % len(words)].split()[: 3 + (i * 5) % 12])
                                for i in range(opts.rows)]})
    sizes = [int(s) for s in opts.sizes.split(",")]

    def run(size):
        return generate_table(df, "{text}", max_new_tokens=32, min_new_tokens=32, greedy=True, batch_size=size)

    outputs = {size: run(size)["output"].tolist() for size in sizes}  # warm-up
    med = interleaved_medians({size: (lambda size=size: run(size)) for size in sizes}, opts.repeat,
                              cuda=handle.device.startswith("cuda"))
    print(f"model {handle.model_id} on {handle.device}, {opts.rows} rows, 32 new tokens, "
          f"median of {opts.repeat}; default batch size: {DEFAULT_BATCH_SIZE}")
    for size in sizes:
        same = sum(a == b for a, b in zip(outputs[size], outputs[sizes[0]]))
        print(f"  batch {size:>3}: {opts.rows / med[size]:7.2f} rows/s  ratio vs batch 1: "
              f"{med[sizes[0]] / med[size]:.2f}x  (same text as batch 1 in {same}/{opts.rows} rows)")


if __name__ == "__main__":
    main()
