"""fm.attention equals the model's own output_attentions, for each supported family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fmwidgets as fm
from fmwidgets.config import settings
from fmwidgets.notices import FMWarning
from fmwidgets.errors import BadArgumentError, DataError


def _reference(handle, module, text, text_pair=None):
    enc = handle.tokenizer(text, text_pair, return_tensors="pt")
    with torch.no_grad():
        out = module(**enc, output_attentions=True)
    return np.stack([a[0].numpy() for a in out.attentions]), enc["input_ids"][0].tolist()


def test_equals_output_attentions_on_minilm(minilm):
    text, pair = "The cat sat on the mat.", "It was sleeping."
    result = fm.attention(text, text_pair=pair)
    ref, ids = _reference(minilm, minilm.model, text, pair)
    assert result.weights.shape == (6, 12, len(ids), len(ids))
    assert result.weights.dtype == np.float32
    np.testing.assert_array_equal(result.weights, ref)
    assert result.token_ids == ids
    assert result.tokens[0] == "[CLS]" and result.special[0]
    assert result.tokens.count("[SEP]") == 2
    # rows are distributions over keys
    np.testing.assert_allclose(result.weights.sum(-1), 1.0, atol=1e-5)
    assert result.record.kind == "attention" and result.record.params["text_pair"] == pair


def test_equals_output_attentions_on_tiny_gpt2(gpt2):
    text = "hello world, the model reads"
    result = fm.attention(text, model="gpt2")
    ref, ids = _reference(gpt2, gpt2.model, text)
    np.testing.assert_array_equal(result.weights, ref)
    # causal: nothing above the diagonal
    assert np.all(np.triu(result.weights[0, 0], k=1) == 0)
    # byte-level markers are cleaned up
    assert not any(tok.startswith("Ġ") for tok in result.tokens)
    assert "".join(result.tokens) == gpt2.tokenizer.decode(ids)


def test_clip_uses_the_text_tower(clip):
    result = fm.attention("a photo of a cat", model="clip")
    ref, ids = _reference(clip, clip.model.text_model, "a photo of a cat")
    np.testing.assert_array_equal(result.weights, ref)
    assert result.special[0] and result.special[-1]
    assert not any(tok.endswith("</w>") for tok in result.tokens)


def test_wordpiece_markers_cleaned(bert):
    result = fm.attention("unbelievable tokenization", model="bert")
    raw = bert.tokenizer.convert_ids_to_tokens(result.token_ids)
    assert any(p.startswith("##") for p in raw)
    assert not any(tok.startswith("##") for tok in result.tokens)


def test_long_input_is_truncated_with_a_notice(gpt2):
    old = settings().max_attention_tokens
    settings().max_attention_tokens = 16
    try:
        with pytest.warns(FMWarning, match="showing the first 16"):
            result = fm.attention("word " * 40, model="gpt2")
    finally:
        settings().max_attention_tokens = old
    assert len(result) == 16 and result.truncated > 0
    assert result.weights.shape[-1] == 16


def test_context_length_caps_the_input(bert):
    # tiny BERT has 128 positions: a longer input must be cut, not crash the model
    with pytest.warns(FMWarning):
        result = fm.attention("cat " * 300, model="bert")
    assert len(result) == 128 and result.tokens[-1] == "[SEP]"


def test_layer_float16_is_one_layer(gpt2):
    result = fm.attention("one two three four", model="gpt2")
    raw = result.layer_float16(1)
    n = len(result)
    assert len(raw) == result.n_heads * n * n * 2
    back = np.frombuffer(raw, dtype="<f2").reshape(result.n_heads, n, n)
    np.testing.assert_allclose(back, result.weights[1], atol=1e-3)
    np.testing.assert_allclose(result.matrix(1), result.weights[1].mean(0))
    with pytest.raises(BadArgumentError, match="layers 0 to 1"):
        result.matrix(5)
    with pytest.raises(BadArgumentError, match="heads 0 to 1"):
        result.matrix(0, 9)


def test_hostile_text_is_escaped_in_html(gpt2):
    result = fm.attention("<img src=x onerror=alert(1)>", model="gpt2")
    bundle, meta = result._repr_mimebundle_()
    assert "<img" not in bundle["text/html"]
    assert "&lt;" in bundle["text/html"]
    assert meta["fmwidgets"]["kind"] == "attention"


def test_empty_or_wrong_text_is_one_sentence(gpt2):
    with pytest.raises(DataError, match="text is empty"):
        fm.attention("   ", model="gpt2")
    with pytest.raises(DataError, match="text_pair is empty"):
        fm.attention("a cat", text_pair="", model="gpt2")
    with pytest.raises(BadArgumentError, match="text must be one text"):
        fm.attention(["a", "b"], model="gpt2")


def test_call_is_in_history(gpt2):
    from fmwidgets.provenance.history import entries as history

    fm.attention("abc", model="gpt2")
    assert [e.code for e in history] == ["fm.attention(text='abc', model='gpt2')"]


def test_encoder_decoder_shows_the_encoder(tiny_paths, tmp_path):
    """A tiny BART (with the tiny GPT-2's byte-level BPE) loaded as users do: the encoder's weights."""
    from transformers import AutoTokenizer, BartConfig, BartForConditionalGeneration

    folder = tmp_path / "bart"
    tok = AutoTokenizer.from_pretrained(tiny_paths["gpt2"])
    config = BartConfig(vocab_size=len(tok), d_model=16, encoder_layers=2, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                        decoder_ffn_dim=32, max_position_embeddings=64)
    torch.manual_seed(0)
    BartForConditionalGeneration(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    handle = fm.load(str(folder), as_="bart")
    assert handle.family == "encoder-decoder"
    result = fm.attention("the cat sat", model="bart")
    ref, _ = _reference(handle, handle.model.get_encoder(), "the cat sat")
    np.testing.assert_array_equal(result.weights, ref)
    assert result.weights.shape[:2] == (2, 2)
