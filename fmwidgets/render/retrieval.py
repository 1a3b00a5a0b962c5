"""How an index and a retrieval-augmented answer look.

An ``Index`` shows a card: its size, the model that made its vectors, exact or ANN search, and
its first rows.  A ``RagAnswer`` shows the answer, then the passages it was given with their
scores, each passage's words that also occur in the answer marked, so a reader sees at a glance
what the answer leaned on.  Every piece of text (passages, answer, question) is escaped.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .evaluation import _table
from .style import MUTED, note

PREVIEW_ROWS = 3
_WORD = re.compile(r"\w+", re.UNICODE)
_MIN_WORD = 3  # shorter words ("a", "of") match everywhere and mean nothing


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def highlighted(passage: str, answer: str) -> str:
    """``passage`` escaped, with its words that also occur in ``answer`` wrapped in <mark>."""
    words = {w.lower() for w in _WORD.findall(answer) if len(w) >= _MIN_WORD}
    out, last = [], 0
    for match in _WORD.finditer(passage):
        if match.group().lower() in words:
            out.append(html.escape(passage[last : match.start()]))
            out.append(f"<mark>{html.escape(match.group())}</mark>")
            last = match.end()
    out.append(html.escape(passage[last:]))
    return "".join(out)


def index_bundle(index: Any) -> dict[str, Any]:
    title = f"Index {index.name!r}" if index.name else "Index"
    head = index.table.head(PREVIEW_ROWS).drop(columns=["vector"]).to_pandas() if len(index) else None
    plain = f"{title}: {index.summary()} · {index.path}"
    body = ""
    if head is not None:
        body = _table(
            [_e(c) for c in head.columns], [[_e(v) for v in row] for row in head.itertuples(index=False)]
        )
    return {
        "text/plain": plain,
        "text/html": f"<div class='fm-index'><p><b>{_e(title)}</b> · {_e(index.summary())}<br>"
        f"<span style='font-size:11px;color:{MUTED}'>{_e(index.path)}</span></p>{body}</div>",
    }


def rag_bundle(answer: Any) -> dict[str, Any]:
    column = answer.text_column
    sources = answer.sources
    rows = [
        [str(i), f"{score:.3f}", highlighted(str(passage), answer.text)]
        for i, (passage, score) in enumerate(zip(sources[column], sources["score"]), 1)
    ]
    plain_sources = "\n".join(
        f"[{i}] ({s:.3f}) {p}" for i, (p, s) in enumerate(zip(sources[column], sources["score"]), 1)
    )
    return {
        "text/plain": f"{answer.text}\n— {answer.summary()}\nSources:\n{plain_sources}",
        "text/html": (
            f"<div class='fm-rag'><pre style='white-space:pre-wrap;margin:0 0 4px 0'>{_e(answer.text)}</pre>"
            f"{note(answer.summary())}"
            f"<p style='margin:8px 0 2px 0'><b>Sources</b> for {_e(answer.question)}</p>"
            f"{_table(['#', 'score', _e(column)], rows)}</div>"
        ),
    }
