"""FinetuneSettings is run_finetune's keywords as one value: the two stay in step."""

from __future__ import annotations

import dataclasses
import inspect

from fmwidgets.core.training.finetune import run_finetune
from fmwidgets.core.training.settings import DEFAULT_LORA_LR, DEFAULT_LR, FinetuneSettings

# What a run takes beside its settings: the data frames, the model, where and how it runs.
NOT_SETTINGS = {"df", "eval_df", "model", "monitor", "background", "engine", "ray_address", "workers"}


def test_every_keyword_of_run_finetune_is_a_setting_or_one_of_the_runs_own():
    keywords = set(inspect.signature(run_finetune).parameters)
    fields = [f.name for f in dataclasses.fields(FinetuneSettings)]
    assert set(fields) == keywords - NOT_SETTINGS and NOT_SETTINGS <= keywords


def test_settings_are_built_from_the_signatures_defaults_and_resolve_the_learning_rate():
    defaults = {k: p.default for k, p in inspect.signature(run_finetune).parameters.items()}
    settings = FinetuneSettings.of({**defaults, "df": None, "unrelated": 1})
    assert settings.epochs == defaults["epochs"] and settings.lr is None
    assert settings.learning_rate == DEFAULT_LR
    assert dataclasses.replace(settings, lora=True).learning_rate == DEFAULT_LORA_LR
    assert dataclasses.replace(settings, lr=1e-3, lora=True).learning_rate == 1e-3
    params = settings.record_params(lr=DEFAULT_LR, as_="m-ft", train_rows=3)
    assert "seed" not in params and params["as_"] == "m-ft" and params["lr"] == DEFAULT_LR
    assert list(params)[:3] == ["text", "label", "task"] and list(params)[-1] == "train_rows"
