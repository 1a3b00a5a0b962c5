"""Subcommands for retrieval: index (a DataFrame into a vector index) and rag (answer from it).

An index built with ``--as NAME`` is registered in the kernel under NAME (and stored in the
notebook variable NAME), so ``%%fm rag --index NAME`` finds it.
"""

from __future__ import annotations

from IPython.core.error import UsageError

import fmwidgets as fm

from .parser import ENGINE_ARGS, Cell, arg, command, set_variable, variable
from .prompting import GENERATION_ARGS, body_text


@command(
    "index",
    "embed a DataFrame's rows into a vector index (LanceDB) for search and %%fm rag",
    arg("source", help="notebook variable: a DataFrame"),
    arg("--text", required=True, metavar="COL", help="column with the texts to index"),
    arg(
        "--as",
        dest="name",
        required=True,
        metavar="NAME",
        help="name of the index (also a notebook variable)",
    ),
    arg("--path", metavar="DIR", help="keep the index in this folder (default: a temporary one)"),
    arg("--chunk-tokens", type=int, metavar="N", help="cut long texts into chunks of N tokens"),
    arg("--overlap", type=int, metavar="N", help="tokens shared by neighbouring chunks"),
    arg("--model", metavar="NAME", help="a loaded embedding model (default: the current one)"),
    *ENGINE_ARGS,
    calls="index",
    group="retrieval",
)
def index(args, cell, shell, **given):
    if not args.name.isidentifier():
        raise UsageError(f"%fm index: --as needs a Python variable name, not '{args.name}'.")
    result = fm.index(variable(shell, args.source, "DataFrame"), **given)
    set_variable(shell, args.name, result)
    return result


@command(
    "rag",
    "answer the cell's question from the passages of an index, with their sources",
    arg("--index", required=True, metavar="NAME", help="an index built with %%fm index ... --as NAME"),
    arg("--k", type=int, metavar="K", help="passages to retrieve"),
    arg("--model", metavar="NAME", help="a loaded decoder (default: the current one)"),
    arg(
        "--prompt",
        metavar="T|ID",
        help="template with {context} and {question}, or a saved id name@N",
    ),
    *GENERATION_ARGS,
    arg("--no-stream", action="store_true", default=False, help="show the answer only when it is complete"),
    calls="rag",
    cell=Cell.NEEDED,
    passthrough=True,
    group="retrieval",
)
def rag(args, cell, shell, **given):
    question = body_text(cell)
    if not question or not question.strip():
        raise UsageError("%%fm rag needs the question as the cell body.")
    found = shell.user_ns.get(given["index"])
    if isinstance(found, fm.Index):
        given["index"] = found
    result = fm.rag(question.strip(), stream=False if args.no_stream else None, keep=False, **given)
    set_variable(shell, args.out, result)
    return result
