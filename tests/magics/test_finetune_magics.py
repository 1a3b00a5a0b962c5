"""%fm finetune and %fm predict through a real IPython shell."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

from fmwidgets.core.models.registry import registry
from fmwidgets.core.training.result import FinetuneResult
from fmwidgets.errors import DataError
from fmwidgets.provenance.history import entries as history
from fmwidgets.testing import CORPUS


@pytest.fixture
def reviews(ip):
    ip.user_ns["reviews"] = pd.DataFrame({"review": CORPUS, "stars": [1, 2] * (len(CORPUS) // 2)})
    ip.user_ns["holdout"] = pd.DataFrame({"review": CORPUS[:4], "stars": [1, 2, 1, 2]})
    return ip.user_ns["reviews"]


def test_finetune_then_predict(ip, bert, reviews):
    line = ("finetune reviews --text review --label stars --epochs 1 --batch-size 4 --max-length 16 "
            "--eval-df holdout --as tuned --lr 1e-3 --out res")
    result = ip.run_line_magic("fm", line)
    assert isinstance(result, FinetuneResult) and ip.user_ns["res"] is result
    assert result.task == "classification" and result.eval_source == "eval_df" and result.eval_rows == 4
    assert registry.names() == ["bert", "tuned"] and result.record.params["lr"] == 1e-3
    assert history[-1].code == f"%fm {line}"

    ip.user_ns["new"] = ["the cat sat on the mat", "stocks fell sharply"]
    predictions = ip.run_line_magic("fm", "predict new --model tuned --out preds")
    assert predictions.tolist() == ip.user_ns["preds"].tolist() and set(predictions) <= {1, 2}
    frame = ip.run_line_magic("fm", "predict reviews --text review")
    assert len(frame) == len(CORPUS)
    assert ip.run_line_magic("fm", 'predict "a dog ran in the park"') in (1, 2)


def test_lora_and_task_flags_reach_the_api(ip, bert, reviews):
    result = ip.run_line_magic(
        "fm", "finetune reviews --text review --label stars --task regression --lora --lora-r 4 "
              "--lora-targets query,key --epochs 1 --max-length 16 --val-split 0.25")
    assert result.task == "regression" and result.task_reason == "given"
    params = result.record.params
    assert (params["lora"], params["lora_r"], params["lora_targets"]) == (True, 4, ["query", "key"])


def test_flags_left_out_take_the_core_defaults_and_no_eval_skips_evaluation(ip, bert, reviews):
    import inspect

    from fmwidgets.core.training.finetune import run_finetune

    result = ip.run_line_magic("fm", "finetune reviews --text review --label stars --epochs 1 --no-eval")
    assert not result.evaluated and result.metrics == {} and result.status == "finished"
    defaults = {k: p.default for k, p in inspect.signature(run_finetune).parameters.items()}
    params = result.record.params
    for key in ("batch_size", "max_length", "warmup", "weight_decay", "grad_accum", "lora_r", "strict", "method"):
        assert params[key] == defaults[key], key
    assert defaults["lora"] is None and params["lora"] is False  # the record says what ran: all weights
    assert params["evaluate"] is False and params["lr"] == 5e-5
    assert result.train_rows == params["train_rows"] == len(reviews)  # no rows held out for nothing


def test_mistakes_are_one_line(ip, bert, reviews):
    with pytest.raises(UsageError, match="no DataFrame named 'missing'"):
        ip.run_line_magic("fm", "finetune missing --label stars")
    with pytest.raises(UsageError, match="invalid choice: 'sentiment'"):
        ip.run_line_magic("fm", "finetune reviews --task sentiment")
    with pytest.raises(UsageError, match="argument --epochs: invalid float value"):
        ip.run_line_magic("fm", "finetune reviews --epochs many")
    with pytest.raises(DataError, match="no column 'text'; its columns are 'review', 'stars'"):
        ip.run_line_magic("fm", "finetune reviews --label stars")
    assert registry.names() == ["bert"]


def test_finetune_help_shows_the_core_defaults_and_unset_flags_are_not_passed(ip, capsys):
    from fmwidgets.core.training.finetune import run_finetune
    from fmwidgets.core.training.settings import DEFAULT_LR
    from fmwidgets.magics.parser import COMMANDS, default_of, parse

    ip.run_line_magic("fm", "finetune --help")
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name in ("text", "epochs", "batch_size", "max_length", "warmup", "seed", "lora_r", "lora_dropout"):
        flag = "--" + name.replace("_", "-")
        own = text.split(f" {flag} ", 1)[1].split(" --", 1)[0]  # this flag's metavar and help
        assert f"default {default_of(run_finetune, name)}" in own, (flag, own)
    assert f"default {DEFAULT_LR:g}" in text.split(" --lr ", 1)[1].split(" --", 1)[0]
    args, _ = parse(COMMANDS["finetune"], ["reviews"])
    assert set(vars(args)) == {"df", "out"}  # no finetune keyword


def test_every_setting_of_a_finetune_has_a_flag():
    import dataclasses

    from fmwidgets.core.training.settings import FinetuneSettings
    from fmwidgets.magics.magics import load_commands
    from fmwidgets.magics.parser import COMMANDS

    load_commands()
    flags = {action.dest for action in COMMANDS["finetune"].parser._actions}
    assert {f.name for f in dataclasses.fields(FinetuneSettings)} <= flags


def test_help_lists_the_fine_tuning_group(ip, capsys):
    ip.run_line_magic("fm", "help")
    out = capsys.readouterr().out
    assert "fine-tuning:" in out and "%fm finetune" in out and "%fm predict" in out


def test_preference_flags_reach_the_api(ip, gpt2):
    ip.user_ns["pairs"] = pd.DataFrame({"q": ["Where is the cat?", "Where is a dog?"] * 2,
                                        "good": [" on the mat", " in the yard"] * 2,
                                        "bad": [" in the park", " on the roof"] * 2})
    line = ("finetune pairs --model gpt2 --method dpo --prompt q --chosen good --rejected bad --beta 0.2 "
            "--epochs 1 --batch-size 2 --max-length 16 --val-split 0 --as dpo-tuned --out res")
    result = ip.run_line_magic("fm", line)
    assert ip.user_ns["res"] is result and result.task == "dpo" and registry.get("dpo-tuned").head == "causal-lm"
    params = result.record.params
    assert (params["method"], params["beta"], params["lora"]) == ("dpo", 0.2, True)
    assert params["columns"] == {"prompt": "q", "chosen": "good", "rejected": "bad"}
    assert history[-1].code == f"%fm {line}"

    ip.user_ns["rated"] = pd.DataFrame({"q": ["Where is the cat?"] * 4, "a": [" on the mat", " far away"] * 2,
                                        "ok": [True, False] * 2})
    result = ip.run_line_magic("fm", "finetune rated --model gpt2 --method kto --prompt q --completion a "
                                     "--label ok --no-lora --epochs 1 --batch-size 2 --val-split 0")
    assert result.task == "kto" and result.record.params["lora"] is False
    assert result.record.params["columns"] == {"prompt": "q", "completion": "a", "label": "ok"}
    with pytest.raises(UsageError, match="invalid choice: 'ppo'"):
        ip.run_line_magic("fm", "finetune pairs --method ppo")
