"""`%fm transcribe`: speech to text from a file path or a notebook variable (array, list, DataFrame)."""

from __future__ import annotations

import fmwidgets as fm

from .parser import arg, command, set_variable


@command(
    "transcribe",
    "speech to text: a WAV/FLAC path or a notebook variable; segments play when clicked",
    arg(
        "source",
        metavar="PATH_OR_VAR",
        help="an audio file, or a variable holding an array, list or DataFrame",
    ),
    arg("--model", metavar="NAME", help="a loaded speech model (default: the current one)"),
    arg("--language", metavar="L", help="the spoken language (en, french...); default: detected"),
    arg("--sampling-rate", type=int, metavar="HZ", help="rate of an array variable"),
    arg("--audio", metavar="COL", help="with a DataFrame: the column holding the audio"),
    arg("--no-timestamps", dest="timestamps", action="store_false", help="text only, no timed segments"),
    arg("--out", default=None, metavar="VAR", help="also store the result in this notebook variable"),
    calls="transcribe",
    group="prompts",
)
def transcribe(args, cell, shell, **given):
    ns = shell.user_ns if shell is not None else {}
    source = ns[args.source] if args.source.isidentifier() and args.source in ns else args.source
    result = fm.transcribe(source, **given)
    set_variable(shell, args.out, result)
    return result
