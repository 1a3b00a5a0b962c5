"""Subcommands for retrieval: index (a DataFrame into a vector index) and rag (answer from it).

An index built with ``--as NAME`` is registered in the kernel under NAME (and stored in the
notebook variable NAME), so ``%%fm rag --index NAME`` finds it.
"""

from __future__ import annotations

from IPython.core.error import UsageError

import fmwidgets as fm

from ..core.retrieval.rag import rag_answer
from .parser import ENGINE_ARGS, arg, command, default_of, engine_options, set_variable, variable
from .prompting import GENERATION_ARGS, body_text, generation_params


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
    arg(
        "--path", default=None, metavar="DIR", help="keep the index in this folder (default: a temporary one)"
    ),
    arg("--chunk-tokens", type=int, default=None, metavar="N", help="cut long texts into chunks of N tokens"),
    arg(
        "--overlap", type=int, default=0, metavar="N", help="tokens shared by neighbouring chunks (default 0)"
    ),
    arg("--model", default=None, metavar="NAME", help="a loaded embedding model (default: the current one)"),
    *ENGINE_ARGS,
    group="retrieval",
)
def index(args, cell, shell):
    if not args.name.isidentifier():
        raise UsageError(f"%fm index: --as needs a Python variable name, not '{args.name}'.")
    result = fm.index(
        variable(shell, args.source, "DataFrame"),
        text=args.text,
        model=args.model,
        chunk_tokens=args.chunk_tokens,
        overlap=args.overlap,
        path=args.path,
        name=args.name,
        **engine_options(args),
    )
    set_variable(shell, args.name, result)
    return result


@command(
    "rag",
    "answer the cell's question from the passages of an index, with their sources",
    arg("--index", required=True, metavar="NAME", help="an index built with %fm index ... --as NAME"),
    arg(
        "--k",
        type=int,
        default=default_of(rag_answer, "k"),
        metavar="K",
        help=f"passages to retrieve (default {default_of(rag_answer, 'k')})",
    ),
    arg("--model", default=None, metavar="NAME", help="a loaded decoder (default: the current one)"),
    arg(
        "--prompt",
        default=None,
        metavar="T|ID",
        help="template with {context} and {question}, or a saved id name@N",
    ),
    *GENERATION_ARGS,
    arg("--no-stream", action="store_true", help="show the answer only when it is complete"),
    cell="yes",
    passthrough=True,
    group="retrieval",
)
def rag(args, cell, shell, **extra):
    question = body_text(cell)
    if not question or not question.strip():
        raise UsageError("%%fm rag needs the question as the cell body.")
    found = shell.user_ns.get(args.index)
    target = found if isinstance(found, fm.Index) else args.index
    result = fm.rag(
        question.strip(),
        index=target,
        model=args.model,
        k=args.k,
        prompt=args.prompt,
        stream=False if args.no_stream else None,
        keep=False,
        **generation_params(args, extra),
    )
    set_variable(shell, args.out, result)
    return result
