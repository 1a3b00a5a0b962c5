"""fm.generate on tiny real decoders: same tokens as model.generate, seeds, chat, errors."""

import dataclasses
import threading
import warnings

import pytest
import torch

import fmwidgets as fm
import fmwidgets.testing
from fmwidgets.notices import FMWarning
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.core.prompting.scoring import sequence_logprobs
from fmwidgets.errors import BadArgumentError, DataError, InterpolationError, WrongFamilyError


def plain_generate(handle, prompt, **kwargs):
    tok = handle.tokenizer
    enc = tok(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = handle.model.generate(**enc, pad_token_id=tok.pad_token_id, **kwargs)
    return out[:, enc["input_ids"].shape[1]:].tolist()


def test_greedy_is_token_for_token_model_generate(gpt2):
    gen = generate_text("the cat sat on", max_new_tokens=20, greedy=True)
    assert gen.token_ids == plain_generate(gpt2, "the cat sat on", max_new_tokens=20, do_sample=False)[0]
    assert gen.text == gpt2.tokenizer.decode(gen.token_ids, skip_special_tokens=True)
    assert gen.stopped == "length" and gen.steps == 20 and len(gen.tokens) == 20
    assert gen.prompt == "the cat sat on" and gen.tokens_per_s > 0


def test_passthrough_keywords_reach_model_generate(gpt2):
    gen = generate_text("the dog", max_new_tokens=15, greedy=True, repetition_penalty=1.5, no_repeat_ngram_size=2)
    ref = plain_generate(gpt2, "the dog", max_new_tokens=15, do_sample=False, repetition_penalty=1.5,
                         no_repeat_ngram_size=2)[0]
    assert gen.token_ids == ref
    assert gen.record.params["repetition_penalty"] == 1.5


def test_same_seed_same_samples_and_seed_is_recorded(gpt2):
    a = generate_text("the weather", max_new_tokens=12, temperature=1.3, top_k=50, seed=7, n=3)
    b = generate_text("the weather", max_new_tokens=12, temperature=1.3, top_k=50, seed=7, n=3)
    c = generate_text("the weather", max_new_tokens=12, temperature=1.3, top_k=50, seed=8, n=3)
    assert a.texts == b.texts and len(a.texts) == 3
    assert a.texts != c.texts
    unseeded = generate_text("the weather", max_new_tokens=12, temperature=1.3)
    assert isinstance(unseeded.record.seed, int)  # picked, recorded: the run can be repeated
    again = generate_text("the weather", max_new_tokens=12, temperature=1.3, seed=unseeded.record.seed)
    assert again.text == unseeded.text


def test_logprobs_match_a_forward_pass(gpt2):
    gen = generate_text("one two three", max_new_tokens=8, greedy=True)
    ref = sequence_logprobs(gpt2, gen.prompt_ids, gen.token_ids)
    assert gen.logprobs == pytest.approx(ref, abs=1e-4)


def test_stop_strings_end_the_text(gpt2):
    free = generate_text("the cat", max_new_tokens=20, greedy=True)
    word = free.text.strip().split()[1] if len(free.text.split()) > 1 else free.text[2:4]
    gen = generate_text("the cat", max_new_tokens=20, greedy=True, stop=word)
    assert gen.stopped == "stop"
    assert word not in gen.text and free.text.startswith(gen.text)


def test_streaming_callback_sees_the_text_grow(gpt2):
    seen = []
    gen = generate_text("the cat", max_new_tokens=10, greedy=True, on_text=lambda texts: seen.append(texts[0]))
    assert len(seen) == 10 and seen[-1] == gen.text
    assert all(later.startswith(earlier) for earlier, later in zip(seen, seen[1:]))


def test_interrupt_keeps_the_partial_text(gpt2):
    count = []

    def interrupt_after_four(texts):
        count.append(1)
        if len(count) == 4:
            raise KeyboardInterrupt

    with pytest.warns(FMWarning, match="interrupted"):
        gen = generate_text("the cat", max_new_tokens=30, greedy=True, on_text=interrupt_after_four)
    full = generate_text("the cat", max_new_tokens=30, greedy=True)
    assert gen.stopped == "interrupted" and len(gen.token_ids) == 4
    assert gen.token_ids == full.token_ids[:4]
    assert gen.logprobs == pytest.approx(full.logprobs[:4], abs=1e-4)


def test_stop_event_stops_after_the_current_token(gpt2):
    event = threading.Event()

    def stop_at_three(texts):
        if len(gpt2.tokenizer(texts[0])["input_ids"]) >= 3:
            event.set()

    gen = generate_text("the cat", max_new_tokens=40, greedy=True, on_text=stop_at_three, stop_event=event)
    assert gen.stopped == "stopped" and gen.steps < 40


def test_chat_template_is_applied_when_asked_or_instruction_tuned(chat_gpt2, tmp_path):
    gen = generate_text("hi there", model="chat", chat=True, system="be brief", max_new_tokens=3, greedy=True)
    assert gen.prompt == "system: be brief\nuser: hi there\nassistant:"
    plain = fm.testing.tiny_chat_gpt2(tmp_path / "tiny-templated")  # a template, no instruct name
    fm.load(str(plain), as_="templated")
    assert generate_text("hi", model="templated", max_new_tokens=2, greedy=True).prompt == "hi"
    instruct = fm.testing.tiny_chat_gpt2(tmp_path / "tiny-chat-instruct")
    fm.load(str(instruct), as_="instruct")
    assert generate_text("hi", model="instruct", max_new_tokens=2, greedy=True).prompt == "user: hi\nassistant:"
    assert generate_text("hi", model="instruct", chat=False, max_new_tokens=2, greedy=True).prompt == "hi"


def test_chat_without_template_is_an_error(gpt2):
    with pytest.raises(BadArgumentError, match="no chat template"):
        generate_text("hi", chat=True)
    with pytest.raises(BadArgumentError, match="system message"):
        generate_text("hi", chat=False, system="x")


def test_wrong_family_says_what_the_model_can_do(bert):
    with pytest.raises(WrongFamilyError, match="cannot generate text.*; it can fill a"):
        generate_text("hello")


def test_empty_prompt_and_bad_settings_are_errors(gpt2):
    with pytest.raises(DataError, match="empty"):
        generate_text("   \n")
    with pytest.raises(BadArgumentError, match="n=3"):
        generate_text("hi", greedy=True, n=3)
    with pytest.raises(BadArgumentError, match="temperature"):
        generate_text("hi", temperature=0)
    with pytest.raises(BadArgumentError, match="does not fit in the context"):
        generate_text("hi", max_new_tokens=500)


def test_long_prompt_is_cut_from_the_left_with_a_warning(gpt2):
    long = " ".join(["one two three four"] * 80)
    with pytest.warns(FMWarning, match="kept the last 118"):
        gen = generate_text(long, max_new_tokens=10, greedy=True)
    assert len(gen.prompt_ids) == 118
    assert gen.prompt_ids == gpt2.tokenizer(long)["input_ids"][-118:]
    with pytest.raises(DataError, match="only 118 fit"):
        generate_text(long, max_new_tokens=10, strict=True)


def test_variables_fill_placeholders(gpt2):
    gen = generate_text("the {animal} sat", variables={"animal": "cat"}, max_new_tokens=3, greedy=True)
    assert gen.prompt == "the cat sat"
    with pytest.raises(InterpolationError, match="'plant'"):
        generate_text("the {plant}", variables={}, max_new_tokens=3)


def test_display_is_escaped_text_plus_one_line_with_record(gpt2):
    gen = generate_text("the cat", max_new_tokens=5, greedy=True, seed=1)
    evil = dataclasses.replace(gen, text="<script>alert(1)</script>", texts=["<script>alert(1)</script>"])
    data, meta = evil._repr_mimebundle_()
    assert "<script>" not in data["text/html"] and "&lt;script&gt;" in data["text/html"]
    assert "gpt2 · 5 tokens" in data["text/plain"] and "greedy" in data["text/plain"]
    assert meta["fmwidgets"]["kind"] == "generate" and meta["fmwidgets"]["params"]["max_new_tokens"] == 5


def test_public_generate_records_the_call(gpt2):
    from fmwidgets.provenance.history import entries as history

    fm.generate("the cat", max_new_tokens=3, greedy=True, repetition_penalty=1.2)
    assert history[-1].code == "fm.generate(prompt='the cat', max_new_tokens=3, greedy=True, repetition_penalty=1.2)"
