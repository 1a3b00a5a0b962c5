"""Why a load failed, in one sentence: whatever transformers or the hub raised becomes an FMError
that says what was wrong and what to do (``load`` raises it, the original chained)."""

from __future__ import annotations

import os

from ...errors import (
    FMError,
    ModelLoadError,
    ModelNotFoundError,
    OutOfMemoryError,
    RemoteCodeRequiredError,
)


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def _chain(exc: BaseException | None):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def explain_load_error(exc: BaseException, model_id: str, device: str, local: bool) -> FMError:
    """Turn whatever transformers/hub raised into one FMError sentence."""
    names = {type(e).__name__ for e in _chain(exc)}
    text = " ".join(str(e) for e in _chain(exc))
    if "trust_remote_code" in text or "custom code" in text:
        return RemoteCodeRequiredError(
            f"Model '{model_id}' ships its own Python code, which fmwidgets does not run unless you "
            "allow it; if you trust its authors, load it again with --trust-remote-code "
            "(trust_remote_code=True)."
        )
    lowered = text.lower()
    if (
        names & {"OutOfMemoryError", "MemoryError"}
        or "out of memory" in lowered
        or "allocate memory" in lowered
    ):
        return OutOfMemoryError(
            f"Model '{model_id}' does not fit in the free memory of {device}; unload models you no "
            "longer need (%fm unload NAME), or load it with --dtype float16 or on another --device."
        )
    if "UnpicklingError" in names or "weights only load failed" in lowered:
        return ModelLoadError(
            f"The weights of '{model_id}' are a pickle file that holds more than tensors, which was "
            "refused as unsafe (loading it could run code); if you trust its source, convert it once "
            "to safetensors (load it with torch.load(..., weights_only=False) in a throwaway session, "
            "then save_pretrained(..., safe_serialization=True)) and load that folder."
        )
    if local:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ModelLoadError(
            f"The model files in '{model_id}' could not be read ({first[:160]}); save the model "
            "again with save_pretrained, or check that the folder was copied completely."
        )
    if "RevisionNotFoundError" in names:
        return ModelNotFoundError(
            f"Model '{model_id}' has no revision by that name on the hub; check --revision (a branch, tag or commit)."
        )
    if "GatedRepoError" in names:
        return ModelNotFoundError(
            f"Model '{model_id}' is gated on the hub; accept its licence on its hub page and log in "
            "with `hf auth login`, then load it again."
        )
    if "RepositoryNotFoundError" in names or "404" in text:
        return ModelNotFoundError(
            f"'{model_id}' is not a model on the Hugging Face hub (the hub answered, it does not know "
            "it); check the spelling, log in for a private model, or give the path of a local folder."
        )
    if (
        _hub_offline()
        or names
        & {
            "LocalEntryNotFoundError",
            "OfflineModeIsEnabled",
            "ConnectionError",
            "ConnectError",
            "ConnectTimeout",
        }
        or "offline" in lowered
        or "couldn't connect" in lowered
        or "connection" in lowered
    ):
        why = "HF_HUB_OFFLINE=1 is set" if _hub_offline() else "the hub could not be reached"
        return ModelNotFoundError(
            f"Model '{model_id}' is not in the local cache and {why}, so it cannot be downloaded; "
            "download it where you have network (or unset HF_HUB_OFFLINE) and load it, or load a "
            "local folder with %fm load /path/to/folder."
        )
    if "does not recognize this architecture" in text or ("model type" in text and "not" in text):
        return ModelLoadError(
            f"Model '{model_id}' uses an architecture this transformers version does not know; "
            "upgrade transformers (pip install -U transformers) and load it again."
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelLoadError(
        f"Model '{model_id}' could not be loaded ({first[:200]}); check that it is a transformers "
        "model, or see the chained exception for details."
    )
