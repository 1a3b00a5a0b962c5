"""Fresh copies of a base model's current weights, with the head a run trains.

A fine-tune never touches the model it starts from: every trainer (trainer.py's supervised one,
preference.py's DPO / KTO and their reference model) trains a float32 copy made here, and an
exported script or a Ray Train worker loads the same weights from ``model_source``.
"""

from __future__ import annotations

import tempfile
from typing import Any

from ..models.families import auto_class
from ..models.loading import embedded_model_path
from ..models.registry import ModelHandle


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
