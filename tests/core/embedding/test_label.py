"""fm.label: every method equals its reference computation; MiniLM labels a small review set well;
bad input is refused before any model work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets import testing
from fmwidgets.core.embedding.label import EMBEDDING_TEMPERATURE, HYPOTHESIS, PROMPT_TEMPLATE
from fmwidgets.errors import BadArgumentError, DataError, WrongFamilyError

REVIEWS = pd.DataFrame({
    "review": ["I loved this film, wonderful acting", "Great product, works perfectly, highly recommend",
               "Absolutely fantastic experience, I am delighted", "The food was delicious and the staff lovely",
               "Terrible, it broke after one day", "Worst movie I have ever seen, boring and slow",
               "Awful service, rude staff, never again", "Very disappointing, a waste of money"],
    "truth": ["positive"] * 4 + ["negative"] * 4,
})
LABELS = {"positive": "a positive review full of praise", "negative": "a negative review, a complaint"}


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def nli_path(tmp_path_factory):
    return testing.tiny_nli(tmp_path_factory.mktemp("nli"))


def test_embedding_equals_cosine_softmax_and_labels_reviews(minilm):
    out = fm.label(REVIEWS, text="review", labels=LABELS)
    rows, classes = fm.embed(REVIEWS["review"].tolist()), fm.embed(list(LABELS.values()))
    expected = _softmax(rows @ classes.T / EMBEDDING_TEMPERATURE)
    np.testing.assert_allclose(out[["score_positive", "score_negative"]].to_numpy(), expected, atol=1e-5)
    assert (out["label"] == out["truth"]).mean() >= 0.85
    assert out["confidence"].between(0, 1).all()
    np.testing.assert_allclose(out["confidence"], expected.max(axis=1), atol=1e-5)
    assert list(out.columns[:2]) == ["review", "truth"]


def test_nli_equals_the_pipeline(nli_path):
    from transformers import pipeline

    handle = fm.load(str(nli_path), as_="nli")
    texts = REVIEWS["review"].tolist()[:3]
    out = fm.label(pd.DataFrame({"t": texts}), text="t", labels=["good", "bad", "neutral"], method="nli")
    ref = pipeline("zero-shot-classification", model=handle.model, tokenizer=handle.tokenizer)(
        texts, candidate_labels=["good", "bad", "neutral"], hypothesis_template=HYPOTHESIS)
    for row, r in zip(out.itertuples(index=False), ref):
        assert row.label == r["labels"][0]
        assert abs(getattr(row, "score_" + r["labels"][1]) - r["scores"][1]) < 1e-6
    multi = fm.label(pd.DataFrame({"t": texts}), text="t", labels=["good", "bad"], method="nli", multi_label=True)
    assert all(isinstance(v, list) for v in multi["label"])


def test_prompt_equals_hand_computed_logprobs(gpt2):
    out = fm.label(["the cat sat on the mat"], labels=["cat", "dog"], method="prompt")
    tok, model = gpt2.tokenizer, gpt2.model
    totals = []
    for name in ("cat", "dog"):
        prompt = tok(PROMPT_TEMPLATE.format(text="the cat sat on the mat", labels="cat, dog"))["input_ids"]
        ending = tok(" " + name)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([prompt + ending])).logits[0].log_softmax(-1)
        totals.append(sum(float(logits[len(prompt) - 1 + i, t]) for i, t in enumerate(ending)))
    expected = _softmax(np.array([totals]))[0]
    np.testing.assert_allclose(out[["score_cat", "score_dog"]].to_numpy()[0], expected, atol=1e-5)


def test_clip_labels_images(clip):
    images = testing.color_images(3)
    out = fm.label(pd.DataFrame({"img": images}), text="img", labels=["red", "green", "blue"], method="clip")
    ref = fm.clip_similarity(images, ["red", "green", "blue"], model=clip)
    np.testing.assert_allclose(out[["score_red", "score_green", "score_blue"]].to_numpy(), ref.probs, atol=1e-5)
    assert out["label"].tolist() == ref.labels["label"].tolist()


def test_bad_input(minilm, gpt2):
    with pytest.raises(BadArgumentError, match="at least two"):
        fm.label(REVIEWS, text="review", labels=[], model=minilm)
    with pytest.raises(BadArgumentError, match="more than once"):
        fm.label(REVIEWS, text="review", labels=["a", "b", "a"], model=minilm)
    with pytest.raises(DataError, match="empty"):
        fm.label(REVIEWS.iloc[:0], text="review", labels=["a", "b"], model=minilm)
    with pytest.raises(DataError, match="text"):
        fm.label(REVIEWS, text="text", labels=["a", "b"], model=minilm)
    with pytest.raises(WrongFamilyError, match="decoder"):
        fm.label(REVIEWS, text="review", labels=["a", "b"], method="prompt", model=minilm)
    with pytest.raises(WrongFamilyError, match="entailment"):
        fm.label(REVIEWS, text="review", labels=["a", "b"], method="nli", model=gpt2)
    with pytest.raises(BadArgumentError, match="method"):
        fm.label(REVIEWS, text="review", labels=["a", "b"], method="vibes", model=minilm)
