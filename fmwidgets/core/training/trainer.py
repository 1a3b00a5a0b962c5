"""Building a run: the base copied with the head the task needs, LoRA, the Trainer's arguments
and the Trainer itself (the notebook run; the exported script builds the same from the plan)."""

from __future__ import annotations

import tempfile
from typing import Any

from ..models.loading import auto_class, embedded_model_path
from ..models.registry import ModelHandle
from .jobs import _Job, callback_class
from .metrics import scalar_metrics

# peft's defaults cover common architectures (bert: query/value, gpt2: c_attn, llama: q/v...);
# for others every linear layer gets an adapter.
LORA_FALLBACK_TARGETS = "all-linear"


def model_source(handle: ModelHandle) -> str:
    """Where the base weights load from outside this kernel: a folder or a hub id."""
    if handle.source == "embedded":
        return str(embedded_model_path())
    return handle.model_id


def copy_with_head(base: ModelHandle, task: str, classes: list):
    """A fresh float32 copy of ``base``'s current weights with the head ``task`` needs."""
    import torch
    import transformers

    kwargs: dict[str, Any] = {"dtype": torch.float32, "attn_implementation": "eager"}
    if task != "causal-lm":
        kwargs.update(ignore_mismatched_sizes=True, pad_token_id=base.tokenizer.pad_token_id)
        if task == "classification":
            kwargs.update(
                num_labels=len(classes),
                problem_type="single_label_classification",
                id2label={i: str(c) for i, c in enumerate(classes)},
                label2id={str(c): i for i, c in enumerate(classes)},
            )
        else:
            kwargs.update(num_labels=1, problem_type="regression")
    log = transformers.utils.logging
    verbosity, bars = log.get_verbosity(), log.is_progress_bar_enabled()
    log.set_verbosity_error()  # "newly initialized head" is expected here
    log.disable_progress_bar()
    try:
        with tempfile.TemporaryDirectory(prefix="fm-finetune-") as folder:
            base.model.save_pretrained(folder)
            net = auto_class(task).from_pretrained(folder, **kwargs)
    finally:
        log.set_verbosity(verbosity)
        if bars:
            log.enable_progress_bar()
    return net.to(base.device)


def lora_config(net, task: str, r: int, alpha: int, dropout: float, targets: Any) -> dict[str, Any]:
    """peft LoraConfig keywords; targets None = peft's default for the architecture."""
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as known,
    )

    if targets is None and net.config.model_type not in known:
        targets = LORA_FALLBACK_TARGETS
    return {
        "r": r,
        "lora_alpha": alpha,
        "lora_dropout": dropout,
        "target_modules": targets,
        "task_type": "CAUSAL_LM" if task == "causal-lm" else "SEQ_CLS",
    }


def training_arguments(
    params: dict, seed: int, n_train: int, has_eval: bool, base: ModelHandle
) -> dict[str, Any]:
    """TrainingArguments keywords shared by the notebook run and the exported script."""
    import math

    per_epoch = max(1, math.ceil(math.ceil(n_train / params["batch_size"]) / params["grad_accum"]))
    total = per_epoch * params["epochs"]
    cuda = base.device.startswith("cuda")
    return {
        "num_train_epochs": params["epochs"],
        "learning_rate": params["lr"],
        "per_device_train_batch_size": params["batch_size"],
        "per_device_eval_batch_size": params["batch_size"],
        "gradient_accumulation_steps": params["grad_accum"],
        "warmup_steps": params["warmup"],
        "weight_decay": params["weight_decay"],
        "seed": seed,
        "logging_strategy": "steps",
        "logging_steps": max(1, total // 40),
        "eval_strategy": "epoch" if has_eval else "no",
        "save_strategy": "no",
        "report_to": "none",
        "dataloader_num_workers": 0,
        "bf16": cuda and base.dtype == "bfloat16",
        "fp16": cuda and base.dtype == "float16",
    }


def encode_rows(tokenizer, texts: list[str], labels: list | None, max_length: int) -> list[dict]:
    """Tokenised rows (padding is left to the collator, batch by batch)."""
    enc = tokenizer(texts, truncation=True, max_length=max_length)
    rows = []
    for i in range(len(texts)):
        row = {k: enc[k][i] for k in enc.keys()}
        if labels is not None:
            row["labels"] = labels[i]
        rows.append(row)
    return rows


def build_trainer(job: _Job, net, args: dict, scratch: str):
    import transformers

    data, tokenizer = job.data, job.base.tokenizer
    max_length = job.params["max_length"]
    collator: Any
    if data.task == "causal-lm":
        collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)
        compute = None
    else:
        collator = transformers.DataCollatorWithPadding(tokenizer)

        def compute(prediction):
            return scalar_metrics(data.task, prediction.label_ids, prediction.predictions, data.classes)

    arguments = transformers.TrainingArguments(
        output_dir=scratch, disable_tqdm=True, use_cpu=job.base.device == "cpu", **args
    )
    trainer = transformers.Trainer(
        model=net,
        args=arguments,
        data_collator=collator,
        train_dataset=encode_rows(tokenizer, data.train_texts, data.train_labels, max_length),
        eval_dataset=encode_rows(tokenizer, data.eval_texts, data.eval_labels, max_length),
        compute_metrics=compute,
        callbacks=[callback_class()(job)],
    )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # the monitor shows logs
    return trainer
