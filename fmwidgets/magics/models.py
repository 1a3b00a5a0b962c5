"""Subcommands for models: load, list, info, use, unload."""

from __future__ import annotations

import fmwidgets as fm

from .parser import arg, command


@command(
    "load",
    "load a model: a hub id, a local folder, (none) the embedded all-MiniLM-L6-v2, or an API-served "
    "model (openai:MODEL, anthropic:MODEL, MODEL --base-url URL)",
    arg(
        "model",
        nargs="?",
        default=None,
        help="hub id, local folder, openai:MODEL, anthropic:MODEL, or a served model's id; empty = embedded default",
    ),
    arg("--as", dest="as_", metavar="NAME", help="name in this session (default: last part of the id)"),
    arg("--task", help="embedding, causal-lm, masked-lm, classification, regression, seq2seq, clip"),
    arg("--device", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps"),
    arg("--dtype", help="auto, float32, float16, bfloat16"),
    arg("--revision", help="hub branch, tag or commit"),
    arg("--trust-remote-code", action="store_true", help="allow the model's own Python code to run"),
    arg("--quantize", choices=["4bit", "8bit"], help="load the weights quantized (bitsandbytes, CUDA)"),
    arg("--device-map", choices=["auto"], help="auto: spread a model too large for one GPU"),
    arg("--base-url", metavar="URL", help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"),
    arg(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the server's key (never the key itself)",
    ),
    arg("--max-concurrency", type=int, metavar="N", help="API requests in flight at most"),
    arg("--timeout", type=float, metavar="S", help="seconds per API request (SDK default)"),
    arg("--max-retries", type=int, metavar="N", help="retries of a failed API request"),
    calls="load",
)
def load(args, cell, shell, **given):
    return fm.load(args.model, **given)


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
