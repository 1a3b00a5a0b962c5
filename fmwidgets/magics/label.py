"""Subcommand for labelling: label (zero-shot labels for a DataFrame's rows)."""

from __future__ import annotations

import fmwidgets as fm

from .parser import ENGINE_ARGS, arg, command, set_variable, variable


@command(
    "label",
    "zero-shot labels for a DataFrame's rows, with a confidence and a score per label",
    arg("source", help="notebook variable: a DataFrame"),
    arg("--text", required=True, metavar="COL", help="column with the texts (or images, with --method clip)"),
    arg("--labels", required=True, metavar="'A,B,C'", help="candidate labels, separated by commas"),
    arg(
        "--method",
        choices=("embedding", "nli", "prompt", "clip"),
        help="embedding, nli, prompt (a decoder) or clip (images)",
    ),
    arg("--model", metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--multi-label", action="store_true", help="with --method nli: each label on its own"),
    arg("--out", default=None, metavar="VAR", help="notebook variable that holds the labelled DataFrame"),
    *ENGINE_ARGS,
    calls="label",
    group="labelling",
)
def label(args, cell, shell, **given):
    result = fm.label(variable(shell, args.source, "DataFrame"), **given)
    set_variable(shell, args.out, result)
    return result
