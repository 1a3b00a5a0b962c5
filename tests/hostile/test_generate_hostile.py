"""Generation with hostile settings and data: one sentence before any model work, beam search
without streaming, empty cells skipped, and a recorded seed that reproduces under threads."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.core.prompting.generate_df import generate_table
from fmwidgets.core.prompting.token_probs import token_probs
from fmwidgets.errors import BadArgumentError, DataError


def one_sentence(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 400, text
    return text


@pytest.mark.parametrize("keywords, words", [
    (dict(max_new_tokens=0), "max_new_tokens"), (dict(top_p=5), "top_p"), (dict(top_k=-2), "top_k"),
    (dict(temperature=float("nan")), "temperature"), (dict(n=0), "n must"),
    (dict(max_new_token=3), "did you mean --max-new-tokens"),
    (dict(num_beams=2, on_text=print), "--no-stream"),
])
def test_bad_generation_settings_are_one_sentence(gpt2, keywords, words):
    with pytest.raises(BadArgumentError) as exc:
        generate_text("hello there", **keywords)
    assert words in one_sentence(exc)


def test_unknown_flag_far_from_any_name_says_where_to_look(gpt2):
    with pytest.raises(BadArgumentError, match="GenerationConfig"):
        generate_text("hello", zzqqxx=1)


def test_beam_search_works_without_streaming_and_matches_transformers(gpt2):
    import torch

    out = generate_text("the cat", max_new_tokens=5, num_beams=3, greedy=True)
    ids = gpt2.tokenizer("the cat", return_tensors="pt")
    with torch.no_grad():
        ref = gpt2.model.generate(**ids, max_new_tokens=5, num_beams=3, do_sample=False,
                                  pad_token_id=gpt2.tokenizer.pad_token_id)
    want = ref[0, ids["input_ids"].shape[1]:].tolist()
    eos = gpt2.tokenizer.eos_token_id
    assert out.token_ids == (want[:want.index(eos)] if eos in want else want)
    assert len(out.logprobs) == len(out.token_ids)


def test_probs_top_k_below_one_is_refused(gpt2):
    with pytest.raises(BadArgumentError) as exc:
        token_probs("hello there", top_k=-1)
    assert "top_k" in one_sentence(exc)


def test_generate_df_skips_empty_cells_with_a_warning_or_refuses_when_strict(gpt2):
    frame = pd.DataFrame({"x": ["cats", None, float("nan"), "dogs"]})
    with pytest.warns(UserWarning, match="Skipped 2 of 4 rows"):
        out = generate_table(frame, "Say {x}", max_new_tokens=3, greedy=True)
    assert out["output"].isna().tolist() == [False, True, True, False]
    alone = generate_table(frame.iloc[[3]], "Say {x}", max_new_tokens=3, greedy=True)
    assert out["output"].iloc[3] == alone["output"].iloc[0]
    with pytest.raises(DataError) as exc:
        generate_table(frame, "Say {x}", max_new_tokens=3, strict=True)
    one_sentence(exc)


@pytest.mark.parametrize("keywords", [dict(batch_size=0), dict(batch_size=-4), dict(max_new_tokens=0)])
def test_generate_df_bad_numbers_are_refused(gpt2, keywords):
    with pytest.raises(BadArgumentError):
        generate_table(pd.DataFrame({"x": ["a"]}), "Say {x}", **keywords)


def test_generate_df_refuses_a_series(gpt2):
    with pytest.raises(DataError, match="not a Series"):
        generate_table(pd.Series(["a"], name="x"), "Say {x}")


def test_seeded_sampling_in_threads_matches_the_same_calls_alone(gpt2):
    settings = dict(max_new_tokens=12, temperature=1.5, top_k=50)
    alone = {seed: generate_text("once upon a time", seed=seed, **settings).token_ids for seed in (1, 2)}
    for _ in range(2):
        got: dict[int, list] = {}
        threads = [threading.Thread(target=lambda s=s: got.__setitem__(
            s, generate_text("once upon a time", seed=s, **settings).token_ids)) for s in (1, 2, 1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == alone
    assert alone[1] != alone[2]
