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
