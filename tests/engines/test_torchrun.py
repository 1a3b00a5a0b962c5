"""The exported fine-tuning script runs unchanged under torchrun with 2 CPU processes (gloo).

This is the path from a notebook to several GPUs or machines: ``%fm finetune ... --export-script``
writes the run, and ``torchrun --nproc-per-node N`` (or ``accelerate launch``) runs it.  Here two
CPU processes train it to the end of its epochs, each on half of the batches (gloo all-reduces the
gradients), and rank 0 saves a model that loads again.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import fmwidgets as fm


def test_exported_script_trains_under_torchrun_with_two_processes(bert, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    assert torchrun.exists() or shutil.which("torchrun"), "torchrun comes with torch"
    rows = pd.DataFrame({"text": [f"{w} review number {i}" for i in range(12) for w in ("good", "bad")],
                         "label": ["pos", "neg"] * 12})
    script = tmp_path / "train_bert.py"
    fm.finetune(rows, text="text", label="label", epochs=1, batch_size=4, max_length=16,
                export_script=str(script), as_="bert-ft", seed=0)
    env = dict(os.environ, HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    out = tmp_path / "distributed"
    run = subprocess.run([str(torchrun), "--nproc-per-node", "2", "--standalone", str(script),
                          "--output-dir", str(out)],
                         capture_output=True, text=True, env=env, timeout=400, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"train"')]
    assert len(reports) == 2  # one per process, both through every step
    assert all(r["train"]["epoch"] == pytest.approx(1.0) for r in reports)
    train_rows = len((tmp_path / "train_bert.train.jsonl").read_text().splitlines())
    # data-parallel: each process takes half of the batches (it would take all of them alone)
    assert [r["steps"] for r in reports] == [math.ceil(train_rows / (2 * 4))] * 2
    assert math.ceil(train_rows / (2 * 4)) < math.ceil(train_rows / 4)
    tuned = fm.load(str(out), as_="bert-distributed")
    assert tuned.head == "classification"
    assert sorted(tuned.config.id2label.values()) == ["neg", "pos"]


def test_an_exported_dpo_run_trains_under_torchrun_with_two_processes(gpt2, tmp_path):
    """The preference run's script builds TRL's DPOTrainer (LoRA, the base as reference) in each process."""
    subjects = ["the cat", "a dog", "my friend", "the bird", "our teacher", "the child", "a man", "the girl"]
    pairs = pd.DataFrame({"prompt": [f"Where is {s}?" for s in subjects],
                          "chosen": [f" {s} sat on the mat" for s in subjects],
                          "rejected": [f" {s} ran to the park" for s in subjects]})
    script = tmp_path / "train_dpo.py"
    fm.finetune(pairs, model="gpt2", method="dpo", epochs=1, batch_size=2, max_length=32, val_split=0,
                export_script=str(script), as_="gpt2-dpo", seed=0)
    rows = [json.loads(line) for line in (tmp_path / "train_dpo.train.jsonl").read_text().splitlines()]
    assert rows[0] == pairs.iloc[0].to_dict()  # the pairs, under TRL's column names
    env = dict(os.environ, HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    out = tmp_path / "distributed"
    torchrun = Path(sys.executable).with_name("torchrun")
    run = subprocess.run([str(torchrun), "--nproc-per-node", "2", "--standalone", str(script),
                          "--output-dir", str(out)],
                         capture_output=True, text=True, env=env, timeout=400, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"train"')]
    assert len(reports) == 2 and [r["steps"] for r in reports] == [math.ceil(len(pairs) / (2 * 2))] * 2
    assert all("eval_rewards/margins" in r["eval"] for r in reports)  # DPO's own evaluation ran
    tuned = fm.load(str(out), as_="gpt2-distributed")
    assert tuned.family == "decoder" and "lora" not in " ".join(tuned.model.state_dict())  # merged
