"""What is checked before a fine-tune copies a model: its numbers and its output paths, each one
sentence; and the tuned model's name, reserved until the run ends."""

from __future__ import annotations

import threading
from pathlib import Path

from ...errors import BadArgumentError
from ..arguments import batch_size as check_batch_size
from ..arguments import number
from ..models.registry import ModelHandle, registry
from ..targets import writable_files, writable_folder
from .settings import DEFAULT_LORA_LR, DEFAULT_LR, FinetuneSettings

# The names of runs not yet registered are reserved, so two runs of one base become NAME-ft and
# NAME-ft-2, never one overwriting the other.
_NAMES_LOCK = threading.Lock()
_RESERVED: set[str] = set()


def reserve_name(base: ModelHandle, as_: str | None) -> str:
    """The tuned model's name, reserved until its run ends (released by release_name)."""
    with _NAMES_LOCK:
        if as_ is None:
            name, i = f"{base.name}-ft", 2
            while name in registry or name in _RESERVED:
                name, i = f"{base.name}-ft-{i}", i + 1
        elif as_ in registry or as_ in _RESERVED:
            raise BadArgumentError(
                f"The name '{as_}' is already used by a loaded model or a running fine-tune; pick another "
                f"--as name, or free it first with %fm unload {as_}."
            )
        else:
            name = as_
        _RESERVED.add(name)
        return name


def release_name(name: str) -> None:
    """The name is registered, or its run failed: no longer reserved."""
    with _NAMES_LOCK:
        _RESERVED.discard(name)


def check_numbers(s: FinetuneSettings) -> None:
    """Every number of a fine-tune, before the data is read or a model copied."""
    number("epochs", s.epochs, above=0, high=10_000, hint="it is how many passes over the data")
    if s.lr is not None:
        number(
            "lr",
            s.lr,
            above=0,
            hint=f"learning rates are small, e.g. {DEFAULT_LR:g} ({DEFAULT_LORA_LR:g} with --lora)",
        )
    check_batch_size(s.batch_size)
    for key, value in (
        ("max_length", s.max_length),
        ("grad_accum", s.grad_accum),
        ("lora_r", s.lora_r),
    ):
        number(key, value, low=1, integer=True)
    number("warmup", s.warmup, low=0, hint="a fraction of the steps (below 1) or a number of steps")
    number("weight_decay", s.weight_decay, low=0)
    number("seed", s.seed, low=0, high=2**32 - 1, integer=True)
    number("lora_alpha", s.lora_alpha, above=0)
    number("lora_dropout", s.lora_dropout, low=0, high=0.99)


def check_fit(s: FinetuneSettings, base: ModelHandle, n_train: int) -> None:
    """The numbers that only make sense against the model and the rows, once both are known:
    each out-of-range one would crash half-way (a text longer than the positions, a LoRA rank
    larger than the weights) or never reach its learning rate (more warm-up steps than the run)."""
    context = base.context_length
    asked = (
        s.max_length != FinetuneSettings.__dataclass_fields__["max_length"].default
    )  # the default stays as it was
    if context and asked and s.max_length > context:
        raise BadArgumentError(
            f"max_length={s.max_length:,} is longer than '{base.name}' reads ({context:,} tokens); use "
            f"{context:,} or less."
        )
    if s.lora:
        width = next(
            (
                getattr(base.config, k)
                for k in ("hidden_size", "n_embd", "d_model")
                if hasattr(base.config, k)
            ),
            None,
        )
        if isinstance(width, int) and s.lora_r > width:
            raise BadArgumentError(
                f"lora_r={s.lora_r:,} is larger than the {width:,} dimensions of '{base.name}'s layers; "
                "a LoRA rank is small, e.g. 8 or 16."
            )
    batches = -(-n_train // s.batch_size)
    steps = -(-batches // s.grad_accum) * s.epochs
    if s.warmup >= 1 and s.warmup > steps:
        raise BadArgumentError(
            f"warmup={s.warmup:g} steps is more than the whole run ({steps:,.0f} steps), so the learning "
            "rate would never rise; use fewer steps, or a fraction below 1 (e.g. 0.1)."
        )


def check_outputs(s: FinetuneSettings) -> None:
    """``export_script`` (and its two data files) and ``output_dir`` can be written, and replace
    nothing unless ``overwrite``; before any training, so an hour's run is not lost at the end."""
    if s.export_script:
        script = Path(s.export_script).expanduser()
        writable_files(
            [
                script,
                script.with_name(f"{script.stem}.train.jsonl"),
                script.with_name(f"{script.stem}.eval.jsonl"),
            ],
            "--export-script",
            overwrite=s.overwrite,
        )
    if s.output_dir:
        writable_folder(s.output_dir, "--output-dir", overwrite=s.overwrite)
