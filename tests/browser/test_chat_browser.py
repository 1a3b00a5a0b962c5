"""The chat window in JupyterLab: two messages typed and sent make four bubbles, text shown as written."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SETUP = "%load_ext fmwidgets\nimport fmwidgets as fm\nfrom fmwidgets import testing"


def test_chat_window_sends_two_messages(notebook):
    nb = notebook([
        SETUP,
        "fm.load(str(testing.tiny_chat_gpt2('tiny-chat', context=256)), as_='chat')",
        "box = fm.Chat('chat', max_new_tokens=8, greedy=True)\nbox",
    ])
    nb.run_all()
    out = nb.cell_output(2)
    message = out.locator("textarea").first
    send = out.locator("button", has_text="Send")
    # The widget's bubbles; the saved picture beside it (StaticBeside) holds the same bubbles, hidden
    # while the widget renders.
    bubbles = out.locator(".fm-chat-msg").filter(visible=True)
    for i, text in enumerate(["hello <b>there</b>", "and again"]):
        message.fill(text)
        send.click()
        nb.page.wait_for_function("([el, n]) => [...el.querySelectorAll('.fm-chat-msg')]"
                                  ".filter(b => b.offsetParent !== null).length >= n",
                                  arg=[out.element_handle(), 2 * (i + 1)], timeout=60_000)
        nb.page.wait_for_function("b => !b.disabled", arg=send.element_handle(), timeout=60_000)
    nb.screenshot("chat-two-messages")
    roles = [b.get_attribute("class").split("fm-chat-")[-1] for b in bubbles.all()]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert out.locator(".fm-chat-msg").count() == 8  # the saved picture has them too, kept up to date
    first = out.locator(".fm-chat-user").filter(visible=True).first
    assert "hello <b>there</b>" in first.text_content() and first.locator("b").count() == 0
    nb.assert_clean()
