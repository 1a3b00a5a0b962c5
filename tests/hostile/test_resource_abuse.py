"""Numbers that would exhaust memory or time, or crash half-way: one sentence before any work.

Each call below asks for something absurd (a billion new tokens, samples, beams, rows per batch,
epochs, a LoRA rank larger than the model); a forward hook on the model proves nothing ran.
"""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.models.registry import registry
from fmwidgets.errors import FMError

ROWS = pd.DataFrame({"q": [f"question {i}" for i in range(8)], "a": ["1"] * 8, "label": ["x", "y"] * 4})
HUGE = 10**9


def test_absurd_numbers_are_one_sentence_before_any_model_work(gpt2, bert):
    calls = []
    hooks = [h.model.register_forward_hook(lambda *a: calls.append(1)) for h in (gpt2, bert)]
    cases = {
        "max_new_tokens": lambda: fm.generate("hi", model="gpt2", max_new_tokens=HUGE, stream=False),
        "n": lambda: fm.generate("hi", model="gpt2", n=HUGE, temperature=0.7, max_new_tokens=2, stream=False),
        "top_k": lambda: fm.generate("hi", model="gpt2", top_k=HUGE, temperature=0.7, max_new_tokens=2, stream=False),
        "num_beams": lambda: fm.generate("hi", model="gpt2", num_beams=HUGE, max_new_tokens=2, stream=False),
        "batch_size=0": lambda: fm.generate_df(ROWS, "{q}", model="gpt2", batch_size=0, progress=False),
        "batch_size=-1": lambda: fm.evaluate(ROWS, "{q}", model="gpt2", reference="a", batch_size=-1),
        "batch_size=1e9": lambda: fm.generate_df(ROWS, "{q}", model="gpt2", batch_size=HUGE, progress=False),
        "top_k in evaluate": lambda: fm.evaluate(ROWS, "{q}", model="gpt2", reference="a", top_k=HUGE,
                                                 temperature=0.5, max_new_tokens=2),
        "embed batch": lambda: fm.embed(["a"], model="bert", batch_size=HUGE),
        "predict batch": lambda: fm.predict(["a"], model="bert", batch_size=-1),
        "epochs": lambda: fm.finetune(ROWS, text="q", label="label", model="bert", epochs=1e9),
        "finetune batch": lambda: fm.finetune(ROWS, text="q", label="label", model="bert", batch_size=HUGE),
        "max_length": lambda: fm.finetune(ROWS, text="q", label="label", model="bert", max_length=HUGE),
        "lora_r": lambda: fm.finetune(ROWS, text="q", label="label", model="bert", lora=True, lora_r=HUGE),
        "warmup": lambda: fm.finetune(ROWS, text="q", label="label", model="bert", warmup=HUGE),
    }
    said = {}
    try:
        for name, call in cases.items():
            with pytest.raises(FMError) as info:
                call()
            said[name] = str(info.value)
    finally:
        for hook in hooks:
            hook.remove()
    assert calls == []
    for name, message in said.items():
        assert "\n" not in message and len(message) < 300 and message.rstrip().endswith("."), (name, message)
    assert "at most 400" in said["top_k"] and "at most 4096" in said["batch_size=1e9"]
    assert "at most 256" in said["n"] and "32 dimensions" in said["lora_r"]
    assert registry.names() == ["gpt2", "bert"]  # nothing half-made
