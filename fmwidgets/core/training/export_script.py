"""``--export-script PATH``: the same fine-tuning run as a standalone script for several GPUs.

The notebook run and the script share one plan (``TrainingPlan``): the same model, head,
label mapping, tokenisation, LoRA settings and ``TrainingArguments`` (for DPO / KTO, TRL's
configs and trainers: trl and datasets too).  The script needs only transformers (and peft for
LoRA), reads the rows from JSON-lines files written beside it, and runs unchanged under
``python``, ``accelerate launch`` or ``torchrun``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...errors import BadArgumentError
from ...paths import home_as_tilde


@dataclass
class TrainingPlan:
    """Everything that defines a run, in plain JSON-able values."""

    model: str  # hub id or folder the base weights load from
    task: str  # "classification" | "regression" | "causal-lm"
    classes: list = field(default_factory=list)
    max_length: int = 128
    lora: dict[str, Any] | None = None  # peft LoraConfig keywords, or None for full fine-tuning
    arguments: dict[str, Any] = field(default_factory=dict)  # TrainingArguments (or DPOConfig...) keywords
    evaluate: bool = True  # False (fm.finetune(evaluate=False)): the script's final evaluation is skipped
    method: str = "supervised"  # how the Trainer is built (trainer.py's TRAINERS)


# The script is this fixed text plus one line, ``PLAN = json.loads(<repr of the plan's JSON>)``: no
# model name, label or path is pasted into code or a docstring, so a folder named
# ``m"""+__import__("os").system(...)+"""`` stays a string and the script always parses.
_SCRIPT = '''#!/usr/bin/env python
"""Fine-tuning run exported by fmwidgets (%fm finetune --export-script).

Run on one machine:     python THIS_SCRIPT.py
Run on several GPUs:    accelerate launch THIS_SCRIPT.py      or      torchrun --nproc-per-node N THIS_SCRIPT.py
PLAN below holds the base model, the task, the labels and the TrainingArguments; the training
and evaluation rows are in the two JSON-lines files it names, beside this script.
"""

import argparse
import json
import os
import pathlib

import transformers

HERE = pathlib.Path(__file__).resolve().parent
PLAN = json.loads({plan_literal})
MODEL = os.path.expanduser(PLAN["model"])  # a folder under the home folder is written as ~/...


def rows(name):
    with open(HERE / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def encode(tokenizer, items):
    texts = [r["text"] for r in items]
    enc = tokenizer(texts, truncation=True, max_length=PLAN["max_length"])
    out = []
    for i, r in enumerate(items):
        row = {k: enc[k][i] for k in enc.keys()}
        if "label" in r:
            row["labels"] = r["label"]
        out.append(row)
    return out


def build_model(tokenizer):
    task, classes = PLAN["task"], PLAN["classes"]
    kwargs = {"attn_implementation": "eager"}
    if task == "causal-lm":
        auto = transformers.AutoModelForCausalLM
    else:
        auto = transformers.AutoModelForSequenceClassification
        kwargs.update(ignore_mismatched_sizes=True, pad_token_id=tokenizer.pad_token_id)
        if task == "classification":
            kwargs.update(num_labels=len(classes), problem_type="single_label_classification",
                          id2label={i: str(c) for i, c in enumerate(classes)},
                          label2id={str(c): i for i, c in enumerate(classes)})
        else:
            kwargs.update(num_labels=1, problem_type="regression")
    model = auto.from_pretrained(MODEL, **kwargs)
    if PLAN["lora"]:
        import peft

        model = peft.get_peft_model(model, peft.LoraConfig(**PLAN["lora"]))
    return model


def cpu_processes():
    """True when several processes (torchrun, accelerate launch, Ray Train) share no GPU.

    accelerate treats such a launch as data-parallel on CPU only when TrainingArguments says
    use_cpu; otherwise every process would train alone on all the rows.
    """
    import torch

    if int(os.environ.get("WORLD_SIZE", "1")) < 2:
        return False
    if hasattr(torch, "accelerator"):
        device = torch.accelerator.current_accelerator()
        return device is None or device.type == "mps"
    return not torch.cuda.is_available()


def build_preference_trainer(tokenizer, output_dir, max_steps, callbacks):
    """DPO or KTO through TRL; the reference is the base (with LoRA: the adapters switched off)."""
    import datasets
    import trl

    model = transformers.AutoModelForCausalLM.from_pretrained(MODEL, attn_implementation="eager")
    peft_config = None
    if PLAN["lora"]:
        import peft

        peft_config = peft.LoraConfig(**PLAN["lora"])
    config, kind = {"dpo": (trl.DPOConfig, trl.DPOTrainer), "kto": (trl.KTOConfig, trl.KTOTrainer)}[PLAN["method"]]
    arguments = dict(PLAN["arguments"], use_cpu=cpu_processes())
    evaluation = rows(PLAN["eval_file"])
    trainer = kind(
        model=model, args=config(output_dir=output_dir, max_steps=max_steps, **arguments),
        processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks,
        train_dataset=datasets.Dataset.from_list(rows(PLAN["train_file"])),
        eval_dataset=datasets.Dataset.from_list(evaluation) if evaluation else None,
    )
    return trainer, tokenizer


def build_trainer(output_dir, max_steps=-1, callbacks=None):
    """The plan's Trainer and tokenizer (fmwidgets' Ray Train workers call this too)."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(MODEL)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if PLAN["method"] != "supervised":
        return build_preference_trainer(tokenizer, output_dir, max_steps, callbacks)
    model = build_model(tokenizer)
    if PLAN["task"] == "causal-lm":
        collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)
    else:
        collator = transformers.DataCollatorWithPadding(tokenizer)
    arguments = dict(PLAN["arguments"], use_cpu=cpu_processes())
    args = transformers.TrainingArguments(output_dir=output_dir, max_steps=max_steps, **arguments)
    trainer = transformers.Trainer(
        model=model, args=args, data_collator=collator, callbacks=callbacks,
        train_dataset=encode(tokenizer, rows(PLAN["train_file"])),
        eval_dataset=encode(tokenizer, rows(PLAN["eval_file"])),
    )
    return trainer, tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=str(HERE / PLAN["output_dir"]))
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (a quick check)")
    cli = parser.parse_args()

    trainer, tokenizer = build_trainer(cli.output_dir, cli.max_steps)
    model = trainer.model
    result = trainer.train()
    report = {"train": result.metrics, "steps": result.global_step,
              "eval": trainer.evaluate() if PLAN["evaluate"] else None}
    print(json.dumps(report, default=str))
    if PLAN["lora"]:
        model = model.merge_and_unload()
    if trainer.is_world_process_zero():
        model.save_pretrained(cli.output_dir)
        tokenizer.save_pretrained(cli.output_dir)


