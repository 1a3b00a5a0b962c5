"""LoRA against full fine-tuning in fm.finetune: peak memory and speed, same data and settings.

Run:  .venv/bin/python bench/bench_finetune_lora.py [--rows 96] [--batch-size 16] [--repeat 3] [--device cpu|cuda]
                                                   [--model FOLDER]   (default: the embedded MiniLM)

Each run is a fresh Python process (so peaks do not carry over) that loads the embedded
all-MiniLM-L6-v2 and fine-tunes a classifier on the same rows, one epoch, max length 64, with
``lora=False`` or ``lora=True`` (peft defaults for BERT: query/value, r=8).  Measured:

  peak memory   CUDA: torch.cuda.max_memory_allocated during training;
                CPU: growth of the process's peak resident memory (ru_maxrss) during training
  speed         the Trainer's own train_samples_per_second

Printed: medians of --repeat runs per side, interleaved, and the ratios LoRA / full
(target: memory well under 1, speed close to 1 or above).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def one_run(lora: bool, rows: int, batch_size: int, device: str, model: str | None) -> dict:
    """Inside the child process: one fine-tuning run, its peak memory and speed."""
    import resource

    import torch
    from bench_finetune import bench_frame, quiet  # this folder is on sys.path when run as a script

    import fmwidgets as fm
    from fmwidgets.core.training.finetune import run_finetune as finetune
    from fmwidgets.core.training.monitor import TrainingMonitor

    quiet()
    df = bench_frame(rows)
    base = fm.load(model, device=device)
    cuda = base.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start_bytes = torch.cuda.memory_allocated()
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = finetune(df, label="label", epochs=1, batch_size=batch_size, max_length=64, val_split=0,
                      lora=lora, lr=5e-5, monitor=TrainingMonitor())
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - start_bytes
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_rss
    return {"peak_mb": peak / 2**20, "samples_per_second": result.samples_per_second,
            "device": base.device}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default=None, help="a BERT-style folder (default: the embedded MiniLM)")
    parser.add_argument("--child", choices=["full", "lora"], help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(one_run(opts.child == "lora", opts.rows, opts.batch_size, opts.device, opts.model)))
        return

    runs: dict[str, list[dict]] = {"full": [], "lora": []}
    for _ in range(opts.repeat):
        for side in runs:
            out = subprocess.run(
                [sys.executable, __file__, "--child", side, "--rows", str(opts.rows),
                 "--batch-size", str(opts.batch_size), "--device", opts.device]
                + (["--model", opts.model] if opts.model else []),
                capture_output=True, text=True, check=True)
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))

    med = {side: {k: statistics.median(r[k] for r in rs) for k in ("peak_mb", "samples_per_second")}
           for side, rs in runs.items()}
    where = "CUDA max_memory_allocated" if runs["full"][0]["device"].startswith("cuda") else "CPU peak RSS growth"
    print(f"device {runs['full'][0]['device']}, {opts.rows} rows, batch {opts.batch_size}, max length 64, "
          f"1 epoch, medians of {opts.repeat} (memory: {where})")
    for side, m in med.items():
        print(f"  {side:<5} peak {m['peak_mb']:8.1f} MB   {m['samples_per_second']:8.1f} samples/s")
    print(f"peak memory ratio LoRA / full: {med['lora']['peak_mb'] / med['full']['peak_mb']:.3f}   (target well under 1)")
    print(f"speed ratio LoRA / full:       {med['lora']['samples_per_second'] / med['full']['samples_per_second']:.3f}")


if __name__ == "__main__":
    main()
