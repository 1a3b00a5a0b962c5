"""Magic flags take their defaults from the API's signatures instead of repeating them."""

from __future__ import annotations

import inspect

from fmwidgets.core.prompting.chat import chat_reply
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.core.retrieval.rag import rag_answer
from fmwidgets.magics import chat, evaluation, prompting, retrieval  # noqa: F401 - they register the commands
from fmwidgets.magics.parser import COMMANDS


def default(func, name):
    return inspect.signature(func).parameters[name].default


def test_unset_generation_flags_leave_the_api_defaults_in_place():
    given = {"prompt": [], "chat": [], "eval": ["data"], "rag": ["--index", "docs"]}
    parsed = {name: COMMANDS[name].parser.parse_args(words) for name, words in given.items()}
    assert all(args.max_new_tokens is None for args in parsed.values())
    assert [prompting.generation_params(parsed[n], {}) for n in ("prompt", "eval", "rag")] == [{}, {}, {}]
    # the help says which default applies: a chat reply's is not fm.generate's
    assert default(chat_reply, "max_new_tokens") != default(generate_text, "max_new_tokens")
    assert f"(default {default(generate_text, 'max_new_tokens')})" in COMMANDS["prompt"].parser.format_help()
    assert f"(default {default(chat_reply, 'max_new_tokens')})" in COMMANDS["chat"].parser.format_help()
    assert parsed["rag"].k == default(rag_answer, "k")