if __name__ == "__main__":
    main()
'''


def write_script(path: str | Path, plan: TrainingPlan, train: list[dict], evaluation: list[dict]) -> Path:
    """Write the script at ``path`` and its two data files (``TrainingData.rows``) beside it;
    returns the script path."""
    path = Path(path).expanduser()
    if path.suffix != ".py":
        raise BadArgumentError(f"--export-script needs a path ending in .py, not '{path}'.")
    if not path.parent.exists():
        raise BadArgumentError(
            f"The folder '{path.parent}' does not exist; create it or pick another --export-script path."
        )
    names = {"train": f"{path.stem}.train.jsonl", "eval": f"{path.stem}.eval.jsonl"}
    for key, rows in (("train", train), ("eval", evaluation)):
        with open(path.parent / names[key], "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    values = {
        **asdict(plan),
        "model": home_as_tilde(plan.model),
        "train_file": names["train"],
        "eval_file": names["eval"],
        "output_dir": f"{path.stem}-output",
    }
    path.write_text(_SCRIPT.replace("{plan_literal}", plan_literal(values)), encoding="utf-8")
    return path


def script_files(plan: TrainingPlan, train: list[dict], evaluation: list[dict]) -> tuple[str, dict[str, str]]:
    """The script and its data files as {file name: text}, and the script's name: what Ray Train
    workers write to their own folder and run (engines/ray_train.py)."""
    folder = tempfile.mkdtemp(prefix="fm-raytrain-plan-")
    try:
        script = write_script(Path(folder) / "fm_plan.py", plan, train, evaluation)
        return script.name, {p.name: p.read_text(encoding="utf-8") for p in Path(folder).iterdir()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def plan_literal(values: dict[str, Any]) -> str:
    """The plan as JSON, one ``repr``'d Python string per JSON line (readable, and nothing in it is code).

    ``str.replace`` puts it into the script, not ``str.format``: the script's own braces stay, and
    whatever quotes, backslashes or newlines a value holds, it stays inside a string literal.
    """
    lines = json.dumps(values, indent=2, default=str, ensure_ascii=False).splitlines()
    return "\n" + "".join(f"    {line + chr(10)!r}\n" for line in lines)
