"""Subcommands for prompts: prompt (and its releases: prompt tag / run / versions / export /
import), compare, fill, probs, playground.

The generation flags are declared once (``GENERATION_ARGS``) and shared by ``prompt`` and
``compare``, so both spell every setting alike; unknown ``--flags`` pass through to
transformers' ``generate`` (``--no-repeat-ngram-size 3``; in ``compare``, whose model names
are positional, write ``--no-repeat-ngram-size=3``).
"""

from __future__ import annotations

from collections.abc import Callable

from IPython.core.error import UsageError

import fmwidgets as fm

from ..core.prompting.generate import generate_text
from ..core.prompting.generate_df import DEFAULT_BATCH_SIZE, generate_table
from .parser import ENGINE_ARGS, Arg, arg, command, default_of, engine_options, set_variable, variable


def max_new_tokens_arg(func: Callable) -> Arg:
    """``--max-new-tokens``, whose help shows ``func``'s default (chat models answer at more length)."""
    default = default_of(func, "max_new_tokens")
    return arg(
        "--max-new-tokens",
        type=int,
        default=None,
        metavar="N",
        help=f"tokens to generate (default {default})",
    )


# Every flag defaults to None (unset) and is then left out of the call: the API's defaults apply.
GENERATION_ARGS = (
    max_new_tokens_arg(generate_text),
    arg("--temperature", type=float, default=None, metavar="T", help="sampling temperature (> 0)"),
    arg(
        "--top-p",
        type=float,
        default=None,
        metavar="P",
        help="nucleus sampling: keep the top P of probability",
    ),
    arg("--top-k", type=int, default=None, metavar="K", help="sample among the K most likely tokens"),
    arg("--greedy", action="store_const", const=True, default=None, help="always take the most likely token"),
    arg(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="seed for sampling (one is picked and recorded if not given)",
    ),
    arg(
        "--n",
        type=int,
        default=None,
        metavar="N",
        help=f"number of samples (default {default_of(generate_text, 'n')})",
    ),
    arg("--repetition-penalty", type=float, default=None, metavar="R", help="penalise repeated tokens (> 1)"),
    arg("--stop", action="append", default=None, metavar="TEXT", help="stop at this text (repeatable)"),
    arg(
        "--chat",
        action="store_const",
        const=True,
        default=None,
        help="use the tokenizer's chat template (default: on for instruction-tuned models that have one)",
    ),
    arg("--no-chat", dest="chat", action="store_const", const=False, help="send the text as it is"),
    arg("--system", default=None, metavar="TEXT", help="system message (chat models)"),
    arg("--strict", action="store_true", help="a prompt longer than the context is an error, not cut"),
    arg("--out", default=None, metavar="VAR", help="also store the result in this notebook variable"),
)


def body_text(cell: str | None) -> str | None:
    """The cell body as the user wrote it: IPython adds one newline after a cell's last line,
    which would otherwise become part of the prompt (and change what the model continues)."""
    return cell[:-1] if cell is not None and cell.endswith("\n") else cell


def generation_params(args, extra: dict) -> dict:
    """The keyword arguments of fm.generate from the shared flags: only those the user set, so a
    saved prompt version keeps only those and the API's own defaults apply to the rest."""
    params = {k: getattr(args, k) for k in _GENERATION_KEYWORDS if getattr(args, k, None) is not None}
    if getattr(args, "strict", False):  # %%fm chat has no --strict
        params["strict"] = True
    return {**params, **extra}


# the keywords the shared flags set (argparse's dest: --top-p -> top_p); --strict is a switch
_GENERATION_KEYWORDS = tuple(
    dict.fromkeys(
        a.kwargs.get("dest", a.flags[0].lstrip("-").replace("-", "_"))
        for a in GENERATION_ARGS
        if a.flags[0] not in ("--strict", "--out")
    )
)


@command(
    "prompt",
    "generate from the cell body ({name} placeholders filled from the notebook), or one row per --df row",
    arg(
        "--model",
        default=None,
        metavar="NAME",
        help="a loaded model (default: the current one); with --save, the model the version is pinned to",
    ),
    *GENERATION_ARGS,
    arg("--df", default=None, metavar="DF", help="a DataFrame in the notebook: one generation per row"),
    arg(
        "--template", default=None, help="with --df: the prompt with {column} placeholders (or the cell body)"
    ),
    arg(
        "--column",
        default=default_of(generate_table, "column"),
        help=f"with --df: name of the column added (default {default_of(generate_table, 'column')})",
    ),
    arg(
        "--batch-size",
        type=int,
        default=None,
        metavar="B",
        help=f"with --df: rows per batch (default {DEFAULT_BATCH_SIZE})",
    ),
    arg("--no-stream", action="store_true", help="show the text only when it is complete"),
    arg(
        "--code",
        default=None,
        metavar="LANG",
        help="show the output as highlighted code in LANG (python, sql...)",
    ),
    arg(
        "--save",
        default=None,
        metavar="NAME",
        help="save the template (cell body or --template) as the next version of NAME (fm.save_prompt)",
    ),
    *ENGINE_ARGS,
    cell="optional",
    passthrough=True,
    group="prompts",
)
def prompt(args, cell, shell, **extra):
    params, cell = generation_params(args, extra), body_text(cell)
    if args.save is not None:
        template = args.template or cell
        if template is None:
            raise UsageError(
                '%%fm prompt --save NAME saves the cell body (or --template "..."); write the template.'
            )
        version = fm.save_prompt(args.save, template, model=args.model, **params)
        if args.df is None:  # the template's {column} placeholders are for data, not notebook names
            set_variable(shell, args.out, version)
            return version
    if args.df is not None:
        frame = variable(shell, args.df, "DataFrame")
        template = args.template or cell
        if template is None:
            raise UsageError('%fm prompt --df needs a template: --template "...{column}..." or a cell body.')
        result = fm.generate_df(
            frame,
            template,
            model=args.model,
            column=args.column,
            batch_size=args.batch_size,
            **engine_options(args),
            **params,
        )
    else:
        if args.engine or args.ray_address or args.workers:
            raise UsageError("%fm prompt: --engine, --ray-address and --workers apply to --df runs only.")
        if cell is None:
            raise UsageError('%%fm prompt needs the prompt as the cell body (or --df DF --template "...").')
        if args.code:
            from ..render.generate import code_lexer

            code_lexer(args.code)  # an unknown language fails before generating
        result = fm.generate(
            cell,
            model=args.model,
            variables=shell.user_ns,
            stream=False if args.no_stream else None,
            keep=False,
            **params,
        )
        if args.code:
            return _show_as_code(args, result, shell)
    set_variable(shell, args.out, result)
    return result


