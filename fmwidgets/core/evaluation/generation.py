"""Generation for evaluation rows, through the cache and the same batched loop as generate_df.

A row's cache key is the model (id and commit) + the prompt as sent + the generation settings
(+ the seed and the row's position when sampling, so a sampled re-run with the same seed hits
and a run without a seed never does).  Only misses are generated, in the batches of
``generate_rows``; a fine-tuned model shares its base model's commit, so tuned models and models
with no commit are never cached.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from ...engines import Engine
from ...errors import EngineError
from ...store import store
from ..models.registry import ModelHandle
from ..prompting.generate_df import generate_rows
from ..prompting.sampling import Sampling


def cacheable(handle: ModelHandle, n: int) -> bool:
    return bool(handle.commit) and handle.source != "tuned" and n == 1


def cache_key(handle: ModelHandle, sent: str, settings: dict, seed: int | None, position: int) -> str:
    sampled = settings.get("decoding", {}).get("do_sample", False)
    parts = [
        handle.model_id,
        handle.commit,
        sent,
        settings,
        seed if sampled else None,
        position if sampled else None,
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


def cache_settings(sampling: Sampling, batch_size: int | None, strict: bool) -> dict[str, Any]:
    """The generation settings as a row's cache key holds them (so stored rows keep hitting)."""
    return dict(
        batch_size=batch_size,
        max_new_tokens=sampling.max_new_tokens,
        decoding=sampling.decoding,
        n=sampling.n,
        stop=sampling.stop,
        strict=strict,
        extra=sampling.extra,
    )


def generate_cached(
    handle: ModelHandle,
    sent: list[str],
    *,
    sampling: Sampling,
    batch_size: int | None = None,
    strict: bool = False,
    use_cache: bool,
    progress: Callable[[int, int], None] | None = None,
    where: Engine | None = None,
) -> tuple[list[Any], list[float], int]:
    """(outputs, seconds per row, cache hits) for the rendered prompts ``sent``.

    ``sampling`` (resolved), ``batch_size`` and ``strict`` are the keywords of ``generate_rows``
    and make the cache key; ``where`` the engine is not part of it (the rows are the same on
    every engine), so only the misses go to a cluster.  Interrupted rows are None; when a
    worker dies, the rows that finished are cached before the error is raised, so running it
    again generates only the rest.
    """
    use_cache = use_cache and cacheable(handle, sampling.n)
    settings, seed = cache_settings(sampling, batch_size, strict), sampling.seed
    keys = [cache_key(handle, s, settings, seed, i) for i, s in enumerate(sent)] if use_cache else []
    hits = store().cached(keys) if use_cache else {}
    outputs: list[Any] = [hits.get(k) for k in keys] if use_cache else [None] * len(sent)
    seconds = [0.0] * len(sent)
    todo = [i for i, out in enumerate(outputs) if out is None]
    if todo:
        last = {"time": time.perf_counter(), "done": 0}  # at the previous progress call

        def timed(done: int, total: int) -> None:
            now = time.perf_counter()
            for j in range(int(last["done"]), done):
                seconds[todo[j]] = (now - last["time"]) / max(done - int(last["done"]), 1)
            last.update(time=now, done=done)
            if progress is not None:
                progress(done, total)

        def keep(generated: list[Any]) -> None:
            for i, out in zip(todo, generated):
                outputs[i] = out
            if use_cache:
                store().cache({keys[i]: outputs[i] for i in todo if outputs[i] is not None})

        try:
            generated, _ = generate_rows(
                handle,
                [sent[i] for i in todo],
                batch_size=batch_size,
                sampling=sampling,
                strict=strict,
                progress=timed,
                where=where,
            )
        except EngineError as error:
            keep(error.partial or [])
            raise
        keep(generated)
    return outputs, seconds, sum(k in hits for k in keys)
