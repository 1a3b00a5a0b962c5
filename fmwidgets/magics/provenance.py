"""Subcommands for reproducibility: env (what this runs on), repro (replay the session)."""

from __future__ import annotations

import fmwidgets as fm

from .parser import arg, command


@command(
    "env",
    "versions of fmwidgets, Python, torch, transformers...; devices; loaded models and their commits",
    group="reproducibility",
)
def env(args, cell, shell):
    return fm.environment()


@command(
    "repro",
    "the session's fmwidgets calls as a runnable script or notebook, hub revisions pinned",
    arg(
        "--out",
        metavar="FILE",
        help="write it to FILE: .ipynb for a notebook, anything else (e.g. .py) for a script",
    ),
    arg("--overwrite", action="store_true", help="replace FILE if it exists"),
    arg(
        "--verify",
        action="store_true",
        help="re-run the calls in a fresh namespace and show, per call, whether the results match",
    ),
    arg(
        "--call-api",
        action="store_true",
        help="with --verify: send API-served models' requests again (by default their rows come from the cache)",
    ),
    calls="repro",
    group="reproducibility",
)
def repro(args, cell, shell, **given):
    return fm.repro(**given)


@command(
    "history",
    "the session's fmwidgets calls as a table: call, arguments, models, record",
    group="reproducibility",
)
def history(args, cell, shell):
    return fm.history()
