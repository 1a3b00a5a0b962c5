"""One generation per DataFrame row: ``generate_table(df, "Summarise: {review}")`` (``fm.generate_df``).

The template's placeholders name columns and are filled by ``core.prompting.template`` (no code runs).
Rows go through ``model.generate`` in left-padded batches of 8 by default.  That was measured
(``bench/bench_generate_df.py``, GPT-2-small shape, 32 new tokens): on an H200 batches of 8 ran
7.7x the rows/s of one row at a time, and on a 16-core CPU batches of 4 ran 3.4x (16: 8.8x),
with the same greedy text in every row; ``batch_size=1`` is there for tiny machines where
padding costs more than it saves.  An interrupt keeps the rows already generated and leaves
the others empty.  Rows whose placeholders hit an empty cell (NaN/None) are skipped with a
warning and get None, as other features skip missing rows (``strict=True``: an error).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Any, Callable, Sequence

from ...engines import Engine, run_chunks
from ...errors import BadArgumentError, DataError, EngineError
from ...notices import FMWarning
from ...records import RunRecord
from ...signatures import expands
from ..arguments import batch_size as check_batch_size
from ..arguments import data_frame
from ..data import require_columns, require_rows
from ..models.loading import load
from ..models.registry import ModelHandle, get_model
from .generate import check_prompt, render_prompt, run_batch
from .sampling import Sampling
from .template import fields, filler

DEFAULT_BATCH_SIZE = 8


def fill_rows(df: Any, template: str, strict: bool = False) -> tuple[list[str], list[int]]:
    """(the template filled from each usable row, those rows' positions).

    A placeholder naming no column is a DataError; a row whose placeholder cell is empty
    (NaN/None) is skipped with a warning, or is a DataError with ``strict``.
    """
    require_rows(df)
    check_prompt(template, what="template")
    names = fields(template)
    require_columns(df, names, "DataFrame")
    empty = df[names].isna().any(axis=1).tolist() if names else [False] * len(df)
    if any(empty):
        count = sum(empty)
        if strict or count == len(df):
            raise DataError(
                f"{count} of {len(df)} rows have an empty (NaN/None) cell in the template's columns "
                f"({', '.join(map(str, names))}); fill or drop those rows (df.dropna(subset=[...]))."
            )
        warnings.warn(
            f"Skipped {count} of {len(df)} rows with an empty (NaN/None) cell in "
            f"{', '.join(map(str, names))}; their output is None.",
            FMWarning,
            stacklevel=4,
        )
    prompts, positions = [], []
    fill = filler(template)
    for pos, row in enumerate(df.to_dict("records")):
        if empty[pos]:
            continue
        prompt = fill(row)
        check_prompt(prompt, what=f"prompt of row {pos} (index {df.index[pos]!r})")
        prompts.append(prompt)
        positions.append(pos)
    return prompts, positions


def generate_chunk(
    handle: ModelHandle, chunk: tuple[int, list[str]], *, sampling: Sampling, strict: bool
) -> list[Any]:
    """The engine task: one batch of rendered prompts starting at row ``first`` -> their outputs.

    The seed of a batch is ``seed + first``, so the rows are the same whichever engine or
    worker runs the batch.
    """
    first, prompts = chunk
    seed = None if sampling.seed is None else sampling.seed + first
    results = run_batch(handle, prompts, dataclasses.replace(sampling, seed=seed), strict=strict)
    if results[0].stopped == "interrupted":
        raise KeyboardInterrupt
    return [res.texts if sampling.n > 1 else res.texts[0] for res in results]


def generate_rows(
    handle: ModelHandle,
    prompts: list[str],
    *,
    batch_size: int | None,
    sampling: Sampling,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    where: Engine | None = None,
    names: Sequence[Any] | None = None,
) -> tuple[list[Any], int, list[dict[str, Any] | None] | None]:
    """(one output per rendered prompt, batch size used, per-row accounting or None): the batched
    run that every per-row generation (generate_df, evaluate, judges) goes through, on the chosen
    engine (engines/), with ``sampling`` resolved.  An API-served model's rows go to its server
    instead, concurrently (core/models/remote/generation.py), with their tokens, seconds and
    cost; ``names`` are the rows' labels in a failure's message.

    An interrupt keeps the rows already generated and leaves the others None, with a warning.
    """
    size = DEFAULT_BATCH_SIZE if batch_size is None else check_batch_size(batch_size)
    where = where or Engine()
    if handle.backend is not None:
        from ..models.remote.generation import reply_rows

        if where.name != "local":
            raise BadArgumentError(
                f"Model '{handle.name}' is served by its own server, which runs the rows; leave engine= out."
            )
        outputs, usage = reply_rows(handle, prompts, sampling, progress=progress, names=names)
        return outputs, size, usage
    if where.name == "vllm":
        from ...engines.vllm import generate_texts

        return (
            generate_texts(
                handle,
                prompts,
                sampling.decoding,
                max_new_tokens=sampling.max_new_tokens,
                n=sampling.n,
                seed=sampling.seed,
                stop=sampling.stop,
                extra=sampling.extra,
            ),
            size,
            None,
        )
    chunks = [(first, prompts[first : first + size]) for first in range(0, len(prompts), size)]
    task = functools.partial(generate_chunk, sampling=sampling, strict=strict)
    try:
        results = run_chunks(
            handle, task, chunks, [len(c[1]) for c in chunks], where, load=load, progress=progress
        )
    except EngineError as error:  # a worker died: its .partial becomes one output per prompt
        if error.partial is not None:
            error.partial = _per_prompt(chunks, error.partial, len(prompts))
        raise
    outputs = _per_prompt(chunks, results, len(prompts))
    done = sum(len(chunk) for (_, chunk), texts in zip(chunks, results) if texts is not None)
    if done < len(prompts):
        warnings.warn(
            f"Interrupted after {done} of {len(prompts)} rows; the others are left empty.",
            FMWarning,
            stacklevel=4,
        )
    return outputs, size, None


def _per_prompt(chunks: list[tuple[int, list[str]]], results: list[list | None], count: int) -> list[Any]:
    """The chunks' outputs laid out one per prompt, None for the prompts of unfinished chunks."""
    outputs: list[Any] = [None] * count
    for (first, chunk), texts in zip(chunks, results):
        if texts is not None:
            outputs[first : first + len(chunk)] = texts
    return outputs


@expands(Sampling, "sampling")
@expands(Engine, "where")
def generate_table(
    df: Any,
    template: str,
    model: str | ModelHandle | None = None,
    *,
    column: str = "output",
    batch_size: int | None = None,
    sampling: Sampling,
    chat: bool | None = None,
    system: str | None = None,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    where: Engine,
):
    """A copy of ``df`` with ``column`` holding the generated text for each row.

    Decoding keywords are ``Sampling``'s, as for ``fm.generate``; with ``n > 1`` each cell holds a
    list of ``n`` samples.  ``progress(done, total)`` is called after each batch.
    ``engine="ray"`` runs the batches on a Ray cluster (``ray_address``, ``workers`` model
    replicas) with the same rows back in the same order; ``engine="vllm"`` generates through
    vLLM on a CUDA GPU.  The result's ``attrs["fmwidgets"]`` holds the RunRecord.
    """
    data_frame(df, "generate_df")
    handle = get_model(model, "generate")
    if batch_size is not None:
        check_batch_size(batch_size)
    sampling.check()
    filled, positions = fill_rows(df, template, strict)
    prompts = [render_prompt(handle, p, chat, system)[0] for p in filled]
    sampling = sampling.resolve(handle)
    try:
        outputs, size, usage = generate_rows(
            handle,
            prompts,
            batch_size=batch_size,
            sampling=sampling,
            strict=strict,
            progress=progress,
            where=where,
            names=[f"{pos} (index {df.index[pos]!r})" for pos in positions],
        )
    except EngineError as error:  # the finished rows, as the table the call would have returned
        if error.partial is not None:
            error.partial = output_table(df, positions, error.partial, error.usage, column)
        raise
    out = output_table(df, positions, outputs, usage, column)
    params = dict(
        template=template,
        column=column,
        batch_size=size,
        **sampling.params(),
        chat=chat,
        system=system,
        **sampling.extra,
        **where.params(),
    )
    record = RunRecord.for_model("generate_df", handle, params, seed=sampling.seed, data=df, usage=usage)
    out.attrs["fmwidgets"] = record.to_dict()
    return out


ACCOUNTING = ("tokens_in", "tokens_out", "seconds", "cost")  # columns of an API-served model's rows


def output_table(
    df: Any, positions: list[int], outputs: list[Any], usage: list[dict | None] | None, column: str
) -> Any:
    """A copy of ``df`` with the outputs in ``column`` (None for skipped rows) and, for an
    API-served model, its accounting columns (tokens_in, tokens_out, seconds, cost; NaN where a
    row was not sent or no price is set)."""
    out = df.copy()
    cells: list[Any] = [None] * len(df)
    for pos, value in zip(positions, outputs):
        cells[pos] = value
    out[column] = cells
    if usage is not None:
        for name, values in accounting(len(df), positions, usage).items():
            out[name] = values
    return out


def accounting(n: int, positions: Any, usage: list[dict | None]) -> dict[str, Any]:
    """The ``ACCOUNTING`` columns of ``n`` rows from the usage of the rows at ``positions`` (NaN
    where a row was not sent, the server reported nothing, or no price is set)."""
    import numpy as np

    columns = {}
    for name in ACCOUNTING:
        values = columns[name] = np.full(n, np.nan)
        for pos, row in zip(positions, usage):
            if row is not None and row.get(name) is not None:
                values[pos] = row[name]
    return columns
