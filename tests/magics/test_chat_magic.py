"""%%fm chat keeps one conversation per model; --new starts over; flags go to fm.chat."""

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

