"""Preference tuning: ``fm.finetune(data, method="dpo" | "kto")`` through TRL's trainers.

What people said about outputs (``fm.preferences``, or any DataFrame of the same shape) trains a
decoder to prefer what they preferred:

- ``method="dpo"``: rows of ``prompt``, ``chosen``, ``rejected`` (TRL's ``DPOTrainer``): the
  chosen answer made likelier than the rejected one, relative to the reference model.
- ``method="kto"``: rows of ``prompt``, ``completion``, ``label`` (True: a good completion;
  TRL's ``KTOTrainer``): good completions made likelier, bad ones less likely.

The reference model is the base as it is now: with LoRA (the default here) it is the tuned copy
with its adapters switched off, so the run costs one copy of the weights; without LoRA it is a
second frozen copy.  Everything around the Trainer (the live curve, Stop, an interrupt, the
evaluations, registering NAME-ft, the exported script, Ray Train) is the supervised run's
(jobs.py); this module adds the data checks, the Trainer, and the numbers TRL logs:
``reward_margin`` and ``reward_accuracy`` (how far, and how often, the chosen answer's implicit
reward beats the rejected one's) and ``logp_margin`` (mean log p(chosen) - log p(rejected)).
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from ...errors import BadArgumentError, DataError, MissingDependencyError, WrongFamilyError
from ...notices import FMWarning
from ..arguments import data_frame, number
from ..data import clean_texts, require_columns, require_rows
from ..evaluation.preferences import PreferenceData
from ..models.registry import ModelHandle
from .copies import copy_with_head
from .data import DEFAULT_VAL_SPLIT, TrainingData, split_rows
from .export_script import TrainingPlan
from .settings import FinetuneSettings

PREFERENCE_METHODS = ("dpo", "kto")
METHODS = ("supervised", *PREFERENCE_METHODS)
# TRL's logged names -> ours (the live curve, the evaluation table, the result's metrics)
LOGGED = {"rewards/margins": "reward_margin", "rewards/accuracies": "reward_accuracy"}
# run_finetune's column keywords -> the methods that read them
COLUMN_KEYWORDS = {
    "text": ("supervised",),
    "label": ("supervised", "kto"),
    "task": ("supervised",),
    "prompt": PREFERENCE_METHODS,
    "chosen": ("dpo",),
    "rejected": ("dpo",),
    "completion": ("kto",),
}
# the training values drawn beside the loss, for each method
CURVES = {"dpo": ("reward_margin", "reward_accuracy"), "kto": ("reward_margin",)}
REASONS = {
    "dpo": "prompt / chosen / rejected pairs: the chosen answer made likelier than the rejected one",
    "kto": "prompt / completion / label rows: good completions made likelier, bad ones less likely",
}


@dataclass
class PreferenceTrainingData(TrainingData):
    """Preference rows: ``train_texts`` / ``eval_texts`` are the prompts, and the answers what
    follows each (``chosen`` and ``rejected``, or ``completion`` and ``label``)."""

    train_answers: list[dict[str, Any]] = field(default_factory=list)
    eval_answers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def head(self) -> str:
        return "causal-lm"

    def rows(self, part: str) -> list[dict[str, Any]]:
        prompts, answers = (
            (self.train_texts, self.train_answers)
            if part == "train"
            else (self.eval_texts, self.eval_answers)
        )
        return [{"prompt": p, **a} for p, a in zip(prompts, answers)]


def check_columns(method: str, given: dict[str, Any]) -> None:
    """Column keywords given (not left at their defaults) that ``method`` never reads: a
    ``chosen=`` on a KTO run would otherwise be ignored without a word."""
    unused = [k for k in given if method not in COLUMN_KEYWORDS[k]]
    if unused:
        reads = ", ".join(f"{k}=" for k, methods in COLUMN_KEYWORDS.items() if method in methods)
        raise BadArgumentError(
            f"method='{method}' does not read {', '.join(f'{k}=' for k in unused)} (it reads {reads}); "
            "leave them out, or pick the method they belong to."
        )


def check_method(s: FinetuneSettings, base: ModelHandle, df: Any) -> None:
    """The method and its numbers, against the base model and the kind of data, before the
    data is read."""
    if s.method not in METHODS:
        raise BadArgumentError(
            f"'{s.method}' is not a fine-tuning method; use one of {', '.join(METHODS)} "
            "(dpo and kto learn from preferences: fm.preferences)."
        )
    if s.method == "supervised":
        if isinstance(df, PreferenceData):
            raise BadArgumentError(
                "This is preference data (fm.preferences); train on it with "
                f"method='{'dpo' if df.kind == 'pairs' else 'kto'}'."
            )
        return
    if base.family != "decoder":
        raise WrongFamilyError(
            f"Model '{base.name}' is an {base.family} and method='{s.method}' tunes a model that writes "
            "text; load a GPT-style decoder to learn from preferences."
        )
    number("beta", s.beta, above=0, hint="it weighs how far the model may move from the base, e.g. 0.1")
    if importlib.util.find_spec("trl") is None:
        raise MissingDependencyError(
            f"method='{s.method}' trains through TRL; install it with pip install 'fmwidgets[trl]' and "
            "restart the kernel."
        )
    if s.method == "kto" and s.batch_size < 2:
        raise BadArgumentError(
            f"method='kto' needs batch_size 2 or more (got {s.batch_size}): its KL term compares each row "
            "with another row of the same batch."
        )


def prepare_preferences(
    df: Any,
    method: str,
    columns: dict[str, str],
    *,
    val_split: float | None,
    eval_df: Any = None,
    strict: bool = False,
    seed: int | None = None,
) -> PreferenceTrainingData:
    """Check ``df`` (and ``eval_df``) and split it; ``columns`` maps TRL's names (prompt, chosen,
    rejected or prompt, completion, label) to the DataFrame's."""
    data_frame(df, "Preference tuning", "(fm.preferences(comparison))")
    if eval_df is not None:
        data_frame(eval_df, "eval_df (--eval-df)")
    if val_split is not None and not 0 <= val_split < 1:
        raise BadArgumentError(
            f"val_split must be a fraction between 0 and 1 (got {val_split}); 0 evaluates on the training rows."
        )
    if isinstance(df, PreferenceData) and df.kind != ("pairs" if method == "dpo" else "unpaired"):
        other = "kto" if method == "dpo" else "dpo"
        held = (
            "pairs (prompt, chosen, rejected)"
            if df.kind == "pairs"
            else "rated completions (prompt, completion, label)"
        )
        raise BadArgumentError(
            f"This preference set holds {held}, which method='{other}' trains on; pass method='{other}'."
        )
    frame = _clean(df, method, columns, strict, "DataFrame")
    if eval_df is not None:
        evaluation, source = _clean(eval_df, method, columns, strict, "evaluation DataFrame"), "eval_df"
        train = frame
    elif val_split == 0:
        train, evaluation, source = frame, frame, "train"
    else:
        train, evaluation = split_rows(
            frame, None, DEFAULT_VAL_SPLIT if val_split is None else val_split, seed
        )
        source = "split"
    answers = ["chosen", "rejected"] if method == "dpo" else ["completion", "label"]
    return PreferenceTrainingData(
        task=method,
        task_reason=REASONS[method],
        train_texts=train["prompt"].tolist(),
        train_labels=None,
        eval_texts=evaluation["prompt"].tolist(),
        eval_labels=None,
        eval_source=source,
        dropped=len(df) - len(frame),
        train_answers=train[answers].to_dict("records"),
        eval_answers=evaluation[answers].to_dict("records"),
    )


