"""Fine-tuning speed: fm.finetune against a hand-written transformers.Trainer, same arguments.

Run:  .venv/bin/python bench/bench_finetune.py [--rows 96] [--epochs 1] [--repeat 3] [--device cpu|cuda]
                                              [--model FOLDER]   (default: the embedded MiniLM)

Both sides fine-tune a sequence-classification copy of the embedded all-MiniLM-L6-v2 on the
same rows with identical TrainingArguments (batch 8, max length 64, lr 5e-5, evaluation each
epoch on the same rows, no checkpoints, seed 42), interleaved, medians of --repeat runs:

  plain         AutoModelForSequenceClassification + tokenizer + Trainer(...).train()  (baseline)
  plain-thread  the same, run in a worker thread (as fm.finetune(background=True) trains)
  fm            fm.finetune(df, ...) with a TrainingMonitor (the live view's interface)
                target: fm / plain >= 0.95
  fm-no-eval    fm.finetune(df, ..., evaluate=False): no evaluation at all (whole-call time only)

Why plain-thread differs: torch's OpenMP (libgomp) gives each thread that runs parallel work a
thread pool of its own; once two pools exist there are more OpenMP threads than cores on a
2-core machine, and libgomp then spins far less before sleeping.  On a quiet machine that
makes a Trainer in a second thread slower (fm.finetune used to train there: 0.69x); on a busy
one it makes it faster.  A waiting fm.finetune now trains in the calling thread, like plain.

Printed: the Trainer's own train_samples_per_second for each side and their ratio (fm / plain),
the whole call's wall time (fm also copies the model, evaluates before and after training and
registers the result) and fm's own breakdown of it (FinetuneResult.timings).
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


def quiet() -> None:
    """No warnings, logs or progress bars from the libraries while measuring."""
    import transformers

    warnings.simplefilter("ignore")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def bench_frame(rows: int):
    """``rows`` distinct two-class rows built from the test corpus (labels 0 / 1)."""
    import pandas as pd

    from fmwidgets.testing import CORPUS

    return pd.DataFrame({"text": [CORPUS[i % len(CORPUS)] + f" ({i})" for i in range(rows)],
                         "label": [i % 2 for i in range(rows)]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", default=None, help="a BERT-style folder (default: the embedded MiniLM)")
    opts = parser.parse_args()

    import torch
    import transformers

    import fmwidgets as fm
    from fmwidgets.core.models.loading import embedded_model_path
    from fmwidgets.core.models.registry import registry
    from fmwidgets.core.training.monitor import TrainingMonitor

    quiet()
    df = bench_frame(opts.rows)
    texts = df["text"].tolist()
    base = fm.load(opts.model, device=opts.device)
    folder = opts.model or str(embedded_model_path())
    common = dict(num_train_epochs=opts.epochs, learning_rate=5e-5, per_device_train_batch_size=8,
                  per_device_eval_batch_size=8, seed=42, eval_strategy="epoch", save_strategy="no",
                  report_to="none", dataloader_num_workers=0, disable_tqdm=True,
                  use_cpu=base.device == "cpu")

    def plain() -> dict:
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        net = transformers.AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2, id2label={0: "0", 1: "1"}, label2id={"0": 0, "1": 1},
            attn_implementation="eager")
        enc = tok(texts, truncation=True, max_length=64)
        rows = [{**{k: enc[k][i] for k in enc.keys()}, "labels": i % 2} for i in range(len(texts))]
        trainer = transformers.Trainer(
            model=net, args=transformers.TrainingArguments(output_dir=tempfile.mkdtemp(), **common),
            train_dataset=rows, eval_dataset=rows, data_collator=transformers.DataCollatorWithPadding(tok))
        # with disable_tqdm the Trainer prints every log dict; fm.finetune removes the same callback
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        return trainer.train().metrics

    parts: dict[str, list] = {}

    def ours(evaluate: bool = True) -> dict:
        result = fm.finetune(df, label="label", model=base.name, epochs=opts.epochs, lr=5e-5, batch_size=8,
                             max_length=64, val_split=0, seed=42, evaluate=evaluate, monitor=TrainingMonitor())
        registry.remove(result.name)
        for part, seconds in result.timing_rows():
            parts.setdefault(f"{part} ({'fm' if evaluate else 'fm-no-eval'})", []).append(seconds)
        return {"train_samples_per_second": result.samples_per_second}

    def plain_thread() -> dict:
        box: list = []
        worker = threading.Thread(target=lambda: box.append(plain()))
        worker.start()
        worker.join()
        return box[0]

    ways = {"plain": plain, "plain-thread": plain_thread, "fm": ours, "fm-no-eval": lambda: ours(False)}
    for fn in ways.values():  # warm-up
        fn()
    parts.clear()
    speed = {name: [] for name in ways}
    wall = {name: [] for name in ways}
    for _ in range(opts.repeat):
        for name, fn in ways.items():
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            start = time.perf_counter()
            metrics = fn()
            wall[name].append(time.perf_counter() - start)
            speed[name].append(metrics["train_samples_per_second"])

    med = {name: statistics.median(v) for name, v in speed.items()}
    walls = {name: statistics.median(v) for name, v in wall.items()}
    print(f"model {folder}")
    print(f"device {base.device}, {opts.rows} rows, {opts.epochs} epoch(s), batch 8, max length 64, "
          f"medians of {opts.repeat}")
    for name in ways:
        speed_text = "" if name == "fm-no-eval" else f"{med[name]:8.1f} samples/s (Trainer's own)"
        print(f"  {name:<12} {speed_text:<38} whole call {walls[name]:6.2f} s")
    print(f"samples/s ratio fm / plain Trainer: {med['fm'] / med['plain']:.3f}   (target >= 0.95)")
    print(f"samples/s ratio fm / plain Trainer in a thread: {med['fm'] / med['plain-thread']:.3f}")
    print(f"whole-call time ratio fm / plain:    {walls['fm'] / walls['plain']:.3f}   "
          "(fm also evaluates before and after, and copies and registers the model)")
    print(f"whole-call time ratio fm-no-eval / plain: {walls['fm-no-eval'] / walls['plain']:.3f}   "
          "(evaluate=False: no evaluation before, during or after; plain evaluates once)")
    print("fm's own timings (FinetuneResult.timings, medians, s):")
    for part, seconds in parts.items():
        print(f"  {part:<48} {statistics.median(seconds):6.2f}")


if __name__ == "__main__":
    main()
