"""Fine-tune a loaded model on a DataFrame: classification, regression or causal-LM, full or LoRA.

``run_finetune()`` is the public ``fmwidgets.finetune`` (defined in fmwidgets/api.py, which adds
the ``TrainingView`` in a notebook) without its live view.  It checks everything before anything heavy
happens, copies the base model with the right head (the base is never touched), and trains
through ``transformers.Trainer`` in the calling thread, where torch's OpenMP threads run as fast
as in a plain Trainer (background=True trains in a thread of its own).  A Stop button (the
monitor's ``stop_event``) or a kernel interrupt ends training cleanly after the current step.
However training ends (finished, stopped, interrupted) the tuned model is evaluated and
registered under a new name beside the base, so what it learned is never lost.

Its keywords and their defaults are written once, in settings.py, and shown in its signature;
the parts:

- settings.py: ``FinetuneSettings``, those keywords as one value, built here once
- checks.py: the numbers and output paths checked, the tuned model's name reserved
- data.py: the DataFrame checked and split (``TrainingData``)
- trainer.py: the ``TrainingPlan`` (export_script.py) from the settings, the Trainer from the
  plan: the one seam where another kind of trainer plugs in
- jobs.py: one run, here, in a background thread (``FinetuneRun``) or on Ray Train
- result.py: ``FinetuneResult``; core/models/predict.py: ``predict`` with a tuned head
- export_script.py: the same plan as a script for ``accelerate launch`` / ``torchrun``
"""

from __future__ import annotations

import inspect
from typing import Any

from ...engines import Engine
from ...errors import WrongFamilyError
from ...records import RunRecord
from ...signatures import expands
from ..models.registry import ModelHandle, get_model
from .checks import check_fit, check_numbers, check_outputs, release_name, reserve_name
from .data import prepare
from .export_script import write_script
from .jobs import FinetuneJob, FinetuneRun, RayTrainJob, run_here
from .monitor import TrainingMonitor
from .preference import check_columns, check_method, prepare_preferences
from .result import FinetuneResult
from .settings import FinetuneSettings
from .trainer import plan_for


@expands(FinetuneSettings, "settings")
@expands(Engine, "where")
def run_finetune(
    df: Any,
    text: str = "text",
    label: str | None = None,
    task: str | None = None,
    prompt: str = "prompt",
    chosen: str = "chosen",
    rejected: str = "rejected",
    completion: str = "completion",
    *,
    model: str | ModelHandle | None = None,
    settings: FinetuneSettings,
    eval_df: Any = None,
    monitor: TrainingMonitor | None = None,
    background: bool = False,
    where: Engine,
) -> FinetuneResult | FinetuneRun:
    """Fine-tune a copy of ``model`` on ``df`` and register it as ``as_`` (default NAME-ft).

    The task comes from the label column when not given: text or a few integers ->
    classification, other numbers -> regression, no label -> causal-LM (decoders).  Rows are
    split ``val_split`` (default 0.2, stratified by class; 0 = evaluate on the training rows)
    unless ``eval_df`` is given.  ``lr`` defaults to 5e-5, or 2e-4 with ``lora``; ``warmup`` is
    a fraction of the steps (below 1) or a number of steps.  ``monitor`` receives live progress
    (the notebook's ``fm.finetune`` passes the live view); ``background=True`` returns a
    FinetuneRun at once instead of waiting.  Stopping or interrupting keeps the tuned model, and
    so does a run that diverges (status "diverged", NaN metrics).  ``output_dir`` and
    ``export_script`` must be new or empty unless ``overwrite``; both are checked first.
    ``evaluate=False`` skips every evaluation (before, at each epoch's end, after): the result
    has no metrics, ``result.timings`` shows what the evaluations cost otherwise, and every row
    trains (no rows are held out for an evaluation that never runs).  A ``val_split`` or
    ``eval_df`` given explicitly is still honoured with ``evaluate=False``: the training rows
    are then exactly those of the same call with evaluation (what comparing the two timings
    needs, or an ``export_script`` that evaluates later), and ``result.held_out`` says how
    many rows the split kept out of training.  ``result.train_rows`` (and the record's
    ``train_rows``) is how many rows trained.
    ``method="dpo"`` learns from preferences (``fm.preferences``): columns ``prompt``,
    ``chosen``, ``rejected`` (named by those keywords); ``method="kto"`` from rated completions:
    ``prompt``, ``completion``, ``label`` (True / False).  Both go through TRL against the base
    as the reference model, with LoRA unless ``lora=False``; ``beta`` weighs how far the tuned
    model may move from it (preference.py).
    ``engine="ray"`` trains on ``workers`` Ray Train workers (data-parallel) at ``ray_address``
    (default: a local Ray); the curve, Stop and the registered model are the same.
    """
    from ...engines.ray_train import check_train_engine

    engine = check_train_engine(where)
    settings = settings.resolved()
    check_numbers(settings)
    base = get_model(model, "finetune")
    check_method(settings, base, df)
    columns_given = dict(
        text=text,
        label=label,
        task=task,
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        completion=completion,
    )
    defaults = inspect.signature(run_finetune).parameters
    check_columns(settings.method, {k: v for k, v in columns_given.items() if v != defaults[k].default})
    # Nothing evaluates the held-out rows of the default split when evaluate=False: train on them.
    split = (
        0 if not settings.evaluate and settings.val_split is None and eval_df is None else settings.val_split
    )
    columns: dict[str, str] = {}
    if settings.method == "supervised":
        data = prepare(
            df,
            text,
            label,
            task,
            val_split=split,
            eval_df=eval_df,
            strict=settings.strict,
            seed=settings.seed,
        )
    else:
        answers = (
            {"chosen": chosen, "rejected": rejected}
            if settings.method == "dpo"
            else {"completion": completion, "label": label or "label"}
        )
        columns = {"prompt": prompt, **answers}
        data = prepare_preferences(
            df,
            settings.method,
            columns,
            val_split=split,
            eval_df=eval_df,
            strict=settings.strict,
            seed=settings.seed,
        )
    if data.head == "causal-lm" and base.family != "decoder":
        raise WrongFamilyError(
            f"Model '{base.name}' is an {base.family} and cannot learn to continue texts (causal-LM, "
            f"chosen because {data.task_reason}); pass --label COLUMN to train a classifier or "
            "regressor, or load a GPT-style decoder."
        )
    check_fit(settings, base, len(data.train_texts))
    check_outputs(settings)
    name = reserve_name(base, settings.as_)
    try:
        params = {
            **({"columns": columns} if columns else {"text": text, "label": label}),
            "task": data.task,
            **settings.record_params(lr=settings.learning_rate, as_=name),
            "eval_df": eval_df is not None,
            "train_rows": len(data.train_texts),
            **where.params(),
        }
        record = RunRecord.for_model("finetune", base, params, seed=settings.seed, data=df)
        plan = plan_for(settings, base, data)
        if settings.export_script:
            params["export_script"] = str(
                write_script(settings.export_script, plan, data.rows("train"), data.rows("eval"))
            )
        parts = (base, data, settings, plan, params, monitor or TrainingMonitor(), name, record)
        if engine == "ray":
            job: FinetuneJob = RayTrainJob(*parts, where=where)
        else:
            job = FinetuneJob(*parts)
    except BaseException:
        release_name(name)
        raise
    return FinetuneRun(job) if background else run_here(job)
