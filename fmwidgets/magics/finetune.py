"""Subcommands for fine-tuning: finetune, predict."""

from __future__ import annotations

import fmwidgets as fm

from .parser import ENGINE_ARGS, arg, command, engine_options, store, variable


@command(
    "finetune",
    "fine-tune the current model on a DataFrame with a live loss curve; registers NAME-ft",
    arg("df", metavar="DF", help="notebook variable holding the DataFrame"),
    arg("--text", default="text", help="column with the texts (default: text)"),
    arg("--label", default=None, help="column with the labels; none = causal-LM on the texts"),
    arg(
        "--task",
        default=None,
        choices=["classification", "regression", "causal-lm"],
        help="default: inferred from the label column",
    ),
    arg("--model", default=None, metavar="NAME", help="base model (default: the current one)"),
    arg("--epochs", type=float, default=3),
    arg("--lr", type=float, default=None, help="learning rate (default 5e-5, 2e-4 with --lora)"),
    arg("--batch-size", type=int, default=8),
    arg("--max-length", type=int, default=128, help="longest input in tokens"),
    arg(
        "--warmup", type=float, default=0.0, help="warmup: a fraction of the steps (<1) or a number of steps"
    ),
    arg("--weight-decay", type=float, default=0.0),
    arg("--grad-accum", type=int, default=1, help="gradient accumulation steps"),
    arg("--val-split", type=float, default=None, help="fraction held out for evaluation (default 0.2)"),
    arg("--eval-df", default=None, metavar="DF", help="notebook variable with evaluation rows"),
    arg("--seed", type=int, default=42),
    arg("--lora", action="store_true", help="train LoRA adapters (peft) instead of all weights"),
    arg("--lora-r", type=int, default=8),
    arg("--lora-alpha", type=int, default=16),
    arg("--lora-dropout", type=float, default=0.05),
    arg(
        "--lora-targets",
        default=None,
        help="comma-separated module names (default: peft's for the architecture)",
    ),
    arg("--as", dest="as_", default=None, metavar="NAME", help="name of the tuned model (default NAME-ft)"),
    arg("--output-dir", default=None, help="save the tuned model and a run card here"),
    arg(
        "--export-script",
        default=None,
        metavar="PATH",
        help="write a script for accelerate launch / torchrun",
    ),
    arg("--overwrite", action="store_true", help="replace what --output-dir / --export-script already hold"),
    arg("--strict", action="store_true", help="error on blank texts or NaN labels instead of skipping them"),
    arg("--background", action="store_true", help="return at once; the run object has stop() and wait()"),
    *ENGINE_ARGS,
    arg("--out", default=None, metavar="VAR", help="store the result in this variable"),
    group="fine-tuning",
)
def finetune(args, cell, shell):
    result = fm.finetune(
        variable(shell, args.df, "DataFrame"),
        text=args.text,
        label=args.label,
        task=args.task,
        model=args.model,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
        grad_accum=args.grad_accum,
        val_split=args.val_split,
        eval_df=variable(shell, args.eval_df, "DataFrame") if args.eval_df else None,
        seed=args.seed,
        lora=args.lora,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        lora_targets=args.lora_targets.split(",") if args.lora_targets else None,
        as_=args.as_,
        output_dir=args.output_dir,
        export_script=args.export_script,
        overwrite=args.overwrite,
        strict=args.strict,
        background=args.background,
        **engine_options(args),
    )
    store(shell, args.out, result)
    return result


@command(
    "predict",
    "labels from a tuned classifier or regressor, in the training data's own values",
    arg(
        "source",
        metavar="SOURCE",
        help="a notebook variable (DataFrame, Series, list); anything else is one text",
    ),
    arg("--text", default=None, help="column with the texts when SOURCE is a DataFrame"),
    arg("--model", default=None, metavar="NAME", help="tuned model (default: the current one)"),
    arg("--out", default=None, metavar="VAR", help="store the predictions in this variable"),
    group="fine-tuning",
)
def predict(args, cell, shell):
    source = args.source
    if source.isidentifier() and source in shell.user_ns:  # a variable; anything else is a text
        source = variable(shell, source)
    predictions = fm.predict(source, model=args.model, text=args.text)
    store(shell, args.out, predictions)
    return predictions
