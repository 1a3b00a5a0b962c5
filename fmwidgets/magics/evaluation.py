"""`%fm eval`: evaluate a prompt or model over data, list stored runs, diff two, review one.

    %fm eval DATA --prompt "Q: {question}" --reference answer --evaluator bleu --as qa-v1
    %%fm eval DATA --reference answer          (the cell body is the template)
    %fm eval LOGS --output response --reference answer   (outputs you already have: no model)
    %fm eval list
    %fm eval diff qa-v1 qa-v2 [--evaluator bleu] [--judge MODEL [--pairwise] [--judge-method parse]]
    %fm eval review qa-v1                 (rate one run's rows)
    %fm eval review qa-v1 qa-v2 [--seed S]  (which of the two runs' outputs is better, per row;
                                             --seed fixes the left/right order)
    %fm eval preferences "qa-v1 vs qa-v2" [--prompt-from b] --out prefs   (training data for DPO)

DATA is a notebook variable (DataFrame or datasets.Dataset) or else a file path or hub id.
In ``--prompt``, ``\\n`` stands for a line break, so a one-line magic can write a multi-line template.
"""

from __future__ import annotations

from IPython.core.error import UsageError

import fmwidgets as fm

from ..core.prompting.generate_df import DEFAULT_BATCH_SIZE
from .parser import ENGINE_ARGS, arg, command, engine_options, set_variable
from .prompting import GENERATION_ARGS, body_text, generation_params

ACTIONS = ("list", "diff", "review", "preferences")


@command(
    "eval",
    "evaluate a prompt or model (or the outputs in --output COL) over DATA; `eval list`, "
    "`eval diff A B [--judge MODEL [--pairwise]]`, `eval review NAME [NAME_B]`, `eval preferences NAME`",
    arg("target", nargs="+", metavar="DATA | list | diff A B | review NAME [NAME_B] | preferences NAME"),
    arg(
        "--prompt",
        default=None,
        metavar="T|ID",
        help="a {column} template, a saved prompt id such as qa@2, or a tag such as qa:production",
    ),
    arg("--model", default=None, metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--text", default=None, metavar="COL", help="for a tuned classifier/regressor: the column it reads"),
    arg("--output", default=None, metavar="COL", help="score the outputs already in this column (no model)"),
    arg("--reference", default=None, metavar="COL", help="the column with the expected answers"),
    arg(
        "--evaluator",
        action="append",
        default=None,
        metavar="E",
        help="exact_match, contains, regex:P, json_valid, numeric[:TOL], bleu, chrf, rouge_l, "
        "semantic_similarity, accuracy, f1_macro, wer (repeatable)",
    ),
    arg("--judge", default=None, metavar="MODEL", help="eval diff: judge both runs' outputs with this model"),
    arg(
        "--pairwise",
        action="store_true",
        help="eval diff --judge: ask which output is better, in both orders",
    ),
    arg("--judge-method", default=None, choices=["logprobs", "parse"], help="how the judge's score is read"),
    arg(
        "--prompt-from",
        default=None,
        choices=["a", "b"],
        help="eval preferences: whose prompt the training rows keep (default a)",
    ),
    arg("--as", dest="as_", default=None, metavar="NAME", help="name of the stored run"),
    arg("--split", default=None, help="split of a hub dataset or DatasetDict"),
    arg(
        "--batch-size",
        type=int,
        default=None,
        metavar="B",
        help=f"rows per generation batch (default {DEFAULT_BATCH_SIZE})",
    ),
    arg("--no-cache", action="store_true", help="generate every row again instead of using the cache"),
    *GENERATION_ARGS,
    *ENGINE_ARGS,
    cell="optional",
    passthrough=True,
    group="evaluation",
)
def eval_(args, cell, shell, **extra):
    action, rest = args.target[0], args.target[1:]
    if args.judge is None and (args.pairwise or args.judge_method is not None):
        raise UsageError("--pairwise and --judge-method go with --judge MODEL in %fm eval diff A B.")
    if action == "list" and not rest:
        return fm.evaluations()
    if action == "diff":
        if len(rest) != 2:
            raise UsageError("%fm eval diff needs two run names: %fm eval diff A B (see %fm eval list).")
        judge = (
            fm.judge(model=args.judge, method=args.judge_method, pairwise=args.pairwise)
            if args.judge is not None
            else None
        )
        result = fm.compare_evaluations(
            rest[0], rest[1], evaluator=(args.evaluator or [None])[0], judge=judge
        )
        set_variable(shell, args.out, result)
        return result
    if action == "review":
        if len(rest) == 2:
            return fm.Review(fm.compare_evaluations(rest[0], rest[1]), seed=args.seed)
        if len(rest) != 1:
            raise UsageError(
                "%fm eval review needs one run name (rate its rows) or two (say which output is "
                "better): %fm eval review NAME [NAME_B] (see %fm eval list)."
            )
        return fm.Review(rest[0])
    if action == "preferences":
        if len(rest) != 1:
            raise UsageError(
                '%fm eval preferences needs one name: a review (quote it: "qa-v1 vs qa-v2") or a rated run.'
            )
        result = fm.preferences(rest[0], prompt_from=args.prompt_from or "a")
        set_variable(shell, args.out, result)
        return result
    if args.judge is not None:
        raise UsageError(
            "--judge goes with %fm eval diff A B; to judge one run, pass "
            "evaluators=[fm.judge(model=...)] to fm.evaluate."
        )
    if rest:
        raise UsageError(f"%fm eval takes one DATA, not {len(args.target)} words; quote a path with spaces.")
    template = args.prompt.replace("\\n", "\n") if args.prompt is not None else body_text(cell)
    data = shell.user_ns[action] if shell is not None and action in shell.user_ns else action
    params = generation_params(args, extra)
    result = fm.evaluate(
        data,
        template,
        model=args.model,
        text=args.text,
        output=args.output,
        reference=args.reference,
        evaluators=args.evaluator,
        name=args.as_,
        cache=not args.no_cache,
        split=args.split,
        batch_size=args.batch_size,
        **engine_options(args),
        **params,
    )
    set_variable(shell, args.out, result)
    return result
