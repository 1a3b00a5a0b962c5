"""`%%fm chat`: talk to a chat model, one conversation per model kept in the kernel.

The conversation lives here, keyed by the model's name, so consecutive cells continue it;
``--new`` starts over.  Everything else is ``fm.chat``.
"""

from __future__ import annotations

import fmwidgets as fm

from .parser import Cell, arg, command, set_variable
from .prompting import GENERATION_ARGS, body_text

_CHAT_FLAGS = (
    "--max-new-tokens",
    "--temperature",
    "--top-p",
    "--top-k",
    "--greedy",
    "--seed",
    "--repetition-penalty",
    "--stop",
    "--system",
    "--out",
)
# model name -> the conversation so far (what the last reply returned)
conversations: dict[str, list] = {}


@command(
    "chat",
    "send the cell body to a chat model through its chat template; the conversation continues",
    arg("--model", metavar="NAME", help="a loaded chat model (default: the current one)"),
    arg("--new", action="store_true", default=False, help="start a new conversation with this model"),
    arg("--no-stream", action="store_true", default=False, help="show the reply only when it is complete"),
    *[a for a in GENERATION_ARGS if a.flags[0] in _CHAT_FLAGS],
    calls="chat",
    cell=Cell.NEEDED,
    passthrough=True,
    group="prompts",
)
def chat(args, cell, shell, **given):
    from ..core.models.registry import get_model

    name = get_model(given.pop("model", None), "generate").name
    if args.new:
        conversations.pop(name, None)
    reply = fm.chat(
        body_text(cell),
        model=name,
        conversation=conversations.get(name),
        stream=False if args.no_stream else None,
        keep=False,
        **given,
    )
    conversations[name] = reply.conversation
    set_variable(shell, args.out, reply)
    return reply
