"""%%fm chat keeps one conversation per model; --new starts over; flags go to fm.chat."""

import json
import os
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from fmwidgets.magics import chat as chat_magic


@pytest.fixture(autouse=True)
def fresh():
    chat_magic.conversations.clear()
    yield
    chat_magic.conversations.clear()


def test_chat_magic_continues_the_conversation_and_new_restarts(chat_gpt2, ip):
    first = ip.run_cell_magic("fm", "chat --greedy --max-new-tokens 3 --system 'be kind' --no-stream", "hello\n")
    assert [m["role"] for m in first.conversation] == ["system", "user", "assistant"]
    assert first.conversation[1]["content"] == "hello"
    second = ip.run_cell_magic("fm", "chat --greedy --max-new-tokens 3 --no-stream --out r", "again")
    assert [m["role"] for m in second.conversation] == ["system", "user", "assistant", "user", "assistant"]
    assert ip.user_ns["r"] is second
    third = ip.run_cell_magic("fm", "chat --new --greedy --max-new-tokens 3 --no-stream", "fresh")
    assert [m["role"] for m in third.conversation] == ["user", "assistant"]


def test_chat_magic_needs_a_body(chat_gpt2, ip):
    with pytest.raises(UsageError):
        ip.run_cell_magic("fm", "chat", "")



def test_an_interrupt_keeps_the_partial_reply_of_an_api_model(api_model, proxy, ip):
    """A real SIGINT (what the kernel's Interrupt sends) while a slow server is answering."""
    whole = ip.run_cell_magic("fm", "chat --model srv --greedy --max-new-tokens 100 --new", "the cat sat").text
    chat_magic.conversations.clear()
    proxy.reset({1: "slow"})  # 100 tokens, one every SLOW_PAUSE (0.05 s): about 5 s to answer

    answering = threading.Event()

    def interrupt(signum, frame):  # Python's own handler, but only while the reply is on its way
        if answering.is_set():
            raise KeyboardInterrupt

    def interrupt_once_answering():
        while proxy.count("/chat/completions") == 0:
            time.sleep(0.01)
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGINT)

    before = signal.signal(signal.SIGINT, interrupt)
    timer = threading.Thread(target=interrupt_once_answering)
    timer.start()
    try:
        answering.set()
        with pytest.warns(Warning, match="kept the partial text"):
            reply = ip.run_cell_magic("fm", "chat --model srv --greedy --max-new-tokens 100", "the cat sat")
        answering.clear()
    except KeyboardInterrupt:
        pytest.fail("the interrupt was not caught by the streaming reply")
    finally:
        answering.clear()
        timer.join()
        signal.signal(signal.SIGINT, before)
    assert reply.stopped == "interrupted" and reply.text and whole.startswith(reply.text)
    assert len(reply.text) < len(whole)
    assert chat_magic.conversations["srv"][-1] == {"role": "assistant", "content": reply.text}
    assert json.loads(proxy.log[-1][2])["stream"] is True  # streamed, though nothing was shown
