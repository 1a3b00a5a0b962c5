"""The tiny checkpoints are real, loadable and repeatable."""

import fmwidgets as fm
from fmwidgets import testing
from fmwidgets.core.models.loading import folder_hash


def test_same_seed_same_weights(tmp_path):
    a = testing.tiny_gpt2(tmp_path / "a")
    b = testing.tiny_gpt2(tmp_path / "b")
    c = testing.tiny_gpt2(tmp_path / "c", seed=1)
    assert folder_hash(a) == folder_hash(b) != folder_hash(c)


def test_tokenizers_split_words_sensibly(bert, gpt2, clip):
    assert bert.tokenizer.tokenize("the cat sat on the mat") == ["the", "cat", "sat", "on", "the", "mat"]
    assert "Ġsat" in gpt2.tokenizer.tokenize("the cat sat")
    assert "the</w>" in clip.tokenizer.tokenize("the cat")


def test_chat_variant_has_a_template(chat_gpt2):
    text = chat_gpt2.tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "user: hi\nassistant:"


def test_color_images():
    imgs = testing.color_images(3, size=16)
    assert [im.getpixel((0, 0)) for im in imgs] == [(220, 30, 30), (30, 180, 60), (40, 60, 220)]
