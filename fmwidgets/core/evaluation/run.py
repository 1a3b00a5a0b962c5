"""``fm.evaluate``: run a prompt or a model over a dataset, score every row, keep the run.

One call does, in this order: read the data (``data.py``); check everything the user gave (the
model's family, the prompt or saved prompt id, the columns, the references, the evaluators)
so that every mistake is one sentence before any generation starts and nothing is stored;
generate (decoders: ``generation.py``, cached and batched like generate_df) or predict
(classifiers and regressors: ``core.models.predict.predict``); score with each evaluator; summarise
(mean, or the corpus score for accuracy/F1, with a bootstrap 95% interval); store the run.
An interrupt keeps the rows already generated, scores them, and marks the run partial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, cast

from ...engines import Engine
from ...errors import BadArgumentError, DataError, MissingDependencyError
from ...records import RunRecord, fingerprint_df
from ...signatures import expands, settings_from
from ..arguments import batch_size as check_batch_size
from ..data import require_columns
from ..models.registry import get_model
from ..prompting.generate import render_prompt, sent_text
from ..prompting.generate_df import fill_rows
from ..prompting.sampling import Sampling
from ..prompting.versions import pinned_model
from .data import load_data
from .evaluators import Evaluator, resolve
from .generation import generate_cached
from .stored import Evaluation, next_name, save
from .summary import summarise


@dataclass
class _Plan:
    """Everything checked before generation: what to run, on what, scored how."""

    frame: Any
    data_info: dict
    handle: Any
    mode: str  # "decoder" | "classifier" | "speech" | "outputs" (scored as given, no model)
    inputs: list[str | None]  # prompts as sent, or texts to classify (None: a blank text)
    template: str | None
    prompt_label: str | None
    reference: str | None
    evaluators: list[Evaluator]
    sampling: Sampling | None  # a decoder's, resolved
    settings: dict  # a decoder's batch_size and strict, and chat / system when given
    column: str | None = None  # the column read by a classifier (text=) or speech model (audio=)


def _default_evaluators(mode: str, handle: Any, reference: str | None) -> list[str]:
    if reference is None:
        return []
    if mode == "speech":
        return ["wer"]
    if mode == "classifier":
        return ["numeric:0.5"] if handle.head == "regression" else ["accuracy", "f1_macro"]
    return ["exact_match"]


def _plan(
    data, prompt, model, text, audio, reference, evaluators, split, batch_size, generation, output
) -> _Plan:
    frame, data_info = load_data(data, split)
    if output is not None:
        return _outputs_plan(
            frame, data_info, prompt, model, text, audio, reference, evaluators, generation, output
        )
    given = [k for k, v in (("prompt=", prompt), ("text=", text), ("audio=", audio)) if v is not None]
    if len(given) > 1:
        raise BadArgumentError(
            f"Pass one of prompt= (a decoder), text= (a classifier) or audio= (a speech "
            f"model), not {' and '.join(given)}."
        )
    if not given:
        raise BadArgumentError(
            "Say what to evaluate: prompt='...{column}...' (or a saved id like 'qa@2') for a "
            "decoder, text='COLUMN' for a classifier or regressor, audio='COLUMN' for speech."
        )
    mode = "classifier" if text is not None else "speech" if audio is not None else "decoder"
    if mode == "speech" and _transcribe() is None:
        raise MissingDependencyError(
            "Evaluating audio= needs fm.transcribe, which this version of fmwidgets "
            "does not have yet; evaluate text with prompt= or text=."
        )
    version = _saved_version(prompt) if mode == "decoder" else None
    if version is not None and version.model is not None and model is None:
        handle = pinned_model(version)  # a saved version runs on the model it is pinned to
    else:
        handle = get_model(
            model, {"classifier": "predict", "speech": "transcribe", "decoder": "generate"}[mode]
        )
    resolved = _evaluators(frame, handle, mode, reference, evaluators)

    template, label, params = None, None, dict(generation)
    if mode != "decoder":
        column = text if mode == "classifier" else audio
        require_columns(frame, [column], "data")
        shown = str if mode == "classifier" else _clip_name  # audio cells may hold arrays, not paths
        inputs = [None if _missing(v) else shown(v) for v in frame[column]]
        sampling, settings = None, {}
    else:
        if version is not None:
            template, label, params = version.template, version.id, {**version.params, **params}
        else:
            template = prompt
        chat, system = params.pop("chat", None), params.pop("system", None)
        inputs = [
            render_prompt(handle, p, chat, system)[0] for p in fill_rows(frame, template, strict=True)[0]
        ]
        if params.get("n", 1) != 1:
            raise BadArgumentError("fm.evaluate scores one output per row; leave n at 1.")
        settings = dict(batch_size=batch_size, strict=params.pop("strict", False))
        sampling = settings_from(Sampling, params).resolve(handle)
        if chat is not None or system is not None:
            settings.update(chat=chat, system=system)
    return _Plan(
        frame,
        data_info,
        handle,
        mode,
        inputs,
        template,
        label or template,
        reference,
        resolved,
        sampling,
        settings,
        text or audio,
    )


def _evaluators(
    frame: Any, handle: Any, mode: str, reference: str | None, evaluators: Any
) -> list[Evaluator]:
    """The evaluators resolved and checked against the data and the model, before any work."""
    if reference is not None:
        require_columns(frame, [reference], "data")
        missing = int(frame[reference].isna().sum())
        if missing:
            raise DataError(
                f"{missing} of {len(frame)} rows have no reference (NaN in column '{reference}'); "
                "fill or drop them before evaluating (df.dropna(subset=[...]))."
            )
    specs = evaluators if evaluators is not None else _default_evaluators(mode, handle, reference)
    resolved = resolve(specs)
    for ev in resolved:
        if ev.needs_reference and reference is None:
            have = ", ".join(repr(str(c)) for c in frame.columns)
            raise DataError(
                f"The evaluator '{ev.name}' compares with a reference; name the column that holds "
                f"it with reference= (--reference); the columns are {have}."
            )
        absent = [c for c in ev.needs_columns if c not in frame.columns]
        if absent:
            have = ", ".join(repr(str(c)) for c in frame.columns)
            raise DataError(
                f"The evaluator '{ev.name}' reads the column '{absent[0]}' (for RAG evaluators: the "
                f"retrieved passages of each row, a list of texts); the columns are {have}."
            )
        ev.check(handle)
    return resolved


def _outputs_plan(
    frame, data_info, prompt, model, text, audio, reference, evaluators, generation, output
) -> _Plan:
    """``output=COLUMN``: the outputs are in the data already; nothing is generated.

    A ``prompt`` template, if given, only fills the ``prompt`` column (what a judge reads as the
    input); ``model`` is the default judge.
    """
    if text is not None or audio is not None:
        raise BadArgumentError(
            "output= scores outputs that are already in the data; leave out text= and audio=."
        )
    if generation:
        raise BadArgumentError(
            f"output= generates nothing, so {', '.join(sorted(generation))} does not apply; leave it out."
        )
    require_columns(frame, [output], "data")
    handle = get_model(model) if model is not None else None
    version = _saved_version(prompt) if prompt is not None else None
    template, label = (version.template, version.id) if version is not None else (prompt, None)
    inputs: list[str | None] = [None] * len(frame)
    if template is not None:
        inputs = list(fill_rows(frame, template, strict=True)[0])
    resolved = _evaluators(frame, handle, "outputs", reference, evaluators)
    return _Plan(
        frame,
        data_info,
        handle,
        "outputs",
        inputs,
        template,
        label or template,
        reference,
        resolved,
        None,
        {},
        output,
    )


def _transcribe() -> Any:
    """``fm.transcribe`` where this version has speech models (core/speech.py), else None."""
    try:
        from ..speech import transcribe
    except ImportError:
        return None
    return transcribe


def _clip_name(value: Any) -> str:
    return value if isinstance(value, str) else f"<audio: {type(value).__name__}>"


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _saved_version(prompt: Any) -> Any:
    """The saved version ``prompt`` names (a PromptVersion, ``"qa@2"`` or ``"qa:production"``),
    or None for a template string."""
    from ..prompting.versions import PromptVersion, get_prompt, is_prompt_id

    if isinstance(prompt, PromptVersion):
        return prompt
    if not isinstance(prompt, str):
        raise BadArgumentError(
            f"prompt= must be a template string or a saved prompt id, not {type(prompt).__name__}."
        )
    return get_prompt(prompt) if is_prompt_id(prompt) else None


def _outputs(
    plan: _Plan, cache: bool, progress: Callable | None, where: Engine
) -> tuple[list, list[float], int, list[dict[str, Any] | None] | None]:
    if plan.mode == "outputs":  # as given; the data's own seconds (latency) are kept
        given = [None if _missing(v) else v for v in plan.frame[plan.column]]
        seconds = plan.frame["seconds"].tolist() if "seconds" in plan.frame else [math.nan] * len(given)
        return given, seconds, 0, None
    if plan.sampling is not None:
        prompts = cast("list[str]", plan.inputs)  # a decoder's rows are all filled (fill_rows, strict)
        return generate_cached(
            plan.handle,
            prompts,
            sampling=plan.sampling,
            batch_size=plan.settings["batch_size"],
            strict=plan.settings["strict"],
            use_cache=cache,
            progress=progress,
            where=where,
        )
    import time

    start = time.perf_counter()
    usable = [t for t in plan.inputs if t is not None]
    if plan.mode == "speech":
        import pandas as pd

        clips = [v for v, t in zip(plan.frame[plan.column], plan.inputs) if t is not None]
        heard = _transcribe()(pd.DataFrame({"audio": clips}), model=plan.handle, audio="audio")
        predicted = iter(heard["transcript"].tolist())
    else:
        from ..models.predict import predict

        predicted = iter(predict(usable, model=plan.handle).tolist()) if usable else iter(())
    outputs = [None if t is None else next(predicted) for t in plan.inputs]
    each = (time.perf_counter() - start) / max(len(usable), 1)
    if progress is not None:
        progress(len(plan.inputs), len(plan.inputs))
    return outputs, [each if o is not None else 0.0 for o in outputs], 0, None


@expands(Engine, "where")
def run_evaluation(
    data: Any,
    prompt: Any = None,
    *,
    model: Any = None,
    text: str | None = None,
    audio: str | None = None,
    output: str | None = None,
    reference: str | None = None,
    evaluators: Any = None,
    name: str | None = None,
    cache: bool = True,
    where: Engine,
    split: str | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **generation: Any,
) -> Evaluation:
    """Evaluate a prompt (decoder), a tuned model (``text=COLUMN``) or a speech model
    (``audio=COLUMN``, where fm.transcribe exists) over ``data``, or score the outputs already in
    column ``output`` (no model; ``prompt`` then only fills the input a judge reads); the run is stored.

    ``prompt`` is a ``{column}`` template or a saved prompt id (``"qa@2"``); ``reference`` names
    the column of expected answers; ``evaluators`` are names (``fm.evaluators`` lists them),
    functions ``f(output, row)`` or ``fm.judge(...)``.  Generation keywords (``greedy=True``,
    ``max_new_tokens=...``) pass through as in ``generate_df``.  ``cache=False`` regenerates
    every row.  ``progress(done, total)`` is called as rows are generated.  ``engine="ray"``
    generates the rows that are not cached on a Ray cluster (``ray_address``, ``workers`` model
    replicas), ``engine="vllm"`` through vLLM on a CUDA GPU; the scoring runs here.
    """
    engine_name = where.check()
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise BadArgumentError("name= must be a non-empty text, e.g. name='qa-v2'.")
    if batch_size is not None:
        check_batch_size(batch_size)
    if (text is not None or audio is not None or output is not None) and where.engine not in (None, "local"):
        raise BadArgumentError(
            f"engine={where.engine!r} generates with prompt= on a decoder; evaluate a text=, audio= or "
            "output= run with engine left out."
        )
    plan = _plan(
        data, prompt, model, text, audio, reference, evaluators, split, batch_size, generation, output
    )
    if plan.mode == "decoder" and engine_name == "vllm":
        from ...engines.vllm import check_available

        check_available()
    outputs, seconds, hits, usage = _outputs(plan, cache, progress, where)

    table = plan.frame.copy()
    table["prompt"] = [None if i is None else sent_text(plan.handle, i) for i in plan.inputs]
    table["output"] = outputs
    if plan.reference is not None:
        table["reference"] = plan.frame[plan.reference].tolist()
    table["seconds"] = seconds  # before the evaluators: latency and cost read these columns
    if usage is not None:  # an API-served model: what each row cost
        for column in ("tokens_in", "tokens_out", "cost"):
            table[column] = [math.nan if u is None or u.get(column) is None else u[column] for u in usage]
    for ev in plan.evaluators:
        for column, values in ev.scores(outputs, table, plan.handle).items():
            table[column] = values
    spent = [c for c in ("seconds", "tokens_in", "tokens_out", "cost") if c in table]
    table = table[[c for c in table.columns if c not in spent] + spent]  # the scores, then what they cost
    partial = plan.mode != "outputs" and any(o is None for o, i in zip(outputs, plan.inputs) if i is not None)

    params = dict(
        prompt=plan.prompt_label,
        text=text,
        reference=reference,
        evaluators=[c for e in plan.evaluators for c in e.columns],
        output=output,
        cache=cache,
        cache_hits=hits,
        partial=partial,
        data=plan.data_info,
        **_generation_params(plan),
        **(where.params() if plan.mode == "decoder" else {}),
    )
    seed = plan.sampling.seed if plan.sampling is not None else None
    record = (
        RunRecord.for_model("evaluate", plan.handle, params, seed=seed, data=plan.frame, usage=usage)
        if plan.mode != "outputs"
        else RunRecord(kind="evaluate", params=params, data=fingerprint_df(plan.frame))
    )
    result = Evaluation(
        name=name or next_name(),
        table=table,
        summary=summarise(table, plan.evaluators),
        evaluators=[c for e in plan.evaluators for c in e.columns],
        model=plan.handle.name if plan.mode != "outputs" else None,
        prompt=plan.prompt_label,
        partial=partial,
        record=record,
    )
    save(result)
    return result


def _generation_params(plan: _Plan) -> dict[str, Any]:
    """What the record notes of a decoder's generation settings (nothing for other models)."""
    if plan.sampling is None:
        return {}
    s, chat = plan.sampling, {k: plan.settings[k] for k in ("chat", "system") if k in plan.settings}
    return dict(
        batch_size=plan.settings["batch_size"],
        max_new_tokens=s.max_new_tokens,
        n=s.n,
        stop=s.stop,
        strict=plan.settings["strict"],
        **s.decoding,
        **s.extra,
        **chat,
    )
