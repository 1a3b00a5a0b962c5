"""fm.Chat driven headless: two messages, Stop, clear, copy as cell, export, escaped static picture."""

import json

import fmwidgets as fm
from fmwidgets.widgets.chat import Chat


def test_two_messages_build_one_conversation(chat_gpt2):
    box = Chat(max_new_tokens=4, greedy=True)
    assert box.send(message="hello <b>there</b>")
    assert not box.send(message="ignored while running")  # one reply at a time
    box.wait(60)
    box.send(message="again")
    box.wait(60)
    assert [m["role"] for m in box.conversation] == ["user", "assistant", "user", "assistant"]
    direct = fm.chat("again", conversation=box.conversation[:2], max_new_tokens=4, greedy=True, stream=False)
    assert box.conversation[-1]["content"] == direct.text
    assert "&lt;b&gt;there&lt;/b&gt;" in box.view.value and "<b>there" not in box.view.value
    picture = box.static_picture()
    assert "fm-chat" in picture["text/html"] and "<b>there" not in picture["text/html"]
    assert picture["text/plain"] == "chat · chat: 4 messages"
    assert json.loads(box.export()) == box.conversation
    cells = box.copy_as_cell().split("\n\n")
    assert cells[0].startswith("%%fm chat --model chat --max-new-tokens 4 --greedy --new")
    assert cells[1].endswith("\nagain")


def test_stop_keeps_the_partial_reply_and_clear_starts_over(chat_gpt2):
    box = Chat(max_new_tokens=100, greedy=True)
    box.view.observe(lambda change: box.stop_button.click(), names="value")
    box.send(message="hello")
    box.wait(60)
    assert box.replies[0].stopped == "stopped" and box.replies[0].steps < 100
    box.clear()
    assert box.conversation == [] and box.view.value == ""


def test_a_conversation_with_an_api_model_and_stop(api_model, served_local, proxy):
    box = Chat(model="srv", max_new_tokens=5, greedy=True, system="be brief")
    for message in ("hello", "and then"):
        box.send(message=message)
        box.wait(60)
    assert [m["role"] for m in box.conversation] == ["system", "user", "assistant", "user", "assistant"]
    here = fm.chat(
        "and then",
        model="local",
        conversation=box.conversation[:3],
        max_new_tokens=5,
        greedy=True,
        stream=False,
    )
    assert box.conversation[-1]["content"] == here.text  # greedy through the server equals in-process
    assert json.loads(proxy.log[-1][2])["messages"] == box.conversation[:4]
    assert box.copy_as_cell().startswith("%%fm chat --model srv --max-new-tokens 5 --greedy --new --system")
    box.clear()
    box.generation["max_new_tokens"] = 300
    box.view.observe(lambda change: box.stop_button.click(), names="value")  # Stop at the first text
    box.send(message="hello")
    box.wait(60)
    (reply,) = box.replies
    whole = fm.chat("hello", model="srv", system="be brief", max_new_tokens=300, greedy=True, stream=False)
    assert reply.stopped == "stopped" and box.status.value == "stopped" and reply.text
    assert whole.text.startswith(reply.text) and len(reply.text) < len(whole.text)
    assert box.conversation[-1] == {"role": "assistant", "content": reply.text}


def test_its_saved_picture_is_text_without_plotly_js(chat_gpt2, ip, monkeypatch):
    """The chat window's plain output holds no figure, so displaying it does not embed plotly.js
    (4 MB) in a notebook that has no figure; a figure's plain output still does."""
    from IPython.utils.capture import capture_output

    from fmwidgets.widgets import fallback

    published = []
    monkeypatch.setattr(fallback, "plotly_js_once", lambda: published.append("plotly.js"))
    with capture_output() as shown:
        Chat(max_new_tokens=4, greedy=True)._ipython_display_()
    assert published == [] and any("fm-chat" in o.data.get("text/html", "") for o in shown.outputs)
    with capture_output():
        fallback.PlainOutput().show({"text/html": "<div>figure</div>", "text/plain": "figure"})
    assert published == ["plotly.js"]
