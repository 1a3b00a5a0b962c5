"""How a chat looks: the conversation as bubbles, the assistant's Markdown rendered safely.

Message text comes from users and models, so it is never pasted into HTML as it is: user and
system messages are escaped; assistant messages go through markdown-it with raw HTML switched
off (``<script>`` stays visible text, ``javascript:`` links are refused by its link check), or are
escaped plainly when markdown-it-py is not installed.  The same HTML is the static picture of
the ``fm.Chat`` widget, so a saved notebook shows the conversation without a kernel.
"""

from __future__ import annotations

import html
from typing import Any

from .style import MONO, MUTED, TEXT, TINT_BLUE, TINT_GREY, TINT_PURPLE, TINT_YELLOW, note

_BUBBLE = {
    "user": f"margin-left:auto;background:{TINT_BLUE}",
    "assistant": f"margin-right:auto;background:{TINT_GREY}",
    "system": f"margin:auto;background:{TINT_YELLOW};font-style:italic",
    "tool": f"margin-right:auto;background:{TINT_PURPLE};font-family:{MONO}",
}


def markdown_html(text: str) -> str:
    """``text`` as safe HTML: Markdown without raw HTML, or escaped text without markdown-it-py."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return f'<div style="white-space:pre-wrap">{html.escape(text)}</div>'
    return MarkdownIt("commonmark", {"html": False}).render(text)


def message_html(message: dict[str, str]) -> str:
    """One bubble; only assistant text is read as Markdown, every other text is escaped."""
    role = message.get("role", "user")
    content = str(message.get("content", ""))
    body = (
        markdown_html(content)
        if role == "assistant"
        else f'<div style="white-space:pre-wrap">{html.escape(content)}</div>'
    )
    style = _BUBBLE.get(role, _BUBBLE["user"])
    return (
        f'<div class="fm-chat-msg fm-chat-{html.escape(role)}" style="max-width:80%;padding:4px 10px;'
        f'border-radius:10px;margin:4px 0;color:{TEXT};{style}"><div style="font-size:10px;color:{MUTED}">'
        f"{html.escape(role)}</div>{body}</div>"
    )


def conversation_html(messages: list[dict[str, str]]) -> str:
    """The whole conversation as a column of bubbles."""
    inner = "".join(message_html(m) for m in messages)
    return f'<div class="fm-chat" style="display:flex;flex-direction:column;max-width:720px">{inner}</div>'


def reply_bundle(reply: Any) -> dict[str, Any]:
    return {
        "text/plain": f"{reply.text}\n— {reply.summary()}",
        "text/html": conversation_html(list(reply.conversation)) + note(reply.summary()),
    }
