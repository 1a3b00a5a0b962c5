"""Magic flags take their defaults from the API's signatures instead of repeating them."""

from __future__ import annotations

import argparse
import inspect

import fmwidgets as fm
from fmwidgets.core.prompting.chat import chat_reply
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.magics.magics import load_commands
from fmwidgets.magics.parser import COMMANDS, parse


def default(func, name):
    return inspect.signature(func).parameters[name].default


def shortest_line(cmd) -> list[str]:
    """The required positionals and options of ``cmd``, each given the word x."""
    words = []
    for action in cmd.parser._actions:
        if not action.option_strings and action.nargs in (None, "+"):
            words.append("x")
        elif action.option_strings and action.required:
            words += [action.option_strings[0], "x"]
    return words


def test_an_unset_flag_is_left_out_of_every_call():
    """Whatever the subcommand, a line without a flag passes no keyword for it, so the public
    function's own default applies (no magic keeps a copy of it)."""
    load_commands()
    for name, cmd in COMMANDS.items():
        _, given = parse(cmd, shortest_line(cmd))
        required = {a.dest for a in cmd.parser._actions if a.option_strings and a.required}
        assert set(given) == required, name


def test_no_flag_states_a_default_of_its_own_for_an_api_keyword():
    load_commands()
    for name, cmd in COMMANDS.items():
        functions = [getattr(fm, f) for f in cmd.parser.calls]
        assert functions or not any(a.default is argparse.SUPPRESS and a.option_strings
                                    for a in cmd.parser._actions if a.dest != "help"), name
        keywords = {p for f in functions for p in inspect.signature(f).parameters}
        for action in cmd.parser._actions:
            if action.dest in keywords and action.option_strings:
                # None: the handler reads it itself (--template is generate_df's positional argument)
                assert action.default in (argparse.SUPPRESS, None), (name, action.dest, action.default)


def test_the_help_shows_the_default_of_the_function_called():
    load_commands()
    # a chat reply's default is not fm.generate's, and each command's help says its own
    assert default(chat_reply, "max_new_tokens") != default(generate_text, "max_new_tokens")
    assert f"(default {default(generate_text, 'max_new_tokens')})" in COMMANDS["prompt"].parser.format_help()
    assert f"(default {default(chat_reply, 'max_new_tokens')})" in COMMANDS["chat"].parser.format_help()
    fill = " ".join(COMMANDS["fill"].parser.format_help().split())
    assert f"--top-k K default {default(fm.fill_mask, 'top_k')}" in fill
    rag = " ".join(COMMANDS["rag"].parser.format_help().split())
    assert f"passages to retrieve (default {default(fm.rag, 'k')})" in rag


def test_every_help_can_be_shown():
    load_commands()
    for name, cmd in COMMANDS.items():
        assert cmd.parser.prog in cmd.parser.format_help(), name
