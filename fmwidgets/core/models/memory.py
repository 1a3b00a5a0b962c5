"""Will the model fit: quantization and device maps checked, the weights' size estimated on the
meta device, and a load refused before anything is allocated when they need more than is free."""

from __future__ import annotations

from typing import Any

from ...errors import BadArgumentError, MissingDependencyError, OutOfMemoryError


def check_quantize(quantize: str | None, device_map: str | None) -> None:
    """One sentence, before anything is loaded, when quantization or a device map cannot work here."""
    import torch

    if quantize not in (None, "4bit", "8bit"):
        raise BadArgumentError(
            f"quantize={quantize!r} is not a choice; use quantize='4bit' or '8bit' (or leave it out)."
        )
    if device_map not in (None, "auto"):
        raise BadArgumentError(
            f"device_map={device_map!r} is not supported; use device_map='auto' or --device."
        )
    if quantize and not torch.cuda.is_available():
        raise BadArgumentError(
            f"quantize='{quantize}' runs through bitsandbytes, which needs a CUDA GPU and this "
            "machine has none; load the model without --quantize (or with --dtype bfloat16)."
        )
    if quantize:
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(
                f"quantize='{quantize}' needs the bitsandbytes package; "
                "pip install bitsandbytes, then load again."
            ) from exc


def bnb_config(quantize: str, dtype: Any):
    import torch
    from transformers import BitsAndBytesConfig

    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = dtype if dtype in (torch.float16, torch.bfloat16) else torch.bfloat16
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute)


def estimate_bytes(auto: Any, config: Any, dtype: Any, quantize: str | None) -> int:
    """Bytes the weights will take: parameters counted on the meta device (nothing allocated).

    A tied output head is counted as a second copy there, so the estimate errs on the large side
    by at most the embedding matrix."""
    import torch
    from accelerate import init_empty_weights

    with init_empty_weights():
        skeleton = auto.from_config(config)
    params = sum(p.numel() for p in skeleton.parameters())
    per = {"4bit": 0.5, "8bit": 1.0}.get(
        quantize or "", torch.finfo(dtype).bits / 8 if dtype.is_floating_point else 4
    )
    return int(params * per)


def free_bytes(device: str) -> int:
    """Free memory of ``device``: the GPU's free memory, or the machine's available RAM."""
    import torch

    if device.startswith("cuda"):
        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(
    model_id: str, auto: Any, config: Any, dtype: Any, device: str, quantize: str | None, spread: bool
) -> None:
    """OutOfMemoryError before loading when the weights alone need more than the free memory."""
    try:
        need = estimate_bytes(auto, config, dtype, quantize)
    except Exception:  # noqa: BLE001 - the estimate is a courtesy; the load itself reports real failures
        return
    free = free_bytes(device) + (free_bytes("cpu") if spread and device.startswith("cuda") else 0)
    if need > free:
        hint = "" if quantize or not device.startswith("cuda") else " or load it with --quantize 4bit"
        raise OutOfMemoryError(
            f"Model '{model_id}' needs about {need / 2**30:.1f} GiB for its weights and {device} has "
            f"{free / 2**30:.1f} GiB free; unload models you no longer need (%fm unload NAME){hint}, "
            "or pick a smaller model."
        )
