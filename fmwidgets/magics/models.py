"""Subcommands for models: load, list, info, use, unload."""

from __future__ import annotations

import fmwidgets as fm

from .parser import arg, command


@command(
    "load",
    "load a model: a hub id, a local folder, or (none) the embedded all-MiniLM-L6-v2",
    arg("model", nargs="?", default=None, help="hub id or local folder; empty = embedded default"),
    arg(
        "--as",
        dest="as_",
        default=None,
        metavar="NAME",
        help="name in this session (default: last part of the id)",
    ),
    arg(
        "--task",
        default=None,
        help="embedding, causal-lm, masked-lm, classification, regression, seq2seq, clip",
    ),
    arg("--device", default=None, help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps"),
    arg("--dtype", default=None, help="auto, float32, float16, bfloat16"),
    arg("--revision", default=None, help="hub branch, tag or commit"),
    arg("--trust-remote-code", action="store_true", help="allow the model's own Python code to run"),
    arg(
        "--quantize",
        default=None,
        choices=["4bit", "8bit"],
        help="load the weights quantized (bitsandbytes, CUDA)",
    ),
    arg("--device-map", default=None, choices=["auto"], help="auto: spread a model too large for one GPU"),
)
def load(args, cell, shell):
    return fm.load(
        args.model,
        as_=args.as_,
        task=args.task,
        device=args.device,
        dtype=args.dtype,
        revision=args.revision,
        trust_remote_code=args.trust_remote_code,
        quantize=args.quantize,
        device_map=args.device_map,
    )


@command("list", "the loaded models: name, id, family, parameters, device, dtype, memory")
def list_(args, cell, shell):
    return fm.models()


@command("info", "the card of a model (default: the current one)", arg("name", nargs="?", default=None))
def info(args, cell, shell):
    from ..core.models.registry import get_model

    return get_model(args.name)


@command("use", "make a loaded model the current one", arg("name"))
def use(args, cell, shell):
    return fm.use(args.name)


@command("unload", "remove a model from the session and free its memory", arg("name"))
def unload(args, cell, shell):
    fm.unload(args.name)
