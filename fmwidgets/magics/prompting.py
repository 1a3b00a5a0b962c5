"""Subcommands for prompts: prompt (and its releases: prompt tag / run / versions / export /
import), compare, fill, probs, playground.

The generation flags are declared once (``GENERATION_ARGS``) and shared by ``prompt``,
``compare``, ``chat``, ``eval`` and ``rag``, so all spell every setting alike; an unset flag is
left out of the call (see parser.py), so each function's own default applies (64 new tokens for
fm.generate, 256 for a chat reply).  Unknown ``--flags`` pass through to transformers'
``generate`` (``--no-repeat-ngram-size 3``; in ``compare``, whose model names are positional,
write ``--no-repeat-ngram-size=3``).
"""

from __future__ import annotations

import inspect

from IPython.core.error import UsageError

import fmwidgets as fm

from ..core.prompting.generate_df import DEFAULT_BATCH_SIZE
from .parser import ENGINE_ARGS, Cell, arg, command, set_variable, variable

GENERATION_ARGS = (
    arg("--max-new-tokens", type=int, metavar="N", help="tokens to generate"),
    arg("--temperature", type=float, metavar="T", help="sampling temperature (> 0)"),
    arg("--top-p", type=float, metavar="P", help="nucleus sampling: keep the top P of probability"),
    arg("--top-k", type=int, metavar="K", help="sample among the K most likely tokens"),
    arg("--greedy", action="store_const", const=True, help="always take the most likely token"),
    arg("--seed", type=int, metavar="S", help="seed for sampling (one is picked and recorded if not given)"),
    arg("--n", type=int, metavar="N", help="number of samples"),
    arg("--repetition-penalty", type=float, metavar="R", help="penalise repeated tokens (> 1)"),
    arg("--stop", action="append", metavar="TEXT", help="stop at this text (repeatable)"),
    arg(
        "--chat",
        action="store_const",
        const=True,
        help="use the tokenizer's chat template (default: on for instruction-tuned models that have one)",
    ),
    arg("--no-chat", dest="chat", action="store_const", const=False, help="send the text as it is"),
    arg("--system", metavar="TEXT", help="system message (chat models)"),
    arg("--strict", action="store_true", help="a prompt longer than the context is an error, not cut"),
    arg("--out", default=None, metavar="VAR", help="also store the result in this notebook variable"),
)


def body_text(cell: str | None) -> str | None:
    """The cell body as the user wrote it: IPython adds one newline after a cell's last line,
    which would otherwise become part of the prompt (and change what the model continues)."""
    return cell[:-1] if cell is not None and cell.endswith("\n") else cell


@command(
    "prompt",
    "generate from the cell body ({name} placeholders filled from the notebook), or one row per --df row",
    arg(
        "--model",
        metavar="NAME",
        help="a loaded model (default: the current one); with --save, the model the version is pinned to",
    ),
    *GENERATION_ARGS,
    arg("--df", default=None, metavar="DF", help="a DataFrame in the notebook: one generation per row"),
    arg(
        "--template", default=None, help="with --df: the prompt with {column} placeholders (or the cell body)"
    ),
    arg("--column", help="with --df: name of the column added"),
    arg(
        "--batch-size",
        type=int,
        metavar="B",
        help=f"with --df: rows per batch (default {DEFAULT_BATCH_SIZE})",
    ),
    arg("--no-stream", action="store_true", default=False, help="show the text only when it is complete"),
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
    calls=("generate", "generate_df", "save_prompt"),
    cell=Cell.OPTIONAL,
    passthrough=True,
    group="prompts",
)
def prompt(args, cell, shell, **given):
    """One public call per line: fm.save_prompt (--save), fm.generate_df (--df) or fm.generate."""
    cell = body_text(cell)
    rows_only = sorted(set(given) & _rows_only())
    if args.save is not None:
        return _save(args, args.template or cell, shell, rows_only, given)
    if args.df is not None:
        return _rows(args, args.template or cell, shell, given)
    if rows_only:
        flags = ", ".join("--" + k.replace("_", "-") for k in rows_only)
        raise UsageError(f"%fm prompt: {flags} apply to --df runs only.")
    if cell is None:
        raise UsageError('%%fm prompt needs the prompt as the cell body (or --df DF --template "...").')
    if args.code:
        from ..render.generate import code_lexer

        code_lexer(args.code)  # an unknown language fails before generating
    stream = False if args.no_stream else None
    result = fm.generate(cell, variables=shell.user_ns, stream=stream, keep=False, **given)
    if args.code:
        return _show_as_code(args, result, shell)
    set_variable(shell, args.out, result)
    return result


