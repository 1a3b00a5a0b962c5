"""fm.generate_df: one generation per row, same text as fm.generate, batched or not."""

import pandas as pd
import pytest

from fmwidgets.notices import FMWarning
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.core.prompting.generate_df import generate_table
from fmwidgets.errors import DataError, InterpolationError


@pytest.fixture
def reviews():
    return pd.DataFrame({"item": ["the soup", "the movie", "the train"], "verdict": ["good", "bad", "late"]})


def test_each_row_equals_a_single_generate(gpt2, reviews):
    out = generate_table(reviews, "{item} was {verdict} because", max_new_tokens=6, greedy=True)
    assert list(out.columns) == ["item", "verdict", "output"] and "output" not in reviews.columns
    for row, text in zip(reviews.itertuples(), out["output"]):
        assert text == generate_text(f"{row.item} was {row.verdict} because", max_new_tokens=6, greedy=True).text
    assert out.attrs["fmwidgets"]["kind"] == "generate_df"
    assert out.attrs["fmwidgets"]["data"]["shape"] == [3, 2]


def test_batched_rows_give_the_same_greedy_text(gpt2, reviews):
    one = generate_table(reviews, "{item} was {verdict}", max_new_tokens=6, greedy=True, batch_size=1)
    batched = generate_table(reviews, "{item} was {verdict}", max_new_tokens=6, greedy=True, batch_size=3)
    assert batched["output"].tolist() == one["output"].tolist()
    assert batched.attrs["fmwidgets"]["params"]["batch_size"] == 3


def test_left_padded_batch_equals_plain_model_generate(gpt2):
    import torch

    texts = ["the", "the soup was good and the movie was bad because", "a train"]
    out = generate_table(pd.DataFrame({"t": texts}), "{t}", max_new_tokens=5, greedy=True, batch_size=3)
    tok = gpt2.tokenizer
    for text, got in zip(texts, out["output"]):
        ids = torch.tensor([tok(text)["input_ids"]])
        plain = gpt2.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=5, do_sample=False,
                                    pad_token_id=tok.eos_token_id)
        assert got == tok.decode(plain[0, ids.shape[1]:], skip_special_tokens=True)
    assert tok.padding_side == "right"  # left padding is asked per batch, not set on the tokenizer


def test_a_tokenizer_without_pad_token_pads_with_eos_and_is_left_alone(gpt2):
    import copy
    import dataclasses

    from fmwidgets.core.prompting.generate import run_batch
    from fmwidgets.core.prompting.sampling import Sampling

    bare = copy.deepcopy(gpt2.tokenizer)
    bare.pad_token = None  # as GPT-2 ships
    handle = dataclasses.replace(gpt2, tokenizer=bare)
    texts = ["the", "the soup was good and the movie was"]
    rows = run_batch(handle, texts, Sampling(max_new_tokens=4, greedy=True))
    assert [r.texts[0] for r in rows] == [generate_text(t, max_new_tokens=4, greedy=True).text for t in texts]
    assert bare.pad_token is None


def test_samples_and_seed_repeat(gpt2, reviews):
    a = generate_table(reviews, "{item}", max_new_tokens=5, temperature=1.0, seed=3, n=2, column="ideas")
    b = generate_table(reviews, "{item}", max_new_tokens=5, temperature=1.0, seed=3, n=2, column="ideas")
    assert a["ideas"].tolist() == b["ideas"].tolist()
    assert all(isinstance(v, list) and len(v) == 2 for v in a["ideas"])


def test_progress_is_reported_per_batch(gpt2, reviews):
    seen = []
    generate_table(reviews, "{item}", max_new_tokens=2, greedy=True, batch_size=2,
                progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]


def test_unknown_column_lists_the_columns(gpt2, reviews):
    with pytest.raises(DataError, match="no column 'price'; its columns are 'item', 'verdict'"):
        generate_table(reviews, "{item} costs {price}")
    with pytest.raises(InterpolationError, match="private"):
        generate_table(reviews, "{item.__class__}")


def test_empty_frame_and_empty_template_are_errors(gpt2, reviews):
    with pytest.raises(DataError, match="empty"):
        generate_table(reviews.iloc[:0], "{item}")
    with pytest.raises(DataError, match="template is empty"):
        generate_table(reviews, "  ")


def test_interrupt_keeps_rows_already_done(gpt2, reviews):
    def interrupt_after_first(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.warns(FMWarning, match="Interrupted after 1 of 3 rows"):
        out = generate_table(reviews, "{item}", max_new_tokens=3, greedy=True, batch_size=1,
                          progress=interrupt_after_first)
    assert isinstance(out["output"][0], str) and out["output"][1:].isna().all()
