"""Ray against this kernel: the same generate_df / embed rows in-process and on 1 and 2 Ray workers.

Run:  .venv/bin/python bench/bench_scale.py [--rows 32] [--texts 500] [--repeat 3] [--address ADDR]
      .venv/bin/python bench/bench_scale.py --torchrun   (also: the exported fine-tune, 2 vs 1 process)

Prints, per feature, the median seconds of each way, the ratio against in-process (measured in
the same run, interleaved), whether the outputs are equal (greedy text exactly; vectors to 1e-5),
and Ray's fixed cost: starting the local cluster, and one call on a single row (actor start +
model load), which every engine="ray" call pays.  On a 2-core machine the gain of 2 workers is
modest at best (the model's own math already uses both cores); on a cluster it is the point.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32, help="generate_df rows")
    parser.add_argument("--texts", type=int, default=500, help="embed texts (MiniLM)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--address", default=None, help="an existing Ray cluster (default: a local one)")
    parser.add_argument("--torchrun", action="store_true", help="also time the exported script, 2 vs 1 process")
    opts = parser.parse_args()

    import numpy as np
    import pandas as pd

    import fmwidgets as fm
    from fmwidgets import testing
    from fmwidgets.engines.ray import connect

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    connect(opts.address)
    print(f"Ray cluster start/connect: {time.perf_counter() - start:.1f} s")

    decoder = fm.load(str(testing.tiny_gpt2(tempfile.mkdtemp(prefix="fm-bench-"), layers=4, heads=4,
                                            hidden=256)), as_="bench")
    words = testing.CORPUS
    df = pd.DataFrame({"text": [" ".join(words[i % len(words)].split()[: 3 + (i * 5) % 12])
                                for i in range(opts.rows)]})
    gen = dict(max_new_tokens=32, min_new_tokens=32, greedy=True, batch_size=8, progress=False,
               model=decoder, ray_address=opts.address)
    one = time.perf_counter()
    fm.generate_df(df.head(1), "{text}", engine="ray", workers=1, **gen)
    print(f"one-row call on Ray (actor start + model load): {time.perf_counter() - one:.1f} s")

    ways = {"in-process": lambda: fm.generate_df(df, "{text}", **gen),
            "ray x1": lambda: fm.generate_df(df, "{text}", engine="ray", workers=1, **gen),
            "ray x2": lambda: fm.generate_df(df, "{text}", engine="ray", workers=2, **gen)}
    outputs = {k: f()["output"].tolist() for k, f in ways.items()}
    report("generate_df", opts.rows, "rows", ways, outputs, opts.repeat,
           same=lambda a, b: a == b)

    fm.load(as_="minilm")
    texts = [f"{words[i % len(words)]} ({i})" for i in range(opts.texts)]
    ways = {"in-process": lambda: fm.embed(texts, model="minilm"),
            "ray x1": lambda: fm.embed(texts, model="minilm", engine="ray", workers=1, ray_address=opts.address),
            "ray x2": lambda: fm.embed(texts, model="minilm", engine="ray", workers=2, ray_address=opts.address)}
    outputs = {k: f() for k, f in ways.items()}
    report("embed", opts.texts, "texts", ways, outputs, opts.repeat,
           same=lambda a, b: bool(np.allclose(a, b, atol=1e-5)))

    if opts.torchrun:
        torchrun_speed(df)


def report(name, n, unit, ways, outputs, repeat, same) -> None:
    from _decoder_bench import interleaved_medians

    med = interleaved_medians(ways, repeat, cuda=False)
    base = med["in-process"]
    print(f"{name}: {n} {unit}, median of {repeat}")
    for way, seconds in med.items():
        equal = same(outputs[way], outputs["in-process"])
        print(f"  {way:<10} {seconds:7.2f} s  {n / seconds:8.1f} {unit}/s  speed vs in-process "
              f"{base / seconds:.2f}x  outputs equal: {equal}")


def torchrun_speed(df) -> None:
    """Samples/s of the exported classification script under torchrun, 1 vs 2 processes."""
    import fmwidgets as fm
    from fmwidgets import testing

    folder = Path(tempfile.mkdtemp(prefix="fm-bench-torchrun-"))
    bert = fm.load(str(testing.tiny_bert(folder / "bert")), as_="bench-bert", task="classification")
    rows = df.assign(label=["pos" if i % 2 else "neg" for i in range(len(df))])
    fm.finetune(rows, text="text", label="label", model=bert, epochs=2, batch_size=8,
                export_script=str(folder / "train.py"), as_="bench-bert-ft")
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    for procs in (1, 2):
        run = subprocess.run([str(torchrun), "--nproc-per-node", str(procs), "--standalone",
                              str(folder / "train.py"), "--output-dir", str(folder / f"out{procs}")],
                             capture_output=True, text=True, env=env, check=True)
        report = json.loads(next(line for line in run.stdout.splitlines() if line.startswith('{"train"')))
        # samples/s counts every process's rows; data-parallel, each process takes 1/procs of the steps
        print(f"torchrun {procs} process(es): {report['train']['train_samples_per_second']:.1f} samples/s, "
              f"{report['steps']} steps per process")


if __name__ == "__main__":
    main()