def _rows_only() -> set[str]:
    """The keywords fm.generate_df takes and fm.generate does not (--column, --batch-size, --engine...)."""
    one = inspect.signature(fm.generate).parameters
    return {k for k in inspect.signature(fm.generate_df).parameters if k not in one}


def _save(args, template, shell, rows_only, given):
    if template is None:
        raise UsageError(
            '%%fm prompt --save NAME saves the cell body (or --template "..."); write the template.'
        )
    if args.df is not None or rows_only:
        raise UsageError(
            "%%fm prompt --save NAME saves the template with its model and generation settings; "
            "run it over a DataFrame in a cell of its own (%fm prompt --df DF --template ...)."
        )
    version = fm.save_prompt(args.save, template, **given)
    set_variable(shell, args.out, version)
    return version


def _rows(args, template, shell, given):
    frame = variable(shell, args.df, "DataFrame")
    if template is None:
        raise UsageError('%fm prompt --df needs a template: --template "...{column}..." or a cell body.')
    result = fm.generate_df(frame, template, **given)
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
    calls="run_prompt",
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
    arg("names", nargs="*", default=None, metavar="NAME", help="the prompts to write (default: all)"),
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
    arg(
        "models",
        nargs="*",
        default=None,
        metavar="NAME",
        help="loaded models to compare (default: the current one)",
    ),
    arg(
        "--variants",
        action="store_true",
        default=False,
        help="each non-empty line of the body is a prompt variant",
    ),
    *GENERATION_ARGS,
    calls="compare",
    cell=Cell.NEEDED,
    passthrough=True,
    group="prompts",
)
def compare(args, cell, shell, **given):
    prompts = [line for line in cell.splitlines() if line.strip()] if args.variants else body_text(cell)
    result = fm.compare(prompts, models=args.models or None, variables=shell.user_ns, **given)
    set_variable(shell, args.out, result)
    return result


@command(
    "fill",
    "masked-LM predictions for [MASK] in the text, as a table and a bar chart",
    arg("text", nargs="+", help="the text with [MASK] (quote it, or write it plainly)"),
    arg("--top-k", type=int, metavar="K"),
    arg("--model", metavar="NAME"),
    arg("--out", default=None, metavar="VAR"),
    calls="fill_mask",
    group="prompts",
)
def fill(args, cell, shell, **given):
    from IPython.display import display

    result = fm.fill_mask(" ".join(args.text), **given)
    display(fm.plot_fill_mask(result))
    set_variable(shell, args.out, result)
    return result


@command(
    "probs",
    "probability of each token of a text under a decoder, top-k alternatives on hover",
    arg(
        "text",
        nargs="*",
        default=None,
        help="the text (or --of VAR for a Generation or string in the notebook)",
    ),
    arg("--of", default=None, metavar="VAR", help="a notebook variable: a Generation or a string"),
    arg("--top-k", type=int, metavar="K"),
    arg("--model", metavar="NAME"),
    arg("--strict", action="store_true", help="a text longer than the context is an error, not cut"),
    arg("--max-new-tokens", type=int, metavar="N", help="API-served models: how many reply tokens to score"),
    arg("--out", default=None, metavar="VAR"),
    calls="token_probs",
    group="prompts",
)
def probs(args, cell, shell, **given):
    source = variable(shell, args.of) if args.of else " ".join(args.text or [])
    result = fm.token_probs(source, **given)
    set_variable(shell, args.out, result)
    return result


@command(
    "playground",
    "widget: prompt box, sliders, Generate/Stop, streaming, several models side by side, history",
    arg(
        "models",
        nargs="*",
        default=None,
        metavar="NAME",
        help="models to offer (default: every loaded decoder)",
    ),
    group="prompts",
)
def playground(args, cell, shell):
    return fm.Playground(models=args.models or None)
