"""Generation for evaluation rows, through the cache and the same batched loop as generate_df.

A row's cache key is the model (id and commit; for an API-served model its provider, base URL
and model id) + the prompt as sent (chat messages for an API model) + the generation settings
(+ the seed and the row's position when sampling, so a sampled re-run with the same seed hits
and a run without a seed never does).  Only misses are generated, in the batches of
``generate_rows``; a fine-tuned model shares its base model's commit, so tuned models and models
with no commit are never cached.  An API row is cached with its accounting (tokens, latency,
the model the server ran), so a hit costs no request and waits for no rate limit, and its cost is
priced again with the current price.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from ...engines import Engine
from ...errors import EngineError
from ...provenance import api_calls
from ...store import SERVED_CACHE, store
from ..models.registry import ModelHandle
from ..prompting.generate_df import generate_rows
from ..prompting.sampling import Sampling


def cacheable(handle: ModelHandle, n: int) -> bool:
    served = handle.provenance() is not None
    return (served or bool(handle.commit)) and handle.source != "tuned" and n == 1


def cache_key(handle: ModelHandle, sent: Any, settings: dict, seed: int | None, position: int) -> str:
    sampled = settings.get("decoding", {}).get("do_sample", False)
    served = handle.provenance()
    model = (
        [handle.model_id, handle.commit]
        if served is None
        else [served["provider"], served["base_url"] or served["host"], handle.model_id]
    )
    parts = [*model, sent, settings, seed if sampled else None, position if sampled else None]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()
    return digest if served is None else SERVED_CACHE + digest


def _encode(key: str, output: Any, usage: dict[str, Any] | None) -> str:
    return json.dumps({"output": output, "usage": usage}) if key.startswith(SERVED_CACHE) else output


def _decode(key: str, value: str) -> tuple[Any, dict[str, Any] | None]:
    if not key.startswith(SERVED_CACHE):
        return value, None
    entry = json.loads(value)
    return entry["output"], entry["usage"]


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
    sent: list[Any],
    *,
    sampling: Sampling,
    batch_size: int | None = None,
    strict: bool = False,
    use_cache: bool,
    progress: Callable[..., None] | None = None,
    where: Engine | None = None,
) -> tuple[list[Any], list[float], int, list[dict[str, Any] | None] | None]:
    """(outputs, seconds per row, cache hits, per-row accounting or None) for the prompts ``sent``.

    ``sampling`` (resolved), ``batch_size`` and ``strict`` are the keywords of ``generate_rows``
    and make the cache key; ``where`` the engine is not part of it (the rows are the same on
    every engine), so only the misses go to a cluster.  Interrupted rows are None; when a
    worker dies or API rows fail, the rows that finished are cached before the error is raised,
    so running it again generates only the rest.  An API row's seconds are its request's
    latency (on a hit, as it was when generated); the accounting is None for a local model.
    """
    use_cache = use_cache and cacheable(handle, sampling.n)
    settings, seed = cache_settings(sampling, batch_size, strict), sampling.seed
    keys = [cache_key(handle, s, settings, seed, i) for i, s in enumerate(sent)] if use_cache else []
    hits = {k: _decode(k, v) for k, v in store().cached(keys).items()} if use_cache else {}
    outputs: list[Any] = (
        [hits[k][0] if k in hits else None for k in keys] if use_cache else [None] * len(sent)
    )
    usage: list[dict[str, Any] | None] = [hits[k][1] if k in hits else None for k in keys] or [None] * len(
        sent
    )
    seconds = [0.0] * len(sent)
    todo = [i for i, out in enumerate(outputs) if out is None]
    served = handle.provenance() is not None
    if served:
        api_calls.replayed(len(hits))  # counted by a re-run of the session (fm.repro(verify=True))
    if todo:
        last = {"time": time.perf_counter(), "done": 0}  # at the previous progress call

        def timed(done: int, total: int, *totals: Any) -> None:
            now = time.perf_counter()
            for j in range(int(last["done"]), done):
                seconds[todo[j]] = (now - last["time"]) / max(done - int(last["done"]), 1)
            last.update(time=now, done=done)
            if progress is not None:
                progress(done, total, *totals)

        def keep(generated: list[Any], accounts: list[dict[str, Any] | None] | None) -> None:
            for j, (i, out) in enumerate(zip(todo, generated)):
                outputs[i] = out
                if accounts is not None:
                    usage[i] = accounts[j]
            if use_cache:
                store().cache(
                    {keys[i]: _encode(keys[i], outputs[i], usage[i]) for i in todo if outputs[i] is not None}
                )

        try:
            generated, _, accounts = generate_rows(
                handle,
                [sent[i] for i in todo],
                batch_size=batch_size,
                sampling=sampling,
                strict=strict,
                progress=timed,
                where=where,
            )
        except EngineError as error:
            keep(error.partial or [], error.usage)
            raise
        keep(generated, accounts)
    elif served:
        from ..models.remote.generation import warn_unpriced

        warn_unpriced(handle, stacklevel=5)  # every row from the cache: say it once here too
    if not served:
        return outputs, seconds, sum(k in hits for k in keys), None
    from ..models.remote.generation import reprice

    usage = [reprice(handle, u) for u in usage]
    return outputs, [u["seconds"] if u else 0.0 for u in usage], sum(k in hits for k in keys), usage
