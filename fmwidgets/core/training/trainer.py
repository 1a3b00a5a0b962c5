"""Building a run: the ``TrainingPlan`` from the settings, and the Trainer from the plan.

``plan_for`` turns what was asked (``FinetuneSettings``) for this base model and data into the
plan (export_script.py) that the notebook run, the exported script and the Ray Train workers all
build from: the base weights' source, the head, LoRA's keywords, the ``TrainingArguments``.

``build_trainer`` is the one place where the kind of trainer is chosen: ``TRAINERS[plan.method]``
builds it from the plan, the base model, the data and the job's callbacks.  "supervised" copies
the base with a classification, regression or causal-LM head and trains it with
``transformers.Trainer``; "dpo" and "kto" (preference.py) train a causal-LM copy with TRL's
trainers.  Another method is one more builder in ``TRAINERS``, with its data checks and its
part of the exported script; the jobs around it (live curve, Stop, registering) stay as they are.
"""

from __future__ import annotations

from typing import Any, Callable

from ..models.registry import ModelHandle
from ..seeding import set_seed
from .copies import copy_with_head, model_source
from .data import TrainingData
from .export_script import TrainingPlan
from .metrics import scalar_metrics
from .preference import PREFERENCE_METHODS, preference_arguments, preference_trainer
from .settings import FinetuneSettings

# peft's defaults cover common architectures (bert: query/value, gpt2: c_attn, llama: q/v...);
# for others every linear layer gets an adapter.
LORA_FALLBACK_TARGETS = "all-linear"


def lora_config(net, task: str, r: int, alpha: int, dropout: float, targets: Any) -> dict[str, Any]:
    """peft LoraConfig keywords; targets None = peft's default for the architecture."""
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as known,
    )
    from transformers.pytorch_utils import Conv1D

    if targets is None and net.config.model_type not in known:
        targets = LORA_FALLBACK_TARGETS
    return {
        "r": r,
        "lora_alpha": alpha,
        "lora_dropout": dropout,
        "target_modules": targets,
        "task_type": "CAUSAL_LM" if task == "causal-lm" else "SEQ_CLS",
        # GPT-2's layers are Conv1D, whose weights are stored transposed: peft must be told so
        # (it corrects it by itself, with a warning per training, when it is not)
        "fan_in_fan_out": any(isinstance(m, Conv1D) for m in net.modules()),
    }


def training_arguments(
    s: FinetuneSettings, n_train: int, has_eval: bool, base: ModelHandle
) -> dict[str, Any]:
    """TrainingArguments keywords shared by the notebook run and the exported script."""
    import math

    per_epoch = max(1, math.ceil(math.ceil(n_train / s.batch_size) / s.grad_accum))
    total = per_epoch * s.epochs
    cuda = base.device.startswith("cuda")
    return {
        "num_train_epochs": s.epochs,
        "learning_rate": s.learning_rate,
        "per_device_train_batch_size": s.batch_size,
        "per_device_eval_batch_size": s.batch_size,
        "gradient_accumulation_steps": s.grad_accum,
        "warmup_steps": s.warmup,
        "weight_decay": s.weight_decay,
        "seed": s.seed,
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


def plan_for(s: FinetuneSettings, base: ModelHandle, data: TrainingData) -> TrainingPlan:
    """The plan of this run: ``s`` for ``base`` and ``data`` (the task and classes found there)."""
    lora = (
        lora_config(base.model, data.head, s.lora_r, s.lora_alpha, s.lora_dropout, s.lora_targets)
        if s.lora
        else None
    )
    arguments = training_arguments(s, len(data.train_texts), s.evaluate and bool(data.eval_texts), base)
    if s.method in PREFERENCE_METHODS:
        arguments.update(preference_arguments(s))
    return TrainingPlan(
        model=model_source(base),
        task=data.head,
        classes=data.classes,
        max_length=s.max_length,
        lora=lora,
        arguments=arguments,
        evaluate=s.evaluate,
        method=s.method,
    )


# (plan, base, data, scratch folder, callbacks) -> a transformers.Trainer, or one of its kind
TrainerBuilder = Callable[[TrainingPlan, ModelHandle, TrainingData, str, list], Any]


def build_trainer(plan: TrainingPlan, base: ModelHandle, data: TrainingData, scratch: str, callbacks: list):
    """The Trainer for ``plan``, of the kind its method names; ``callbacks`` are the job's."""
    return TRAINERS[plan.method](plan, base, data, scratch, callbacks)


def supervised_trainer(
    plan: TrainingPlan, base: ModelHandle, data: TrainingData, scratch: str, callbacks: list
):
    """``transformers.Trainer`` on a fresh copy of ``base`` with the task's head (and LoRA)."""
    import transformers

    set_seed(plan.arguments["seed"])  # the new head's initial weights
    net = copy_with_head(base, plan.task, plan.classes)
    if plan.lora is not None:
        import peft

        net = peft.get_peft_model(net, peft.LoraConfig(**plan.lora))
    tokenizer = base.tokenizer
    collator: Any
    if plan.task == "causal-lm":
        collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)
        compute = None
    else:
        collator = transformers.DataCollatorWithPadding(tokenizer)

        def compute(prediction):
            return scalar_metrics(plan.task, prediction.label_ids, prediction.predictions, plan.classes)

    arguments = transformers.TrainingArguments(
        output_dir=scratch, disable_tqdm=True, use_cpu=base.device == "cpu", **plan.arguments
    )
    trainer = transformers.Trainer(
        model=net,
        args=arguments,
        data_collator=collator,
        train_dataset=encode_rows(tokenizer, data.train_texts, data.train_labels, plan.max_length),
        eval_dataset=encode_rows(tokenizer, data.eval_texts, data.eval_labels, plan.max_length),
        compute_metrics=compute,
        callbacks=callbacks,
    )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # the monitor shows logs
    return trainer


# plan.method -> how its Trainer is built
TRAINERS: dict[str, TrainerBuilder] = {
    "supervised": supervised_trainer,
    **{method: preference_trainer for method in PREFERENCE_METHODS},
}
