"""FinetuneSettings holds fine-tuning's keywords and their defaults, once; run_finetune shows them."""

from __future__ import annotations

import dataclasses
import inspect

from fmwidgets.core.training.finetune import run_finetune
from fmwidgets.core.training.settings import DEFAULT_LORA_LR, DEFAULT_LR, FinetuneSettings
from fmwidgets.engines import Engine


def test_run_finetune_shows_every_setting_and_engine_field_as_a_keyword_with_its_default():
    shown = inspect.signature(run_finetune).parameters
    for kind in (FinetuneSettings, Engine):
        for f in dataclasses.fields(kind):
            assert shown[f.name].kind is inspect.Parameter.KEYWORD_ONLY and shown[f.name].default == f.default
    assert list(shown)[:4] == ["df", "text", "label", "task"]  # the data and its columns, by position too
    assert "settings" not in shown and "where" not in shown


def test_the_learning_rate_and_the_record_come_from_the_settings():
    settings = FinetuneSettings()
    assert settings.lr is None and settings.learning_rate == DEFAULT_LR
    assert dataclasses.replace(settings, lora=True).learning_rate == DEFAULT_LORA_LR
    assert dataclasses.replace(settings, lr=1e-3, lora=True).learning_rate == 1e-3
    params = settings.record_params(lr=DEFAULT_LR, as_="m-ft")
    assert "seed" not in params and params["as_"] == "m-ft" and params["lr"] == DEFAULT_LR
    assert list(params)[:2] == ["epochs", "lr"] and list(params)[-1] == "evaluate"
