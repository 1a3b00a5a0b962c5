"""``fm.finetune(..., engine="ray", workers=N)``: the same training, data-parallel on Ray Train.

The workers build exactly the model and Trainer that ``--export-script`` writes: the driver
(core/training, which writes the exported script and its two data files) hands their text to
``train_on_ray``, it goes with the job, and every worker imports the script and calls its
``build_trainer``.  The workers start
from the notebook's own initial weights (the new head's seeded init, LoRA adapters), sent once
through the object store, so a Ray run begins where a local run would.  The script's Trainer
sees the process group Ray Train set up (on CPU workers too: see ``cpu_processes`` in the
script), so each worker trains on its share of the rows and DDP all-reduces the gradients; at
the end the workers check that they hold the same weights.

Rank 0 streams its progress and logs into a Ray queue that the driver drains into the live
curve while ``TorchTrainer.fit()`` runs in a thread.  Stop (or an interrupt) puts a flag in a
second queue; every worker agrees on it after each step (an all-reduce, so no rank waits for
another that already stopped) and training ends cleanly.  However it ends, rank 0 reports the
weights as the run's checkpoint; the driver loads them into its copy of the model, and
core/training/jobs.py evaluates and registers it exactly as after a local run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from ..errors import BadArgumentError, EngineError
from . import Engine

_WEIGHTS = "weights.pt"


class TrainJob(Protocol):
    """What ``train_on_ray`` needs of core's fine-tuning job (core/training's ``RayTrainJob``)."""

    name: str  # the tuned model's name
    base: Any  # the base model's handle: its name and device
    address: str | None  # the Ray cluster (None: a local one)
    workers: int | None
    trainer: Any  # the notebook's Trainer: its model starts the workers and gets the weights back
    stop: threading.Event  # set by Stop or an interrupt

    def on_event(self, event: tuple) -> None: ...  # one progress message from rank 0


def check_train_engine(where: Engine) -> str:
    """The engine for fine-tuning ("local" or "ray"), checked before any model work."""
    name = where.check()
    if name == "vllm":
        raise BadArgumentError(
            "engine='vllm' runs text generation only; fine-tune with engine='ray' or leave engine out."
        )
    if name == "ray":
        from .ray import import_ray

        import_ray()
        try:
            import ray.train.torch  # noqa: F401
        except ImportError as exc:
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                "engine='ray' for fine-tuning needs Ray Train; install it with "
                "pip install 'fmwidgets[ray]' and restart the kernel."
            ) from exc
    return name


def train_on_ray(job: TrainJob, script: str, files: dict[str, str]) -> Any:
    """Run the exported plan on Ray Train; loads the final weights into ``job.trainer.model``.

    ``files`` is {file name: text} of the exported script (``script``) and its data files.
    """
    import torch
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer
    from ray.util.queue import Empty, Queue

    from .ray import connect

    ray = connect(job.address)
    cuda = str(job.base.device).startswith("cuda")
    resources = ray.cluster_resources()
    if cuda and resources.get("GPU", 0) < 1:
        raise EngineError(
            f"Model '{job.base.name}' trains on cuda but the Ray cluster has no GPUs; connect to a "
            "cluster with GPUs, or load the model with device='cpu'."
        )
    have = float(resources.get("GPU" if cuda else "CPU", 1)) or 1.0
    workers = job.workers or (int(have) if cuda else 1)
    per_worker = {"GPU": min(1.0, have / workers)} if cuda else {"CPU": min(1.0, have / workers)}
    events, stop = Queue(actor_options={"num_cpus": 0}), Queue(actor_options={"num_cpus": 0})
    weights = ray.put({k: v.detach().cpu() for k, v in job.trainer.model.state_dict().items()})
    storage = tempfile.mkdtemp(prefix="fm-raytrain-")
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={
            "script": script,
            "files": files,
            "weights": weights,
            "events": events,
            "stop": stop,
        },
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=cuda, resources_per_worker=per_worker),
        run_config=RunConfig(name=f"fmwidgets-{job.name}", storage_path=storage),
    )
    box: dict[str, Any] = {}

    def fit() -> None:
        try:
            box["result"] = trainer.fit()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the job's thread
            box["error"] = exc

    runner = threading.Thread(target=fit, name=f"fm-raytrain-{job.name}", daemon=True)
    runner.start()
    asked = False
    try:
        while runner.is_alive() or not events.empty():
            if job.stop.is_set() and not asked:
                stop.put(True)
                asked = True
            try:
                job.on_event(events.get(timeout=0.2))
            except Empty:
                continue
        if "error" in box:
            error = box["error"]
            raise EngineError(
                f"The Ray Train job for '{job.name}' failed ({type(error).__name__}: "
                f"{str(error).strip().splitlines()[-1][:200] if str(error).strip() else 'no message'}); "
                "engine=None trains in this kernel."
            ) from error
        result = box["result"]
        metrics = dict(result.metrics or {})
        if result.checkpoint is None:
            raise EngineError(
                f"The Ray Train job for '{job.name}' ended without a checkpoint; "
                "engine=None trains in this kernel."
            )
        if not metrics.pop("replicas_agree", True):
            raise EngineError(
                f"The Ray Train workers for '{job.name}' ended with different weights, so the run was not "
                "data-parallel (the Trainer did not see the process group); engine=None trains in this kernel."
            )
        with result.checkpoint.as_directory() as folder:
            job.trainer.model.load_state_dict(torch.load(Path(folder) / _WEIGHTS, map_location="cpu"))
        return SimpleNamespace(metrics=metrics)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        for queue in (events, stop):
            queue.shutdown(force=True)


def _worker_callback(events: Any, stop: Any):
    import torch
    import torch.distributed as dist
    from transformers import TrainerCallback

    class RayTrainCallback(TrainerCallback):
        """Rank 0 sends progress and logs to the driver; all ranks stop together when asked."""

        def on_train_begin(self, args, state, control, **kwargs):
            if events is not None:
                events.put(("begin", state.max_steps))

        def on_step_end(self, args, state, control, **kwargs):
            if events is not None:
                events.put(("step", state.global_step, state.max_steps, float(state.epoch or 0.0)))
            flag = torch.tensor([0 if events is None or stop.empty() else 1], device=args.device)
            if dist.is_available() and dist.is_initialized():
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            if flag.item():
                control.should_training_stop = True
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):
            if events is not None and logs:
                events.put(("log", state.global_step, float(state.epoch or 0.0), dict(logs)))

    return RayTrainCallback()


def _replicas_agree(model: Any) -> bool:
    """Whether every rank ended with the same weights, as data-parallel training keeps them.

    The checkpoint is rank 0's; if the ranks disagree, each trained alone on all the rows
    (what happens when the Trainer does not see the process group), and that is no Ray run.
    """
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return True
    sums = torch.stack([p.detach().double().sum() for p in model.parameters()])
    high, low = sums.clone(), sums.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return bool(torch.allclose(high, low, rtol=1e-6, atol=1e-8))


def _worker_loop(config: dict[str, Any]) -> None:
    """One Ray Train worker: import the exported plan, start from the notebook's weights, train."""
    import importlib.util

    import ray
    import ray.train
    import torch
    from ray.train.huggingface.transformers import prepare_trainer

    folder = Path(tempfile.mkdtemp(prefix="fm-raytrain-worker-"))
    try:
        for name, text in config["files"].items():
            (folder / name).write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"fm_plan_{os.getpid()}", folder / config["script"])
        assert spec is not None and spec.loader is not None  # a .py file path always has both
        plan = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(plan)
        rank0 = ray.train.get_context().get_world_rank() == 0
        callback = _worker_callback(config["events"] if rank0 else None, config["stop"])
        trainer, _ = plan.build_trainer(str(folder / "output"), callbacks=[callback])
        start = ray.get(config["weights"])
        trainer.model.load_state_dict(start)
        reference = getattr(trainer, "ref_model", None)  # DPO / KTO on all weights: the frozen base
        if reference is not None:
            reference.load_state_dict(start)
        output = prepare_trainer(trainer).train()
        agree = _replicas_agree(trainer.model)  # every rank takes part, so before the rank-0 branch
        checkpoint = None
        if rank0:
            saved = folder / "checkpoint"
            saved.mkdir()
            torch.save({k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}, saved / _WEIGHTS)
            checkpoint = ray.train.Checkpoint.from_directory(str(saved))
        ray.train.report({**output.metrics, "replicas_agree": agree}, checkpoint=checkpoint)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
