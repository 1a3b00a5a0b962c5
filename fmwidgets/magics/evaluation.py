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
from .parser import ENGINE_ARGS, Cell, arg, command, set_variable, take
from .prompting import GENERATION_ARGS, body_text

ACTIONS = ("list", "diff", "review", "preferences")


@command(
    "eval",
    "evaluate a prompt or model (or the outputs in --output COL) over DATA; `eval list`, "
    "`eval diff A B [--judge MODEL [--pairwise]]`, `eval review NAME [NAME_B]`, `eval preferences NAME`",
    arg("target", nargs="+", metavar="DATA | list | diff A B | review NAME [NAME_B] | preferences NAME"),
    arg(
        "--prompt",
        metavar="T|ID",
        help="a {column} template, a saved prompt id such as qa@2, or a tag such as qa:production",
    ),
    arg("--model", metavar="NAME", help="a loaded model (default: the current one)"),
    arg("--text", metavar="COL", help="for a tuned classifier/regressor: the column it reads"),
    arg("--output", metavar="COL", help="score the outputs already in this column (no model)"),
    arg("--reference", metavar="COL", help="the column with the expected answers"),
    arg(
        "--evaluator",
        dest="evaluators",
        action="append",
        metavar="E",
        help="exact_match, contains, regex:P, json_valid, numeric[:TOL], bleu, chrf, rouge_l, "
        "semantic_similarity, accuracy, f1_macro, wer (repeatable)",
    ),
    arg("--judge", default=None, metavar="MODEL", help="eval diff: judge both runs' outputs with this model"),
    arg(
        "--pairwise",
        action="store_true",
        default=False,
        help="eval diff --judge: ask which output is better, in both orders",
    ),
    arg("--judge-method", default=None, choices=["logprobs", "parse"], help="how the judge's score is read"),
    arg("--prompt-from", choices=["a", "b"], help="eval preferences: whose prompt the training rows keep"),
    arg("--as", dest="name", metavar="NAME", help="name of the stored run"),
    arg("--split", help="split of a hub dataset or DatasetDict"),
    arg(
        "--batch-size",
        type=int,
        metavar="B",
        help=f"rows per generation batch (default {DEFAULT_BATCH_SIZE})",
    ),
    arg(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="generate every row again instead of using the cache",
    ),
    *GENERATION_ARGS,
    *ENGINE_ARGS,
    calls=("evaluate", "preferences"),
    cell=Cell.OPTIONAL,
    passthrough=True,
    group="evaluation",
)
def eval_(args, cell, shell, **given):
    action, rest = args.target[0], args.target[1:]
    if args.judge is None and (args.pairwise or args.judge_method is not None):
        raise UsageError("--pairwise and --judge-method go with --judge MODEL in %fm eval diff A B.")
    preferences = take(given, fm.preferences)
    if preferences and action != "preferences":
        raise UsageError("--prompt-from goes with %fm eval preferences NAME.")
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
        evaluator = given.get("evaluators", [None])[0]
        result = fm.compare_evaluations(rest[0], rest[1], evaluator=evaluator, judge=judge)
        set_variable(shell, args.out, result)
        return result
    if action == "review":
        if len(rest) == 2:
            return fm.Review(fm.compare_evaluations(rest[0], rest[1]), seed=given.get("seed"))
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
        result = fm.preferences(rest[0], **preferences)
        set_variable(shell, args.out, result)
        return result
    if args.judge is not None:
        raise UsageError(
            "--judge goes with %fm eval diff A B; to judge one run, pass "
            "evaluators=[fm.judge(model=...)] to fm.evaluate."
        )
    if rest:
        raise UsageError(f"%fm eval takes one DATA, not {len(args.target)} words; quote a path with spaces.")
    template = given.pop("prompt").replace("\\n", "\n") if "prompt" in given else body_text(cell)
    data = shell.user_ns[action] if shell is not None and action in shell.user_ns else action
    result = fm.evaluate(data, template, **given)
    set_variable(shell, args.out, result)
    return result
