"""Loading large models on this CPU machine: quantize is refused in one sentence, sizes are checked first."""


import pytest
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.core.models.memory import estimate_bytes
from fmwidgets.errors import BadArgumentError, OutOfMemoryError


def test_quantize_without_cuda_is_one_sentence_and_the_registry_is_untouched(gpt2, tiny_paths):
    before = fm.models()
    for q in ("4bit", "8bit"):
        with pytest.raises(BadArgumentError, match="needs a CUDA GPU"):
            fm.load(str(tiny_paths["chat"]), as_="q", quantize=q)
    with pytest.raises(BadArgumentError, match="not a choice"):
        fm.load(str(tiny_paths["chat"]), as_="q", quantize="3bit")
    assert fm.models().equals(before)


def test_quantize_magic_flag(gpt2, ip, tiny_paths):
    with pytest.raises(BadArgumentError, match="CUDA"):
        ip.run_line_magic("fm", f"load {tiny_paths['chat']} --as q --quantize 4bit")
    with pytest.raises(UsageError):
        ip.run_line_magic("fm", f"load {tiny_paths['chat']} --quantize 2bit")
    assert fm.models()["name"].tolist() == ["gpt2"]


def test_a_model_larger_than_free_memory_is_refused_before_loading(gpt2, tmp_path):
    from transformers import GPT2Config

    GPT2Config(n_embd=16384, n_layer=400, n_head=128, vocab_size=50257).save_pretrained(tmp_path)
    with pytest.raises(OutOfMemoryError, match=r"needs about \d+(\.\d)? GiB"):
        fm.load(str(tmp_path), as_="huge")  # no weights in the folder: it never gets that far
    assert fm.models()["name"].tolist() == ["gpt2"]


def test_estimate_counts_the_real_parameters(gpt2):
    import torch
    from transformers import AutoModelForCausalLM

    tied_head = gpt2.config.vocab_size * gpt2.config.n_embd  # counted twice on the meta device
    assert estimate_bytes(AutoModelForCausalLM, gpt2.config, torch.float32, None) == 4 * (gpt2.parameters + tied_head)
    assert estimate_bytes(AutoModelForCausalLM, gpt2.config, torch.float32, "4bit") == (gpt2.parameters + tied_head) // 2