def _clean(df: Any, method: str, columns: dict[str, str], strict: bool, what: str) -> Any:
    """The rows that can train, under TRL's column names: blank texts dropped (warned), and for
    DPO the rows whose two answers are the same; for KTO the labels as True / False."""
    require_columns(df, list(columns.values()), what)
    require_rows(df, what)
    frame = df[list(columns.values())].set_axis(list(columns), axis=1)
    texts = [c for c in columns if c != "label"]
    for column in texts:
        frame, _ = clean_texts(frame, column, strict=strict, what=what)
    if method == "dpo":
        same = frame["chosen"] == frame["rejected"]
        if same.all():
            raise DataError(
                f"In every row of the {what} ({len(frame)}) the chosen text equals the rejected one, so there "
                "is no preference to learn; give pairs of different answers."
            )
        if same.any():
            warnings.warn(
                f"Dropped {int(same.sum())} of {len(frame)} rows whose chosen and rejected texts are the "
                "same (nothing to prefer).",
                FMWarning,
                stacklevel=5,
            )
            frame = frame.loc[~same]
    else:
        frame = frame.assign(label=_labels(frame["label"], columns["label"], what))
    return frame.reset_index(drop=True)


def _labels(values: Any, column: str, what: str) -> list[bool]:
    """KTO's labels as booleans: True / False, or 1 / 0."""
    allowed = {True, False}  # 1 == True and 0 == False, so 1 / 0 pass too
    odd = [v for v in values.tolist() if not isinstance(v, (bool, int, float)) or v not in allowed]
    if odd:
        raise DataError(
            f"KTO needs True / False (or 1 / 0) in column '{column}' of the {what} (True: a good completion), "
            f"which holds {odd[0]!r}; map the values to booleans first."
        )
    return [bool(v) for v in values.tolist()]


