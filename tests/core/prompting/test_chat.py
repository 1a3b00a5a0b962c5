"""fm.chat: prompt ids are the chat template's, greedy replies equal model.generate, bad input."""

import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.prompting.chat import ChatReply
from fmwidgets.errors import BadArgumentError, DataError


def templated(handle, messages):
    return list(handle.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                     return_dict=False))


def test_prompt_ids_equal_the_chat_template_for_one_and_two_turns(chat_gpt2):
    first = fm.chat("hello there", max_new_tokens=4, greedy=True, stream=False)
    assert isinstance(first, ChatReply)
    one = [{"role": "user", "content": "hello there"}]
    assert first.prompt_ids == templated(chat_gpt2, one)
    assert list(first.conversation) == one + [{"role": "assistant", "content": first.text}]
    second = fm.chat("and now?", conversation=first.conversation, max_new_tokens=4, greedy=True, stream=False)
    two = list(first.conversation) + [{"role": "user", "content": "and now?"}]
    assert second.prompt_ids == templated(chat_gpt2, two)
    assert len(second.conversation) == 4 and second.conversation[-1]["role"] == "assistant"


def test_greedy_reply_equals_model_generate_on_the_templated_ids(chat_gpt2):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "the cat sat"}]
    reply = fm.chat("the cat sat", system="be brief", max_new_tokens=12, greedy=True, stream=False)
    ids = templated(chat_gpt2, messages)
    with torch.inference_mode():
        out = chat_gpt2.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                       max_new_tokens=12, do_sample=False,
                                       pad_token_id=chat_gpt2.tokenizer.pad_token_id)
    new = out[0, len(ids):].tolist()
    eos = chat_gpt2.tokenizer.eos_token_id
    new = new[: new.index(eos)] if eos in new else new
    assert reply.token_ids == new
    assert reply.text == chat_gpt2.tokenizer.decode(new, skip_special_tokens=True)
    assert reply.record.kind == "chat" and reply.prompt_ids == ids


def test_token_probs_and_logit_lens_work_on_a_reply(chat_gpt2):
    reply = fm.chat("hello", max_new_tokens=5, greedy=True, stream=False)
    probs = fm.token_probs(reply)
    assert probs.ids == reply.prompt_ids + reply.token_ids
    assert probs.generated.count(True) == len(reply.token_ids)
    lens = fm.logit_lens(reply)
    assert len(lens.tokens) == len(reply.prompt_ids) + len(reply.token_ids)


def test_model_without_template_says_how_to_pass_one(gpt2):
    with pytest.raises(BadArgumentError, match="chat_template="):
        fm.chat("hi", stream=False)
    reply = fm.chat("hi", chat_template="{% for m in messages %}{{ m['content'] }}{% endfor %}",
                    max_new_tokens=3, greedy=True, stream=False)
    assert reply.prompt_ids == gpt2.tokenizer("hi")["input_ids"]


def test_bad_conversations_are_one_sentence_and_nothing_is_unloaded(chat_gpt2, gpt2):
    fm.use("chat")
    with pytest.raises(DataError, match="role 'wizard'"):
        fm.chat("hi", conversation=[{"role": "wizard", "content": "x"}], stream=False)
    with pytest.raises(DataError, match="Message 0"):
        fm.chat("hi", conversation=["not a message"], stream=False)
    other = fm.chat("hi", model="gpt2", chat_template="{{ messages[0]['content'] }}", max_new_tokens=2,
                    greedy=True, stream=False)
    with pytest.raises(BadArgumentError, match="held with"):
        fm.chat("hi", model="chat", conversation=other.conversation, stream=False)
    with pytest.raises(DataError, match="empty"):
        fm.chat("   ", stream=False)
    assert set(fm.models()["name"]) == {"chat", "gpt2"}


def test_reply_display_escapes_and_renders_markdown_safely(chat_gpt2):
    from fmwidgets.render.chat import conversation_html

    page = conversation_html([{"role": "user", "content": "<script>alert(1)</script>"},
                              {"role": "assistant", "content": "**bold** <img src=x onerror=alert(1)> "
                                                               "[x](javascript:alert(1))"}])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<strong>bold</strong>" in page and "<img" not in page and 'href="javascript' not in page
    reply = fm.chat("hello", max_new_tokens=3, greedy=True, stream=False)
    data, meta = reply._repr_mimebundle_()
    assert "fm-chat" in data["text/html"] and meta["fmwidgets"]["kind"] == "chat"


def test_a_conversation_too_long_for_the_context_says_to_start_over(chat_gpt2):
    with pytest.raises(DataError, match="start a new conversation"):
        fm.chat("the cat sat on the mat " * 30, max_new_tokens=8, stream=False)