@command(
    "prompt tag",
    "point a tag (production, staging...) at a saved version: %fm prompt tag qa@3 production",
    arg("prompt", metavar="ID", help="the version: name@N, or name:tag to promote what a tag points at"),
    arg("tag", metavar="TAG", help="a simple word such as production"),
    group="prompts",
)
def prompt_tag(args, cell, shell):
    return fm.tag_prompt(args.prompt, args.tag)


@command(
    "prompt run",
    "run a saved prompt on its pinned model: %fm prompt run qa:production --question 'What...?'",
    arg("name", metavar="ID", help="name@N, name:tag, or a name (its newest version)"),
    arg("--out", default=None, metavar="VAR", help="also store the Generation in this notebook variable"),
    passthrough=True,
    group="prompts",
)
def prompt_run(args, cell, shell, **values):
    result = fm.run_prompt(args.name, keep=False, **values)
    set_variable(shell, args.out, result)
    return result


@command(
    "prompt versions",
    "the saved versions of NAME (or of every prompt) with their pinned models and tags",
    arg("name", nargs="?", default=None, metavar="NAME"),
    group="prompts",
)
def versions(args, cell, shell):
    return fm.prompt_versions(args.name)


@command(
    "prompt export",
    "write prompt versions and tags to a YAML (or .json) file to share through git",
    arg("path", metavar="FILE"),
    arg("names", nargs="*", metavar="NAME", help="the prompts to write (default: all)"),
    group="prompts",
)
def prompt_export(args, cell, shell):
    return fm.export_prompts(args.path, args.names or None)


@command(
    "prompt import",
    "read a file that %fm prompt export wrote into this store (version numbers kept)",
    arg("path", metavar="FILE"),
    group="prompts",
)
def prompt_import(args, cell, shell):
    return fm.import_prompts(args.path)


def _show_as_code(args, result, shell) -> None:
    """``--code LANG``: the generation shown as highlighted code (it is still stored by --out)."""
    from IPython.display import display

    from ..render.generate import code_bundle

    display(
        code_bundle(result.texts, args.code, "— " + result.summary()),
        raw=True,
        metadata={"fmwidgets": result.record.to_dict()},
    )
    set_variable(shell, args.out, result)


@command(
    "compare",
    "the cell's prompt across several models side by side (or prompt variants, one per line)",
    arg("models", nargs="*", metavar="NAME", help="loaded models to compare (default: the current one)"),
    arg("--variants", action="store_true", help="each non-empty line of the body is a prompt variant"),
    *GENERATION_ARGS,
    cell="yes",
    passthrough=True,
    group="prompts",
)
def compare(args, cell, shell, **extra):
    prompts = [line for line in cell.splitlines() if line.strip()] if args.variants else body_text(cell)
    result = fm.compare(
        prompts, models=args.models or None, variables=shell.user_ns, **generation_params(args, extra)
    )
    set_variable(shell, args.out, result)
    return result


@command(
    "fill",
    "masked-LM predictions for [MASK] in the text, as a table and a bar chart",
    arg("text", nargs="+", help="the text with [MASK] (quote it, or write it plainly)"),
    arg("--top-k", type=int, default=5, metavar="K"),
    arg("--model", default=None, metavar="NAME"),
    arg("--out", default=None, metavar="VAR"),
    group="prompts",
)
def fill(args, cell, shell):
    from IPython.display import display

    result = fm.fill_mask(" ".join(args.text), model=args.model, top_k=args.top_k)
    display(fm.plot_fill_mask(result))
    set_variable(shell, args.out, result)
    return result


@command(
    "probs",
    "probability of each token of a text under a decoder, top-k alternatives on hover",
    arg("text", nargs="*", help="the text (or --of VAR for a Generation or string in the notebook)"),
    arg("--of", default=None, metavar="VAR", help="a notebook variable: a Generation or a string"),
    arg("--top-k", type=int, default=5, metavar="K"),
    arg("--model", default=None, metavar="NAME"),
    arg("--strict", action="store_true", help="a text longer than the context is an error, not cut"),
    arg("--out", default=None, metavar="VAR"),
    group="prompts",
)
def probs(args, cell, shell):
    source = variable(shell, args.of) if args.of else " ".join(args.text)
    result = fm.token_probs(source, model=args.model, top_k=args.top_k, strict=args.strict)
    set_variable(shell, args.out, result)
    return result


@command(
    "playground",
    "widget: prompt box, sliders, Generate/Stop, streaming, several models side by side, history",
    arg("models", nargs="*", metavar="NAME", help="models to offer (default: every loaded decoder)"),
    group="prompts",
)
def playground(args, cell, shell):
    return fm.Playground(models=args.models or None)
