"""Chat with an instruction-tuned model through its own chat template: ``chat_reply()`` -> ``ChatReply``.

A chat model only answers well when the conversation is laid out exactly as it was trained:
the tokenizer's chat template does that (``apply_chat_template(messages,
add_generation_prompt=True)``), and its token ids go to ``generate.run_batch`` unchanged (no
second tokenization, so no doubled beginning-of-text token).  The reply is a ``Generation`` (token
probabilities, the logit lens, streaming and Stop work as for ``fm.generate``) that also carries
the conversation so far, which the next turn passes back as ``conversation=``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...errors import BadArgumentError, DataError
from ...render.chat import reply_bundle
from ...signatures import expands
from ..models.registry import ModelHandle, get_model
from .generate import Generation, check_prompt, run_batch, to_generation
from .sampling import Sampling

CHAT_MAX_NEW_TOKENS = 256  # a chat reply's default length: chat models answer at more length

ROLES = ("system", "user", "assistant", "tool")


class Conversation(list):
    """A list of ``{"role", "content"}`` messages that remembers which model it was held with."""

    def __init__(self, messages: Sequence[dict] = (), model_id: str | None = None) -> None:
        super().__init__(messages)
        self.model_id = model_id


@dataclass(eq=False)
class ChatReply(Generation, look=reply_bundle):
    """One chat turn: the ``Generation`` of the reply plus the whole ``conversation`` after it."""

    conversation: Conversation


def check_messages(messages: Any) -> list[dict[str, str]]:
    """The messages as plain dicts, or one sentence about the first one that is not a message."""
    if not isinstance(messages, (list, tuple)):
        raise DataError(
            f"A conversation is a list of {{'role', 'content'}} messages, not "
            f"{type(messages).__name__}; pass reply.conversation from the previous turn."
        )
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or "role" not in m:
            raise DataError(
                f"Message {i} of the conversation is not a {{'role': ..., 'content': text}} "
                "dict; fix it or start a new conversation."
            )
        if m["role"] not in ROLES:
            raise DataError(
                f"Message {i} has the role {str(m['role'])[:40]!r}, which chat templates do not "
                f"know; use one of {', '.join(ROLES)}."
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


def chat_prompt_ids(handle: ModelHandle, messages: list[dict], chat_template: str | None = None) -> list:
    """The token ids of ``messages`` laid out by the chat template, ending with the reply's start
    (an API-served model's server lays them out itself: the messages are sent as they are)."""
    if handle.backend is not None:
        from ..models.remote.generation import check_template

        check_template(handle, chat_template)
        return messages
    tok = handle.tokenizer
    if not (chat_template or getattr(tok, "chat_template", None)):
        raise BadArgumentError(
            f"Model '{handle.name}' has no chat template, so fmwidgets cannot tell how it expects a "
            "conversation; pass one as chat_template='{% for m in messages %}...' (Jinja), or use "
            "fm.generate for plain text."
        )
    ids = tok.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=False, chat_template=chat_template
    )
    return list(ids)


@expands(Sampling, "sampling", without=("n",), max_new_tokens=CHAT_MAX_NEW_TOKENS)
def chat_reply(
    message: str,
    *,
    model: str | ModelHandle | None = None,
    conversation: Sequence[dict] | None = None,
    system: str | None = None,
    sampling: Sampling,
    chat_template: str | None = None,
    on_text: Callable[[list[str]], None] | None = None,
    stop_event: threading.Event | None = None,
) -> ChatReply:
    """Send ``message`` to a chat model and return its reply with the conversation so far.

    ``conversation`` is ``reply.conversation`` of the previous turn (or any list of messages);
    ``system`` adds a system message at the start of a new conversation.  Decoding keywords are
    those of ``fm.generate`` (``Sampling``), one reply each.  A conversation held with another
    model is refused, because its turns were laid out by that model's template.
    """
    handle = get_model(model, "generate")
    sampling.check(streaming=on_text is not None)
    check_prompt(message, what="message")
    if isinstance(conversation, Conversation) and conversation.model_id not in (None, handle.model_id):
        raise BadArgumentError(
            f"This conversation was held with '{conversation.model_id}', not '{handle.model_id}'; start a "
            "new one (conversation=None, or %%fm chat --new) or pass list(reply.conversation) to replay it."
        )
    history = check_messages(list(conversation or []))
    if system is not None and not any(m["role"] == "system" for m in history):
        history.insert(0, {"role": "system", "content": system})
    messages = history + [{"role": "user", "content": message}]
    ids = chat_prompt_ids(handle, messages, chat_template)
    context, room = handle.context_length, sampling.max_new_tokens
    if context is not None and len(ids) + room > context:
        raise DataError(
            f"The conversation has {len(ids)} tokens, and {room} more do not fit in the context of "
            f"'{handle.name}' ({context}); start a new conversation (conversation=None, %%fm chat --new) "
            "or ask for fewer new tokens."
        )
    sampling = sampling.resolve(handle)
    (res,) = run_batch(handle, [ids], sampling, strict=True, on_text=on_text, stop_event=stop_event)
    params = sampling.params()
    del params["n"]  # one reply per turn
    params.update(system=system, turns=len(messages), **sampling.extra)
    gen = to_generation(handle, res, ids, params, sampling.seed)
    gen.record.kind = "chat"
    fields = {k: getattr(gen, k) for k in Generation.__dataclass_fields__}
    reply = Conversation(messages + [{"role": "assistant", "content": gen.text}], model_id=handle.model_id)
    return ChatReply(**fields, conversation=reply)
