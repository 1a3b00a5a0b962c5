"""Hostile inputs outside generation and fine-tuning: model names, queries, frames, pickles, and
the same checks reached through the magics."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.core.embedding.embed import embed, similar
from fmwidgets.core.models.registry import registry
from fmwidgets.errors import BadArgumentError, DataError, FMError, ModelLoadError


def one_line(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 400, text
    return text


def test_a_huge_model_argument_is_one_short_sentence(bert):
    for call in (lambda: fm.load("x" * 100_000), lambda: embed(["a"], model="x" * 100_000)):
        with pytest.raises(BadArgumentError) as exc:
            call()
        assert "100,000 characters" in one_line(exc)


def test_similar_blames_a_missing_query_not_the_column(bert):
    frame = pd.DataFrame({"text": ["a cat", "a dog"]})
    for query in (np.nan, None):
        with pytest.raises(DataError) as exc:
            similar(query, frame, text="text")
        assert one_line(exc).startswith("The query")


def test_duplicate_columns_are_named_in_embed_and_similar(bert):
    frame = pd.DataFrame([["a cat", "x", "a dog"]], columns=["text", "other", "text"])
    with pytest.raises(DataError, match="more than one column named 'text'"):
        embed(frame, text="text")
    with pytest.raises(DataError, match="more than one column named 'text'"):
        similar("cat", frame, text="text")


def test_an_unsafe_pickle_is_refused_as_unsafe_with_the_way_to_safetensors(bert, tiny_paths, tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this ran",))

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_paths["bert"], folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    torch.save({**bert.model.state_dict(), "extra": Payload()}, folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError) as exc:
        fm.load(str(folder), as_="pickled")
    text = one_line(exc)
    assert "unsafe" in text and "safetensors" in text and "pickled" not in registry


@pytest.mark.parametrize("line, body", [
    ("probs --top-k -1 hello there", None),
    ("prompt --max-new-tokens 0", "hello"),
    ("prompt --top-p 5", "hello"),
    ("prompt --num-beem 2", "hello"),
    ("finetune df --label y --lr nan", None),
    ("finetune df --label y --epochs inf", None),
    ("prompt --df df --template 'Say {text}' --batch-size 0", None),
])
def test_magics_reach_the_same_checks(ip, gpt2, line, body):
    registry.current = "gpt2"
    ip.user_ns["df"] = pd.DataFrame({"text": ["a", "b", "c", "d"], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises((FMError, UsageError)) as exc:
        ip.run_cell_magic("fm", line, body) if body else ip.run_line_magic("fm", line)
    one_line(exc)
    assert registry.names() == ["gpt2"]


def test_beam_search_through_the_magic_without_streaming(ip, gpt2):
    result = ip.run_cell_magic("fm", "prompt --num-beams 2 --max-new-tokens 4 --greedy --no-stream", "the cat")
    assert result.stopped in ("eos", "length") and len(result.logprobs) == len(result.token_ids)


def test_finetune_magic_overwrite_flag(ip, bert, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    ip.user_ns["df"] = pd.DataFrame({"text": ["good film", "bad film"] * 4, "y": [1.0, 0.0] * 4})
    line = f"finetune df --label y --model bert --epochs 1 --max-length 8 --output-dir {target}"
    with pytest.raises(BadArgumentError, match="--overwrite"):
        ip.run_line_magic("fm", line)
    result = ip.run_line_magic("fm", line + " --overwrite")
    assert (target / "config.json").exists() and result.output_dir