def preference_arguments(s: FinetuneSettings) -> dict[str, Any]:
    """DPOConfig / KTOConfig keywords beyond the TrainingArguments every run shares.

    Activation (gradient) checkpointing, TRL's default, stays off as in every fm.finetune run:
    it trades about a third of the speed for memory that LoRA already saves.  transformers 5
    renamed the keyword and warns about the old name, which older releases still need.
    """
    from transformers import TrainingArguments

    fields = TrainingArguments.__dataclass_fields__
    checkpointing = (
        "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    )
    return {"beta": s.beta, "max_length": s.max_length, checkpointing: False}


def reward_values(logs: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Our names for what TRL logged (``prefix`` "eval_" for an evaluation); {} for other runs."""
    values = {
        ours: float(logs[prefix + theirs]) for theirs, ours in LOGGED.items() if prefix + theirs in logs
    }
    chosen, rejected = logs.get(prefix + "logps/chosen"), logs.get(prefix + "logps/rejected")
    if chosen is not None and rejected is not None:
        values["logp_margin"] = float(chosen) - float(rejected)
    return values


def preference_trainer(
    plan: TrainingPlan, base: ModelHandle, data: TrainingData, scratch: str, callbacks: list
):
    """TRL's DPOTrainer or KTOTrainer on a fresh copy of ``base``; LoRA through TRL's
    ``peft_config``, so that the adapters switched off are the reference."""
    import datasets
    import transformers
    import trl

    # TRL 1.16 reads transformers 5's deprecated ``is_gradient_checkpointing`` at every step: a
    # warning between the two libraries that would print under the live view once per step.
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
    net = copy_with_head(base, "causal-lm", [])
    reference = None
    peft_config = None
    if plan.lora is not None:
        import peft

        peft_config = peft.LoraConfig(**plan.lora)
    else:
        reference = copy_with_head(base, "causal-lm", [])  # the base, frozen
    pair = (trl.DPOConfig, trl.DPOTrainer) if plan.method == "dpo" else (trl.KTOConfig, trl.KTOTrainer)
    config, kind = cast("tuple[Any, Any]", pair)  # two trainers of one shape: each takes its own config
    arguments = config(output_dir=scratch, disable_tqdm=True, use_cpu=base.device == "cpu", **plan.arguments)
    evaluation = data.rows("eval")
    with _quiet_datasets():
        trainer = kind(
            model=net,
            ref_model=reference,
            args=arguments,
            train_dataset=datasets.Dataset.from_list(data.rows("train")),
            eval_dataset=datasets.Dataset.from_list(evaluation) if evaluation else None,
            processing_class=base.tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # the monitor shows logs
    return trainer


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """TRL tokenises the rows with ``Dataset.map``, whose bars would print under the live view."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    shown = not are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if shown:
            enable_progress_bars()
