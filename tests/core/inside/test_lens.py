"""The logit lens on a tiny decoder: shapes, probabilities, and the last row is the model's output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, WrongFamilyError


def test_lens_on_tiny_gpt2(gpt2):
    text = "the cat sat on the mat"
    lens = fm.logit_lens(text, top_k=3)
    enc = gpt2.tokenizer(text, return_tensors="pt")
    n = enc["input_ids"].shape[1]
    layers = gpt2.model.config.n_layer
    assert lens.probs.shape == (layers + 1, n, 3) and lens.ids.shape == (layers + 1, n, 3)
    assert lens.layers == ["embeddings", "layer 1", "layer 2"]
    assert len(lens.tokens) == n
    # top-k sorted, probabilities
    assert np.all(np.diff(lens.probs, axis=-1) <= 0) and np.all((lens.probs > 0) & (lens.probs <= 1))
    with torch.no_grad():
        out = gpt2.model(**enc, output_hidden_states=True)
    # last row: the model's own next-token prediction
    probs = torch.softmax(out.logits[0], -1)
    top = probs.topk(3, -1)
    np.testing.assert_array_equal(lens.ids[-1], top.indices.numpy())
    np.testing.assert_allclose(lens.probs[-1], top.values.numpy(), rtol=1e-5)
    # middle row: final norm + unembedding of layer 1's hidden state
    mid = gpt2.model.lm_head(gpt2.model.transformer.ln_f(out.hidden_states[1]))[0]
    np.testing.assert_array_equal(lens.ids[1], torch.softmax(mid, -1).topk(3, -1).indices.numpy())
    assert lens.guesses[-1][0][0] == gpt2.tokenizer.decode([int(lens.ids[-1, 0, 0])])
    assert lens.record.kind == "logit_lens" and lens.record.params["top_k"] == 3


def test_lens_frame_and_escaped_html(gpt2):
    lens = fm.logit_lens("<b>bold</b>", top_k=2)
    frame = lens.to_frame()
    assert list(frame.columns) == ["layer", "position", "token", "guess", "probability"]
    assert len(frame) == len(lens.layers) * len(lens.tokens)
    bundle, meta = lens._repr_mimebundle_()
    assert "<b>" not in bundle["text/html"] and "&lt;" in bundle["text/html"]
    assert meta["fmwidgets"]["kind"] == "logit_lens"


def test_lens_needs_a_decoder(bert):
    with pytest.raises(WrongFamilyError, match="logit lens"):
        fm.logit_lens("a cat", model="bert")


def test_bad_top_k(gpt2):
    with pytest.raises(BadArgumentError, match="top_k"):
        fm.logit_lens("a cat", top_k=0)
