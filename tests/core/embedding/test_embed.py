"""fm.embed: equality with sentence-transformers on the real MiniLM, pooling per family, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.notices import FMWarning
from fmwidgets.core.embedding.embed import default_pooling, pool, sentence_transformers_config
from fmwidgets.core.models.loading import embedded_model_path
from fmwidgets.testing import CORPUS, color_images

SENTENCES = [
    "A man is eating food.",
    "A man is riding a horse.",
    "The new movie is awesome!",
    "It will rain tomorrow, take an umbrella.",
    "short",
    # longer than MiniLM's 256-token limit: both sides must truncate the same way
    " ".join(["the weather report says it will be sunny and warm this weekend"] * 25),
]


def test_minilm_equals_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    ours = fm.embed(SENTENCES)
    st = SentenceTransformer(str(embedded_model_path()), device="cpu").encode(
        SENTENCES, convert_to_numpy=True, show_progress_bar=False)
    assert ours.dtype == np.float32 and ours.shape == (len(SENTENCES), 384)
    cosine = (ours * st).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(st, axis=1)
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(ours, st, atol=1e-4)


def test_minilm_reads_its_sentence_transformers_config(minilm):
    config = sentence_transformers_config(minilm)
    assert config == {"pooling": "mean", "normalize": True, "max_length": 256}
    assert default_pooling(minilm) == "mean"


def test_order_is_kept_although_batches_are_sorted_by_length(minilm):
    one_by_one = np.vstack([fm.embed(s) for s in SENTENCES])
    batched = fm.embed(SENTENCES, batch_size=4)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_neighbours_make_sense_on_real_sentences(minilm):
    df = pd.DataFrame({"sentence": CORPUS, "id": range(len(CORPUS))})
    rows = fm.similar("Will I need an umbrella? It looks like rain.", df, text="sentence", k=3)
    assert rows.iloc[0]["sentence"] == "it will rain tomorrow so take an umbrella with you"
    assert list(rows.columns) == ["sentence", "id", "score"]
    assert rows["score"].is_monotonic_decreasing and rows["score"].iloc[0] > 0.5
    film = fm.similar("a great film with brilliant acting", CORPUS, k=2)
    assert set(film["text"]) == {"the movie was wonderful and the actors were great",
                                 "i did not like the film, the story was boring"}
    assert film.attrs["fmwidgets"]["kind"] == "similar"


def test_padding_is_ignored_by_every_pooling(bert, gpt2):
    texts = ["the cat sat on the mat and looked at the dog", "a dog"]
    for handle in (bert, gpt2):
        for how in ("mean", "cls", "last", "max"):
            together = fm.embed(texts, model=handle, pooling=how)
            alone = np.vstack([fm.embed(t, model=handle, pooling=how) for t in texts])
            np.testing.assert_allclose(together, alone, atol=1e-5, err_msg=f"{handle.name} {how}")


def test_family_defaults_and_heads(bert, gpt2):
    assert default_pooling(bert) == "mean" and default_pooling(gpt2) == "last"
    assert sentence_transformers_config(bert) is None
    # masked-LM and causal-LM handles embed through their base model's last hidden states
    import torch

    batch = gpt2.tokenizer(["a dog ran"], return_tensors="pt")
    with torch.no_grad():
        hidden = gpt2.model(**batch, output_hidden_states=True).hidden_states[-1]
    expected = torch.nn.functional.normalize(hidden[:, -1], dim=1).numpy()
    np.testing.assert_allclose(fm.embed("a dog ran", model=gpt2), expected, atol=1e-5)
    raw = fm.embed("a dog ran", model=bert, normalize=False)
    assert abs(np.linalg.norm(raw) - 1) > 1e-3  # not normalised when asked not to


def test_pool_mean_matches_a_hand_computation():
    import torch

    hidden = torch.arange(12, dtype=torch.float32).reshape(1, 3, 4)
    mask = torch.tensor([[1, 1, 0]])
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 3.0, 4.0, 5.0]]
    assert pool(hidden, mask, "last").tolist() == [[4.0, 5.0, 6.0, 7.0]]
    assert pool(hidden, mask, "max").tolist() == [[4.0, 5.0, 6.0, 7.0]]


def test_dataframe_column_and_nan_rows(bert):
    df = pd.DataFrame({"text": ["a dog", None, "  ", "the cat"], "label": [1, 2, 3, 4]})
    with pytest.warns(FMWarning, match="Skipped 2 of 4"):
        vectors = fm.embed(df, text="text")
    assert vectors.shape[0] == 2
    with pytest.raises(fm.DataError, match="2 of 4 rows"):
        fm.embed(df, text="text", strict=True)
    with pytest.raises(fm.DataError, match="no column 'sentence'"):
        fm.embed(df, text="sentence")
    with pytest.raises(fm.DataError, match="2 columns"):
        fm.embed(df)
    np.testing.assert_allclose(fm.embed(pd.Series(["a dog", "the cat"])), vectors, atol=1e-6)


def test_bad_inputs_are_one_sentence_errors(bert):
    with pytest.raises(fm.DataError, match="empty"):
        fm.embed([])
    with pytest.raises(fm.DataError, match="empty"):
        fm.embed(pd.DataFrame({"text": []}), text="text")
    with pytest.raises(fm.WrongFamilyError, match="cannot embed images"):
        fm.embed(color_images(2))
    with pytest.raises(fm.BadArgumentError, match="pooling"):
        fm.embed(["a"], pooling="median")
    with pytest.raises(fm.BadArgumentError, match="DataFrame column"):
        fm.embed(["a"], text="text")
    with pytest.raises(fm.DataError, match="query is empty"):
        fm.similar("  ", ["a dog"])
    with pytest.raises(fm.BadArgumentError, match="k must be"):
        fm.similar("dog", ["a dog"], k=0)


def test_progress_bar_on_long_inputs(bert, capsys):
    fm.embed(["a dog"] * 40, batch_size=2, progress=True)
    assert "embedding" in capsys.readouterr().err


def test_no_model_loaded():
    with pytest.raises(fm.NoModelLoadedError):
        fm.embed(["a dog"])


def test_a_sentence_transformers_folder_without_normalize_is_followed(tiny_paths, tmp_path):
    """cls pooling, no Normalize module, a short max_seq_length: the same vectors as encode()."""
    import json
    import shutil

    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "st-bert"
    shutil.copytree(tiny_paths["bert"], folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 8}))
    handle = fm.load(str(folder), as_="st-bert")
    assert sentence_transformers_config(handle) == {"pooling": "cls", "normalize": False, "max_length": 8}
    texts = ["the cat sat on the mat and looked at the dog", "a dog"]
    expected = SentenceTransformer(str(folder), device="cpu").encode(texts, show_progress_bar=False)
    np.testing.assert_allclose(fm.embed(texts), expected, atol=1e-5)
