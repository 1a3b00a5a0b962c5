"""Subcommands for fine-tuning: finetune, predict."""

from __future__ import annotations

import fmwidgets as fm

from ..core.training.data import DEFAULT_VAL_SPLIT
from ..core.training.settings import DEFAULT_LORA_LR, DEFAULT_LR
from ..widgets.stream import in_kernel
from .parser import ENGINE_ARGS, AlreadyShown, arg, command, set_variable, variable


@command(
    "finetune",
    "fine-tune the current model on a DataFrame with a live loss curve; registers NAME-ft",
    arg("df", metavar="DF", help="notebook variable holding the DataFrame"),
    arg("--text", help="column with the texts"),
    arg("--label", help="column with the labels; none = causal-LM on the texts (kto: True if good)"),
    arg(
        "--task",
        choices=["classification", "regression", "causal-lm"],
        help="default: inferred from the label column",
    ),
    arg("--model", metavar="NAME", help="base model (default: the current one)"),
    arg(
        "--method",
        choices=["supervised", "dpo", "kto"],
        help="dpo / kto: learn from preferences (fm.preferences) through TRL",
    ),
    arg("--prompt", metavar="COL", help="dpo / kto: column with the prompts"),
    arg("--chosen", metavar="COL", help="dpo: column with the preferred answers"),
    arg("--rejected", metavar="COL", help="dpo: column with the answers not preferred"),
    arg("--completion", metavar="COL", help="kto: column with the rated answers (--label: True if good)"),
    arg("--beta", type=float, help="dpo / kto: how far the tuned model may move from the base"),
    arg("--epochs", type=float),
    arg(
        "--lr",
        type=float,
        help=f"learning rate (default {DEFAULT_LR:g}, {DEFAULT_LORA_LR:g} with --lora)",
    ),
    arg("--batch-size", type=int),
    arg("--max-length", type=int, help="longest input in tokens"),
    arg("--warmup", type=float, help="warmup: a fraction of the steps (<1) or a number of steps"),
    arg("--weight-decay", type=float),
    arg("--grad-accum", type=int, help="gradient accumulation steps"),
    arg(
        "--val-split",
        type=float,
        help=f"fraction held out for evaluation (default {DEFAULT_VAL_SPLIT:g}; none with --no-eval)",
    ),
    arg("--eval-df", metavar="DF", help="notebook variable with evaluation rows"),
    arg("--seed", type=int),
    arg(
        "--lora",
        action="store_true",
        help="train LoRA adapters (peft) instead of all weights (the default for dpo / kto)",
    ),
    arg("--no-lora", dest="lora", action="store_false", help="dpo / kto: train all weights"),
    arg("--lora-r", type=int),
    arg("--lora-alpha", type=int),
    arg("--lora-dropout", type=float),
    arg("--lora-targets", help="comma-separated module names (default: peft's for the architecture)"),
    arg("--as", dest="as_", metavar="NAME", help="name of the tuned model (default NAME-ft)"),
    arg("--output-dir", help="save the tuned model and a run card here"),
    arg("--export-script", metavar="PATH", help="write a script for accelerate launch / torchrun"),
    arg(
        "--overwrite",
        action="store_true",
        help="replace what --output-dir / --export-script already hold",
    ),
    arg(
        "--strict",
        action="store_true",
        help="error on blank texts or NaN labels instead of skipping them",
    ),
    arg(
        "--no-eval",
        dest="evaluate",
        action="store_false",
        help="skip the evaluations before, during and after training (faster; no metrics); "
        "without --val-split or --eval-df every row trains",
    ),
    arg(
        "--background",
        action="store_true",
        help="return at once; the run object has stop() and wait()",
    ),
    *ENGINE_ARGS,
    arg(
        "--out",
        default=None,
        metavar="VAR",
        help="store the result in this variable (in a notebook the live view shows it, once)",
    ),
    calls="finetune",
    group="fine-tuning",
)
def finetune(args, cell, shell, **given):
    if "eval_df" in given:
        given["eval_df"] = variable(shell, given["eval_df"], "DataFrame")
    if "lora_targets" in given:
        given["lora_targets"] = given["lora_targets"].split(",")
    result = fm.finetune(variable(shell, args.df, "DataFrame"), **given)
    set_variable(shell, args.out, result)
    # In a notebook fm.finetune's live view ends with the result: kept in VAR, Out[] would repeat it.
    return AlreadyShown(result) if args.out and in_kernel() else result


@command(
    "predict",
    "labels from a tuned classifier or regressor, in the training data's own values",
    arg(
        "source",
        metavar="SOURCE",
        help="a notebook variable (DataFrame, Series, list); anything else is one text",
    ),
    arg("--text", help="column with the texts when SOURCE is a DataFrame"),
    arg("--model", metavar="NAME", help="tuned model (default: the current one)"),
    arg("--out", default=None, metavar="VAR", help="store the predictions in this variable"),
    calls="predict",
    group="fine-tuning",
)
def predict(args, cell, shell, **given):
    source = args.source
    if source.isidentifier() and source in shell.user_ns:  # a variable; anything else is a text
        source = variable(shell, source)
    predictions = fm.predict(source, **given)
    set_variable(shell, args.out, predictions)
    return predictions
