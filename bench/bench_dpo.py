"""DPO in fm.finetune against a hand-written TRL DPOTrainer (speed), and LoRA against full (memory).

Run:  .venv/bin/python bench/bench_dpo.py [--pairs 32] [--batch-size 4] [--repeat 3] [--device cpu|cuda]
                                         [--model FOLDER]   (default: a random GPT-2, 8 x 1024, built here)

Each run is a fresh Python process (so memory peaks do not carry over) that loads the decoder
and trains one epoch of DPO on the same pairs (max length 64, beta 0.1, lr 5e-4, seed 42,
logging every step or every 40th of the run, no evaluation, no checkpoints, activation checkpointing off):

  plain     trl.DPOTrainer(model, args=DPOConfig(...), peft_config=LoraConfig(...)) on the model
            loaded with AutoModelForCausalLM: the baseline, written as TRL's docs do
  fm        fm.finetune(pairs, method="dpo") with the same settings (LoRA: its default)
            target: fm / plain samples/s >= 0.95
  fm-full   fm.finetune(pairs, method="dpo", lora=False): all weights, a frozen copy as reference
            target: peak memory LoRA / full <= 0.6

The default model (~100M parameters) is large enough that its weights, gradients, optimizer
state and reference copy outweigh the activations of a small batch, as they do for real models;
at 19M parameters (6 x 512, batch 8) the activations took half of the full run's peak and the
memory ratio was 0.72.

Measured: the Trainer's own train_samples_per_second, and the peak memory of training
(CUDA: torch.cuda.max_memory_allocated; CPU: growth of the process's peak resident memory,
ru_maxrss, from just before the call, with torch, transformers, TRL, peft and datasets already
imported and the base model loaded).  Printed: medians of --repeat interleaved runs per side,
and the two ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SETTINGS = dict(epochs=1, lr=5e-4, max_length=64, beta=0.1, seed=42)
SIDES = ("plain", "fm", "fm-full")


def pairs(n: int):
    """``n`` distinct preference pairs built from the test corpus."""
    import pandas as pd

    from fmwidgets.testing import CORPUS

    return pd.DataFrame({
        "prompt": [f"{CORPUS[i % len(CORPUS)]} ({i}) Answer:" for i in range(n)],
        "chosen": [f" {CORPUS[(i + 1) % len(CORPUS)]}" for i in range(n)],
        "rejected": [f" {CORPUS[(i + 2) % len(CORPUS)]} {CORPUS[(i + 3) % len(CORPUS)]}" for i in range(n)],
    })


def plain_run(folder: str, rows, batch_size: int, device: str):
    """The baseline: TRL's DPOTrainer as a user would write it, with fm.finetune's settings."""
    import datasets
    import peft
    import torch
    import transformers
    import trl

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager").to(device)
    fields = transformers.TrainingArguments.__dataclass_fields__
    checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    args = trl.DPOConfig(
        output_dir=tempfile.mkdtemp(prefix="bench-dpo-"), num_train_epochs=SETTINGS["epochs"],
        learning_rate=SETTINGS["lr"], per_device_train_batch_size=batch_size, beta=SETTINGS["beta"],
        max_length=SETTINGS["max_length"], seed=SETTINGS["seed"], save_strategy="no",
        logging_steps=max(1, -(-len(rows) // batch_size) // 40),  # as fm.finetune logs
        eval_strategy="no", report_to="none", disable_tqdm=True, use_cpu=device == "cpu",
        bf16=False, dataloader_num_workers=0, **{checkpointing: False})
    lora = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM")
    trainer = trl.DPOTrainer(model=model, args=args, processing_class=tokenizer, peft_config=lora,
                             train_dataset=datasets.Dataset.from_pandas(rows, preserve_index=False))
    return trainer.train().metrics["train_samples_per_second"]


def one_run(side: str, folder: str, n: int, batch_size: int, device: str) -> dict:
    """Inside the child process: one DPO run, its speed and peak memory."""
    import resource

    import torch
    from bench_finetune import quiet  # this folder is on sys.path when run as a script

    import fmwidgets as fm
    from fmwidgets.core.training.finetune import run_finetune as finetune
    from fmwidgets.core.training.monitor import TrainingMonitor

    quiet()
    import datasets  # noqa: F401  - imported before the baseline: the peak is training's, not imports'
    import peft  # noqa: F401
    import trl  # noqa: F401

    rows = pairs(n)
    base = fm.load(folder, device=device, as_="base")
    cuda = base.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start_bytes = torch.cuda.memory_allocated()
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if side == "plain":
        speed = plain_run(folder, rows, batch_size, base.device)
    else:
        result = finetune(rows, model="base", method="dpo", batch_size=batch_size, lora=side == "fm",
                          val_split=0, evaluate=False, monitor=TrainingMonitor(), **SETTINGS)
        speed = result.samples_per_second
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - start_bytes
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_rss
    return {"samples_per_second": speed, "peak_mb": peak / 2**20, "device": base.device}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default=None, help="a decoder folder (default: a random GPT-2 built here)")
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(one_run(opts.child, opts.model, opts.pairs, opts.batch_size, opts.device)))
        return

    folder = opts.model
    if folder is None:
        from fmwidgets.testing import tiny_gpt2

        folder = str(tiny_gpt2(tempfile.mkdtemp(prefix="bench-dpo-gpt2-"), layers=8, heads=16, hidden=1024))
    runs: dict[str, list[dict]] = {side: [] for side in SIDES}
    for _ in range(opts.repeat):
        for side in SIDES:
            out = subprocess.run(
                [sys.executable, __file__, "--child", side, "--model", folder, "--pairs", str(opts.pairs),
                 "--batch-size", str(opts.batch_size), "--device", opts.device],
                capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"{side} failed:\n{out.stderr[-3000:]}")
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))

    med = {side: {k: statistics.median(r[k] for r in rs) for k in ("samples_per_second", "peak_mb")}
           for side, rs in runs.items()}
    device = runs["fm"][0]["device"]
    where = "CUDA max_memory_allocated" if device.startswith("cuda") else "CPU peak RSS growth"
    print(f"device {device}, {opts.pairs} pairs, batch {opts.batch_size}, max length {SETTINGS['max_length']}, "
          f"1 epoch, medians of {opts.repeat} (memory: {where})")
    for side, m in med.items():
        print(f"  {side:<8} {m['samples_per_second']:8.2f} samples/s   peak {m['peak_mb']:8.1f} MB")
    speed = med["fm"]["samples_per_second"] / med["plain"]["samples_per_second"]
    memory = med["fm"]["peak_mb"] / med["fm-full"]["peak_mb"]
    print(f"speed ratio fm / plain TRL (LoRA):  {speed:.3f}   (target >= 0.95)")
    print(f"peak memory ratio LoRA / full (fm): {memory:.3f}   (target <= 0.6)")


if __name__ == "__main__":
    main()
