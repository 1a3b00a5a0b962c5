"""Subcommands for reproducibility: env (what this runs on), repro (replay the session)."""

from __future__ import annotations

import fmwidgets as fm

from .parser import arg, command


@command("env", "versions of fmwidgets, Python, torch, transformers...; devices; loaded models and their commits",
         group="reproducibility")
def env(args, cell, shell):
    return fm.environment()


@command("repro", "the session's fmwidgets calls as a runnable script or notebook, hub revisions pinned",
         arg("--out", default=None, metavar="FILE",
             help="write it to FILE: .ipynb for a notebook, anything else (e.g. .py) for a script"),
         group="reproducibility")
def repro(args, cell, shell):
    return fm.repro(out=args.out)
