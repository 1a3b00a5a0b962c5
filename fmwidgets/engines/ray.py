"""Batch work on a Ray cluster: Ray Data actors, one model replica each, rows back in order.

The rows never leave as model weights: each actor loads the model itself from its hub id (at the
commit the notebook loaded) or its folder, so a 10 GB model is not pickled through the driver.
A model that exists only in this kernel (a fine-tune that was not saved) is written once to a
temporary folder, which a local cluster can read; a remote cluster needs a shared path.  The
loader itself comes from the caller (core's ``load``, see ``engines.Loader``).

Each chunk (the feature's own batch) is one Ray Data row; the actor runs the feature's task on
it and returns the pickled results, which come back as they finish and feed one progress bar.
An interrupt stops the job and keeps the finished chunks; a failure names the rows it lost.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import EngineError, MissingDependencyError
from ..model_spec import ModelSpec
from . import Loader

_INSTALL = "pip install 'fmwidgets[ray]'"


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MissingDependencyError(
            f"engine='ray' needs Ray, which is not installed here; install it with {_INSTALL} "
            "and restart the kernel."
        ) from exc
    return ray


def _reachable(address: str, timeout: float = 3.0) -> bool:
    """Whether something listens at HOST:PORT (ray://HOST:PORT too); Ray itself would retry for
    minutes before giving up on a wrong address.  'auto' and addresses without a port pass."""
    import socket

    where = address.split("://", 1)[-1]
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        return True
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _unreachable(address: str) -> EngineError:
    return EngineError(
        f"Nothing answers at the Ray address '{address}'; check the host and port of the "
        "cluster's head (ray://HOST:10001 or HOST:6379), or leave ray_address out to use the "
        "connected or a local Ray."
    )


def _host_port(address: str) -> str:
    """'ray://localhost:10001' -> '127.0.0.1:10001', for telling whether two addresses are one."""
    import socket

    host, _, port = address.split("://", 1)[-1].rpartition(":")
    try:
        host = socket.gethostbyname(host.strip("[]"))
    except OSError:
        pass
    return f"{host}:{port}"


_connected_to: list[str] = []  # the address this kernel's Ray connection was opened with


def _same_cluster(ray: Any, address: str) -> bool:
    """Whether ``address`` names the cluster this kernel is connected to (``auto`` always does)."""
    if address == "auto":
        return True
    known = [ray.get_runtime_context().gcs_address, *_connected_to[-1:]]
    return _host_port(address) in {_host_port(a) for a in known if a}


def connect(address: str | None) -> Any:
    """The connected ray module: the running connection, the cluster at ``address``, or a local one.

    Ray keeps one connection per process, so an ``address`` other than the connected cluster's is
    refused in one sentence (nothing answers there, or the kernel is connected elsewhere) rather
    than quietly running on the connected one.
    """
    ray = import_ray()
    if ray.is_initialized():
        if address and not _same_cluster(ray, address):
            if not _reachable(address):
                raise _unreachable(address)
            current = _connected_to[-1] if _connected_to else ray.get_runtime_context().gcs_address
            raise EngineError(
                f"This kernel is already connected to the Ray cluster at '{current}' and Ray keeps one "
                f"connection per kernel; leave ray_address out to use it, or run ray.shutdown() first "
                f"to connect to '{address}'."
            )
        return ray
    kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if not address:
        kwargs["num_cpus"] = os.cpu_count()
    elif not _reachable(address):
        raise _unreachable(address)
    try:
        # A local raylet gives up after 15 s when its agents start slowly on a busy machine
        # (ray-project/ray#65983); another try usually gets through.
        for attempt in range(1 if address else 3):
            try:
                # "local": a new Ray for this kernel, not one that `ray start` left on the machine
                ray.init(address=address or "local", **kwargs)
                _connected_to[:] = [address or ray.get_runtime_context().gcs_address]
                break
            except Exception:
                ray.shutdown()
                if address or attempt == 2:
                    raise
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError...
        where = f"at '{address}'" if address else "on this machine"
        raise EngineError(
            f"Could not start or reach a Ray cluster {where} ({type(exc).__name__}); check the "
            "address (ray://HOST:10001 or HOST:6379) and that the cluster is up, or leave "
            "ray_address out to start a local one."
        ) from exc
    return ray


def cluster_info() -> dict[str, Any] | None:
    """Address, nodes, CPUs and GPUs of the connected cluster (None when Ray is not connected)."""
    import sys

    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    resources = ray.cluster_resources()
    return {
        "address": ray.get_runtime_context().gcs_address,
        "nodes": sum(1 for n in ray.nodes() if n.get("Alive")),
        "cpus": resources.get("CPU", 0),
        "gpus": resources.get("GPU", 0),
    }


_HEAD_TASK = {
    "classification": "classification",
    "regression": "regression",
    "causal-lm": "causal-lm",
    "masked-lm": "masked-lm",
}


def replica_spec(handle: Any) -> ModelSpec:
    """How a replica loads ``handle``'s model; a model that lives only in this kernel is saved to
    a folder first."""
    source, model, commit = handle.source, handle.model_id, handle.commit or handle.revision
    if handle.source == "tuned":
        folder = handle.extra.get("engine_folder")
        if folder is None or not Path(folder).is_dir():
            folder = tempfile.mkdtemp(prefix=f"fmwidgets-{handle.name}-")
            handle.model.save_pretrained(folder)
            (handle.tokenizer or handle.processor).save_pretrained(folder)
            handle.extra["engine_folder"] = folder
        source, model, commit = "local", folder, None
    return ModelSpec(
        source=source,
        model=model,
        commit=commit,
        name=handle.name,
        task=_HEAD_TASK.get(handle.head),
        device="cuda" if str(handle.device).startswith("cuda") else "cpu",
        dtype=handle.dtype,
        trust_remote_code=handle.trust_remote_code,
    )


class _Replica:
    """A Ray Data actor: one copy of the model, running the feature's task on each chunk.

    A failure (loading the model, or the task on one chunk) comes back as that chunk's result,
    as (type name, message), rather than as an exception: Ray's wrappers would hide the message
    and abort chunks that had already finished.
    """

    def __init__(self, spec: ModelSpec, load: Loader, task: Callable, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.task, self.handle, self.failed = task, None, None
        try:
            self.handle = spec.load(load)
        except Exception as exc:  # noqa: BLE001 - reported with the first chunk
            self.failed = _Failed(type(exc).__name__, str(exc))

    def __call__(self, batch: Any) -> Any:
        results = []
        for payload in batch["payload"]:
            try:
                result = self.failed or self.task(self.handle, pickle.loads(payload))
            except Exception as exc:  # noqa: BLE001
                result = _Failed(type(exc).__name__, str(exc))
            results.append(pickle.dumps(result))
        return {"chunk": list(batch["chunk"]), "result": results}


@dataclass(frozen=True)
class _Failed:
    kind: str
    message: str


def run(
    handle: Any,
    task: Callable,
    chunks: Sequence[Any],
    sizes: Sequence[int],
    *,
    load: Loader,
    address: str | None,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> list[list | None]:
    """Run ``task`` over ``chunks`` on Ray actors, each loading the model with ``load``; one entry
    per chunk, None where not finished."""
    spec = replica_spec(handle)
    ray = connect(address)
    resources = ray.cluster_resources()
    gpus = spec.device == "cuda"
    if gpus and resources.get("GPU", 0) < 1:
        raise EngineError(
            f"Model '{handle.name}' runs on cuda but the Ray cluster has no GPUs; connect to a "
            "cluster with GPUs, or load the model with device='cpu'."
        )
    cpus = float(resources.get("CPU", 1)) or 1.0
    have = float(resources.get("GPU", 0)) if gpus else cpus
    size = max(1, min(workers or int(have) or 1, len(chunks)))
    share = min(1.0, have / size)  # more workers than CPUs/GPUs share them rather than wait
    threads = max(1, int(cpus // size))
    items = [{"chunk": i, "payload": pickle.dumps(c)} for i, c in enumerate(chunks)]
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _Replica,
        fn_constructor_kwargs={"spec": spec, "load": load, "task": task, "threads": threads},
        compute=ray.data.ActorPoolStrategy(size=size),
        batch_size=1,
        batch_format="pandas",
        num_cpus=0 if gpus else share,
        num_gpus=share if gpus else 0,
        max_restarts=0,
        max_task_retries=0,
    )
    results: list[list | None] = [None] * len(chunks)
    done, total = 0, sum(sizes)
    try:
        for row in dataset.iter_rows():
            i = int(row["chunk"])
            result = pickle.loads(row["result"])
            if isinstance(result, _Failed):
                raise _failure(result, results, sizes, handle.name)
            results[i] = result
            done += sizes[i]
            if progress is not None:
                progress(done, total)
    except KeyboardInterrupt:  # the iterator's executor shuts down with it; keep what came back
        pass
    except EngineError:
        raise
    except Exception as exc:  # a worker process died, the cluster went away...
        raise _failure(_Failed(type(exc).__name__, str(exc)), results, sizes, handle.name) from exc
    return results


def _failure(failed: _Failed, results: list, sizes: Sequence[int], name: str) -> EngineError:
    """One sentence naming the rows that did not finish; the finished ones ride on ``.partial``."""
    if failed.message.endswith("."):  # already a sentence (ours, or the library's own)
        why = failed.message
    else:
        why = f"{failed.kind}: {failed.message.splitlines()[0][:200] if failed.message else 'no message'}"
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    lost = [(starts[i], starts[i] + sizes[i] - 1) for i, r in enumerate(results) if r is None]
    first, last = (lost[0][0], lost[-1][1]) if lost else (0, 0)
    error = EngineError(
        f"The Ray job for model '{name}' stopped with rows {first}-{last} unfinished ({why.rstrip('.')}); "
        "the finished rows are kept on the error's .partial, and engine=None runs it in this kernel."
    )
    error.partial = results
    return error
