"""What is checked before a fine-tune starts, and the tuned model's name, reserved until it is
registered."""

from __future__ import annotations

import threading

from ...errors import BadArgumentError
from ..arguments import number
from ..models.registry import ModelHandle, registry

# The learning rate when lr is not given: full fine-tuning, and LoRA adapters (which need more).
DEFAULT_LR = 5e-5
DEFAULT_LORA_LR = 2e-4

# One Trainer at a time (see _Job.run); the names of runs not yet registered are reserved, so
# two runs of one base become NAME-ft and NAME-ft-2, never one overwriting the other.
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


def check_arguments(
    *,
    epochs,
    lr,
    batch_size,
    max_length,
    warmup,
    weight_decay,
    grad_accum,
    seed,
    lora_r,
    lora_alpha,
    lora_dropout,
) -> None:
    """Every number of a fine-tune, before the data is read or a model copied."""
    number("epochs", epochs, above=0, high=10_000, hint="it is how many passes over the data")
    if lr is not None:
        number(
            "lr",
            lr,
            above=0,
            hint=f"learning rates are small, e.g. {DEFAULT_LR:g} ({DEFAULT_LORA_LR:g} with --lora)",
        )
    for key, value in (
        ("batch_size", batch_size),
        ("max_length", max_length),
        ("grad_accum", grad_accum),
        ("lora_r", lora_r),
    ):
        number(key, value, low=1, integer=True)
    number("warmup", warmup, low=0, hint="a fraction of the steps (below 1) or a number of steps")
    number("weight_decay", weight_decay, low=0)
    number("seed", seed, low=0, high=2**32 - 1, integer=True)
    number("lora_alpha", lora_alpha, above=0)
    number("lora_dropout", lora_dropout, low=0, high=0.99)
