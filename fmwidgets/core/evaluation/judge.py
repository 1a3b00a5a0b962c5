"""A model as judge: ``fm.judge(model="qwen", rubric="Is the answer correct and polite?")``.

The judge is a decoder prompted, per row, with the rubric, the input, the output and the
reference, asking for a score on ``scale``; it answers greedily through the same cached,
batched generation as the evaluated model (and the chat template when its tokenizer has one).
The first number in its reply that lies on the scale is the score.  A reply with no such number
is NaN, never a guessed value, and its text is kept in ``judge_reason`` so the failure can be
read; the summary counts the failures.  Before a judge is trusted, compare it with people:
``evaluation.agreement("judge", "human")``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ...errors import BadArgumentError
from ...records import recorded
from ..models.registry import get_model
from ..prompting.generate import render_prompt, sampling_settings
from .evaluators import Evaluator
from .generation import generate_cached

DEFAULT_RUBRIC = "Is the answer correct, complete and relevant to the input?"
_TEMPLATE = (
    "You are grading an answer.\nCriteria: {rubric}\n\nInput:\n{input}\n\nAnswer:\n{output}\n"
    "{reference}\nGive a score from {low} (worst) to {high} (best). Reply with the number only.\n"
    "Score:"
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_score(reply: str, low: float, high: float) -> float:
    """The first number in ``reply`` within [low, high], else NaN."""
    for found in _NUMBER.findall(reply or ""):
        value = float(found)
        if low <= value <= high:
            return value
    return math.nan


@dataclass
class Judge(Evaluator):
    """An evaluator that asks a decoder for a score; columns ``<name>`` and ``judge_reason``."""

    model: Any = None
    rubric: str = DEFAULT_RUBRIC
    scale: tuple[float, float] = (1, 5)
    max_new_tokens: int = 8

    def check(self, handle: Any) -> None:
        get_model(self.model if self.model is not None else handle, "generate")

    def prompts(self, outputs: list, table: Any) -> list[str]:
        refs = table["reference"].tolist() if "reference" in table else [None] * len(outputs)
        low, high = self.scale
        return [
            _TEMPLATE.format(
                rubric=self.rubric,
                input=inp,
                output=out,
                low=_fmt(low),
                high=_fmt(high),
                reference="" if ref is None else f"\nReference answer:\n{ref}\n",
            )
            for inp, out, ref in zip(table["prompt"], outputs, refs)
        ]

    def scores(self, outputs: list, table: Any, handle: Any = None) -> dict[str, list]:
        handle = get_model(self.model if self.model is not None else handle, "generate")
        chat = bool(getattr(handle.tokenizer, "chat_template", None))
        sent = [render_prompt(handle, p, chat, None)[0] for p in self.prompts(outputs, table)]
        decoding, _ = sampling_settings(
            handle, greedy=True, temperature=None, top_p=None, top_k=None, n=1, seed=None
        )
        settings = dict(
            batch_size=None,
            max_new_tokens=self.max_new_tokens,
            decoding=decoding,
            n=1,
            stop=None,
            strict=False,
            extra={},
        )
        todo = [i for i, out in enumerate(outputs) if out is not None]
        replies, _, _ = generate_cached(
            handle, [sent[i] for i in todo], settings=settings, seed=None, use_cache=True
        )
        scores, reasons = [math.nan] * len(outputs), ["no output to judge"] * len(outputs)
        for i, reply in zip(todo, replies):
            scores[i] = parse_score(reply, *self.scale) if reply is not None else math.nan
            reasons[i] = (
                (reply or "").strip()[:300]
                if not math.isnan(scores[i])
                else f"no score from {_fmt(self.scale[0])} to {_fmt(self.scale[1])} in the reply: {(reply or '').strip()[:300]!r}"
            )
        return {self.name: scores, "judge_reason": reasons}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@recorded
def judge(
    model: Any = None,
    rubric: str = DEFAULT_RUBRIC,
    scale: tuple[float, float] = (1, 5),
    *,
    name: str = "judge",
    max_new_tokens: int = 8,
) -> Judge:
    """An evaluator that has the decoder ``model`` (default: the evaluated model) grade each output."""
    low, high = scale
    if not low < high:
        raise BadArgumentError(f"scale={scale!r} needs a low and a higher high end, e.g. (1, 5).")
    if model is not None:
        get_model(model, "generate")  # a judge that cannot generate fails now, not mid-run
    return Judge(
        name,
        needs_reference=False,
        model=model,
        rubric=rubric,
        scale=(low, high),
        max_new_tokens=max_new_tokens,
    )
