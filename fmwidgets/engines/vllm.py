"""``engine="vllm"``: text generation for ``generate_df`` through vLLM's offline ``LLM.generate``.

vLLM batches and schedules the prompts itself (continuous batching, paged attention), so it gets
the whole list of rendered prompts at once, with fmwidgets' sampling settings translated to
``SamplingParams``.  It needs a CUDA GPU and the ``vllm`` extra; anywhere else the call is one
sentence before any work starts.  The engine loads the model from its hub id (at the commit the
notebook loaded) or folder; one engine per model is kept for the kernel, as loading takes long.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import EngineError, MissingDependencyError

_LLMS: dict[tuple, Any] = {}


def check_available() -> None:
    """One sentence when vLLM cannot run here: no CUDA GPU, or the extra is not installed."""
    import torch

    if not torch.cuda.is_available():
        raise EngineError(
            "engine='vllm' needs a CUDA GPU and this machine has none; leave engine out (or use "
            "engine='ray') to generate with transformers here."
        )
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            "engine='vllm' needs vLLM, which is not installed; install it with "
            "pip install 'fmwidgets[vllm]' and restart the kernel."
        ) from exc


def sampling_params(
    decoding: dict[str, Any],
    *,
    max_new_tokens: int,
    n: int,
    seed: int | None,
    stop: Sequence[str] | None,
    extra: dict[str, Any],
) -> Any:
    """fmwidgets' decoding settings (greedy, temperature, top_p, top_k) as vLLM SamplingParams."""
    from vllm import SamplingParams

    sampled = bool(decoding.get("do_sample"))
    kwargs: dict[str, Any] = dict(
        n=n,
        max_tokens=max_new_tokens,
        seed=seed,
        stop=list(stop) if stop else None,
        temperature=float(decoding.get("temperature") or 1.0) if sampled else 0.0,
    )
    if sampled and decoding.get("top_p") is not None:
        kwargs["top_p"] = float(decoding["top_p"])
    if sampled and decoding.get("top_k") is not None:
        kwargs["top_k"] = int(decoding["top_k"])
    if extra.get("repetition_penalty") is not None:
        kwargs["repetition_penalty"] = float(extra["repetition_penalty"])
    unknown = sorted(set(extra) - {"repetition_penalty"})
    if unknown:
        raise EngineError(
            f"engine='vllm' does not take the generation setting(s) {', '.join(unknown)}; leave "
            "them out, or run without engine='vllm'."
        )
    return SamplingParams(**kwargs)


def engine_for(handle: Any) -> Any:
    """The kernel's vLLM engine for this model (created once: loading takes a while)."""
    from vllm import LLM

    from .ray import replica_spec

    spec = replica_spec(handle)
    revision = spec.commit if spec.source == "hub" else None
    key = (spec.model, revision, spec.dtype)
    if key not in _LLMS:
        _LLMS[key] = LLM(
            model=spec.model,
            revision=revision,
            dtype=spec.dtype,
            trust_remote_code=spec.trust_remote_code,
        )
    return _LLMS[key]


def generate_texts(
    handle: Any,
    prompts: list[str],
    decoding: dict[str, Any],
    *,
    max_new_tokens: int,
    n: int,
    seed: int | None,
    stop: Sequence[str] | None,
    extra: dict[str, Any],
) -> list[Any]:
    """One text per prompt (a list of ``n`` texts when ``n > 1``), in the prompts' order."""
    check_available()
    params = sampling_params(decoding, max_new_tokens=max_new_tokens, n=n, seed=seed, stop=stop, extra=extra)
    outputs = engine_for(handle).generate(prompts, params)
    texts = [[c.text for c in out.outputs] for out in outputs]
    return [t if n > 1 else t[0] for t in texts]
