"""``fm.rag``: retrieve passages from an ``Index``, put them in a prompt, and generate the answer.

The prompt is filled with ``core.prompting.template.fill`` (passages and question are values, never parsed
as placeholders), then goes through ``core.prompting.generate.generate_text`` — the chat template for chat
models, the same streaming and bookkeeping as ``fm.generate``.  The answer keeps the sources it
was given and the prompt exactly as the model received it, so a reader can check one against
the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ...errors import BadArgumentError
from ...records import RunRecord
from ...render.retrieval import rag_bundle
from ..models.registry import get_model
from ..prompting import template as templates
from ..prompting.generate import Generation, check_prompt, generate_text
from .index import check_k, get_index

DEFAULT_PROMPT = (
    "Answer the question using only the numbered passages below.\n\n"
    "{context}\n\n"
    "Question: {question}\n"
    "Answer:"
)


@dataclass(eq=False)
class RagAnswer(Generation, look=rag_bundle):
    """A ``Generation`` with the ``question`` asked and the retrieved ``sources`` (rows with ``score``)."""

    question: str = ""
    sources: Any = None
    text_column: str = "text"


def numbered(passages: list[str]) -> str:
    """``[1] first passage`` / ``[2] second passage`` ..., one per line."""
    return "\n".join(f"[{i}] {p}" for i, p in enumerate(passages, 1))


def resolve_template(prompt: str | None) -> str:
    """The template text: ``prompt`` itself, a saved version ``"name@N"``, or the default."""
    if prompt is None:
        return DEFAULT_PROMPT
    from ..prompting.versions import PromptVersion, get_prompt, is_prompt_id

    if isinstance(prompt, PromptVersion):
        prompt = prompt.template
    elif isinstance(prompt, str) and is_prompt_id(prompt):
        prompt = get_prompt(prompt).template
    check_prompt(prompt, what="prompt template")
    missing = [f for f in ("context", "question") if f not in templates.fields(prompt)]
    if missing:
        raise BadArgumentError(
            f"The RAG prompt has no {{{missing[0]}}} placeholder; put {{context}} where the "
            "passages go and {question} where the question goes."
        )
    return prompt


def rag_answer(
    question: str,
    *,
    index: Any,
    model: Any = None,
    k: int = 3,
    prompt: str | None = None,
    on_text: Callable[[list[str]], None] | None = None,
    **generation: Any,
) -> RagAnswer:
    """Answer ``question`` from the ``k`` passages of ``index`` nearest to it, with a decoder.

    ``index`` is an ``Index`` or the name it was registered under; ``prompt`` a template with
    ``{context}`` and ``{question}`` (or a saved prompt id ``"name@N"``; default
    ``DEFAULT_PROMPT``); other keywords are those of ``fm.generate``.  An API-served ``model``
    gets the filled prompt as the user's message, like ``fm.generate`` sends it.
    """
    found = get_index(index)
    check_prompt(question, what="question")
    get_model(model, "generate")  # a non-decoder fails before anything is retrieved
    check_k(k, len(found))
    filled_template = resolve_template(prompt)
    sources = found.search(question, k=k)
    text = templates.fill(
        filled_template, {"context": numbered(sources[found.text].tolist()), "question": question}
    )
    answer = generate_text(text, model, on_text=on_text, **generation)
    values = {f.name: getattr(answer, f.name) for f in fields(Generation)}
    values["record"] = RunRecord.for_model(
        "rag",
        get_model(model),
        {
            **answer.record.params,
            "k": k,
            "index": found.name or found.path,
            "question": question,
            "prompt": prompt if isinstance(prompt, str) else None,
        },
        seed=answer.record.seed,
        usage=[answer.usage],  # an API-served model's accounting, and the model id its server ran
    )
    return RagAnswer(**values, question=question, sources=sources, text_column=found.text)
