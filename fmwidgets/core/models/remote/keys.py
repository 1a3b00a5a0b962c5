"""API keys: read from the environment or typed once with getpass, kept in memory only, never shown.

A handle knows the *name* of the variable that holds its key (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY`` or the ``api_key_env=`` given to ``fm.load``), never the key: the key is
looked up when a client is made, and the client lives outside the handle (``backend.py``), so
no record, history entry, repro script, store row or card can hold it.  ``redact`` takes keys out
of any text that came back from a server before it reaches a message or a warning.
"""

from __future__ import annotations

import os
import re

from ....errors import BadArgumentError

# provider -> the variable its SDK reads by default
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

_typed: dict[str, str] = {}  # variable name -> key typed with set_api_key (this process only)
_used: set[str] = set()  # every key handed to a client, so that redact() finds it verbatim
# sk-..., sk-proj-..., sk-ant-..., and "Bearer <token>" in echoed headers
_KEY_SHAPES = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-.=]{8,})")


def variable_for(provider_or_variable: str) -> str:
    """The environment variable a provider's key is read from ('openai' -> OPENAI_API_KEY)."""
    name = KEY_VARIABLES.get(provider_or_variable.lower(), provider_or_variable)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise BadArgumentError(
            f"{name[:40]!r} is neither a provider (openai, anthropic) nor the name of an environment "
            "variable; give the variable's name, e.g. api_key_env='MY_SERVER_KEY', never the key itself."
        )
    return name


def lookup(variable: str) -> str | None:
    """The key for ``variable``: typed with ``set_api_key`` this session, else the environment."""
    key = _typed.get(variable) or os.environ.get(variable) or None
    if key:
        _used.add(key)
    return key


def set_api_key(provider: str) -> None:
    """Ask for the API key of ``provider`` ('openai', 'anthropic', or a variable name such as
    'MY_SERVER_KEY') with getpass, and keep it in this kernel's memory only.

    It is used instead of the environment variable of the same name by models loaded after this
    (and by those already loaded, at their next request).  The key is never echoed, recorded or
    saved; there is deliberately no way to pass it as an argument, which would put it in the
    notebook.
    """
    import getpass

    variable = variable_for(provider)
    key = getpass.getpass(f"API key for {variable} (kept in memory only): ").strip()
    if not key:
        raise BadArgumentError(f"No key was typed for {variable}; call fm.set_api_key({provider!r}) again.")
    _typed[variable] = key  # clients made with an older key make new ones at their next request
    _used.add(key)


def redact(text: str) -> str:
    """``text`` with every key this session knows, and anything shaped like a key, replaced."""
    known = _used | {os.environ.get(v) or "" for v in KEY_VARIABLES.values()}
    for key in sorted(known, key=len, reverse=True):
        if len(key) >= 4:
            text = text.replace(key, "[key hidden]")
    return _KEY_SHAPES.sub("[key hidden]", text)
