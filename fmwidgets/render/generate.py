"""How generated text looks: a finished ``Generation``, and the text while it streams."""

from __future__ import annotations

import numbers
from typing import Any

from .style import note as note_html
from .style import pre


def numbered(texts: list[str]) -> list[str]:
    """One text as is; several as ``[1] ...``, ``[2] ...``."""
    return list(texts) if len(texts) == 1 else [f"[{i + 1}] {t}" for i, t in enumerate(texts)]


def text_bundle(texts: list[str], note: str = "", css_class: str = "fm-stream") -> dict[str, str]:
    """A mimebundle showing ``texts`` (escaped), with an optional muted note under them."""
    bodies = numbered(texts)
    foot = note_html(note) if note else ""
    return {
        "text/plain": "\n".join(bodies) + (f"\n{note}" if note else ""),
        "text/html": f'<div class="{css_class}">{"".join(pre(b) for b in bodies)}{foot}</div>',
    }


def dollars(cost: Any, unknown: str = "cost unknown (no price set)") -> str:
    """A cost as every view shows it ("$0.000010"), or ``unknown`` where no price was set (NaN):
    never $0."""
    return f"${cost:.6f}" if isinstance(cost, numbers.Real) and cost == cost else unknown


def money(usage: dict[str, Any] | None) -> str:
    """An API reply's cost as shown beside it; "" for a local model's (no ``usage``)."""
    return dollars(usage.get("cost")) if usage else ""


def generation_bundle(result: Any) -> dict[str, str]:
    return text_bundle(result.texts, "— " + result.summary(), css_class="fm-generation")


def code_bundle(texts: list[str], language: str, note: str = "") -> dict[str, str]:
    """``texts`` as highlighted code (pygments, inline styles: its formatter escapes the text)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    lexer = code_lexer(language)
    bodies = numbered(texts)
    blocks = "".join(highlight(b, lexer, HtmlFormatter(noclasses=True, nowrap=False)) for b in bodies)
    foot = note_html(note) if note else ""
    return {
        "text/plain": "\n".join(bodies) + (f"\n{note}" if note else ""),
        "text/html": f'<div class="fm-code">{blocks}{foot}</div>',
    }


def code_lexer(language: str):
    """The pygments lexer for ``language``, or one sentence when pygments does not know it."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    from ..errors import BadArgumentError

    try:
        return get_lexer_by_name(language)
    except ClassNotFound as exc:
        raise BadArgumentError(
            f"'{language}' is not a language the highlighter knows; use a name such as "
            "python, sql, javascript, bash or json."
        ) from exc
