"""Subcommands for looking inside a model: attention (three views) and the logit lens.

The text is the line's argument or, for long inputs, the cell body (`%%fm attention`).
"""

from __future__ import annotations

from IPython.core.error import UsageError

import fmwidgets as fm

from .parser import Cell, arg, command, set_variable, take


def _text(args, cell, name: str) -> str:
    if (args.text is None) == (cell is None):
        raise UsageError(
            f'%fm {name} needs one text: %fm {name} "TEXT", or %%fm {name} with the text in the cell body.'
        )
    return args.text if cell is None else cell.strip()


@command(
    "attention",
    "attention weights of a text: heatmap, head view (token lines) or model view (all heads)",
    arg("text", nargs="?", default=None, help="the text (or put it in the cell body)"),
    arg("--pair", dest="text_pair", metavar="TEXT", help="a second sentence, for sentence-pair models"),
    arg("--model", metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--view", choices=("heatmap", "head", "model"), help="which view opens first"),
    arg("--layer", type=int, metavar="L", help="layer shown first"),
    arg("--head", type=int, metavar="H", help="head of the heatmap (default: mean of heads)"),
    arg(
        "--out", default=None, metavar="VAR", help="also store the AttentionResult in this notebook variable"
    ),
    calls=("attention", "AttentionView"),
    cell=Cell.OPTIONAL,
    group="inside",
)
def attention(args, cell, shell, **given):
    shown = take(given, fm.AttentionView)  # --view, --layer, --head: how the result opens
    result = fm.attention(_text(args, cell, "attention"), **given)
    set_variable(shell, args.out, result)
    return fm.AttentionView(result, **shown)


@command(
    "lens",
    "logit lens of a decoder: the top next-token guesses after every layer",
    arg("text", nargs="?", default=None, help="the text (or put it in the cell body)"),
    arg("--model", metavar="NAME", help="a loaded decoder (default: the current one)"),
    arg("--top-k", type=int, metavar="K", help="guesses per layer and position shown on hover"),
    arg("--out", default=None, metavar="VAR", help="also store the LensResult in this notebook variable"),
    calls="logit_lens",
    cell=Cell.OPTIONAL,
    group="inside",
)
def lens(args, cell, shell, **given):
    result = fm.logit_lens(_text(args, cell, "lens"), **given)
    set_variable(shell, args.out, result)
    return fm.plot_logit_lens(result)
