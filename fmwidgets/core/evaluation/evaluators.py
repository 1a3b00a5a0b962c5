"""Evaluators: how one output is scored against its row (and, for some, the whole column).

Every metric comes from its reference library (sacrebleu, rouge-score, jiwer, scikit-learn),
so a score here equals the score a paper computed with that library; nothing is re-implemented.
An evaluator is named by a string (``"bleu"``, ``"regex:^\\d+$"``, ``"numeric:0.01"``), a Python
callable ``f(output, row) -> number | bool`` (named by its ``__name__``), or a ``Judge``
(``judge.py``).  ``resolve`` turns the user's list into ``Evaluator`` objects before any
generation starts, so an unknown name fails in a second.

Each evaluator gives one score per row (a column of ``Evaluation.table`` named after it);
``accuracy`` and ``f1_macro`` also give a corpus score that the summary uses instead of the mean.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ...errors import BadArgumentError, DataError
from . import grounding

# Scores of one column: (outputs, table with the input columns and "reference") -> {column: values}
Scorer = Callable[[list, Any], dict[str, list]]


@dataclass
class Evaluator:
    """A named way to score outputs; ``needs_reference`` says the data must have references."""

    name: str
    scorer: Scorer | None = None  # None where a subclass overrides ``scores`` (Judge)
    needs_reference: bool = True
    corpus: Callable[[list, list], float] | None = None  # summary statistic over rows, if not the mean
    options: dict[str, Any] = field(default_factory=dict)
    needs_columns: tuple[str, ...] = ()  # data columns it reads (checked before any generation)

    @property
    def columns(self) -> list[str]:
        """The score columns this evaluator adds to the table, one summary row each."""
        return [self.name]

    def check(self, handle: Any) -> None:
        """Raise before generation when this evaluator cannot work with ``handle`` (the run's model)."""

    def flagged(self, table: Any, column: str) -> int | None:
        """Rows of ``column`` to read before trusting its score (None: this evaluator flags none)."""
        return None

    def scores(self, outputs: list, table: Any, handle: Any = None) -> dict[str, list]:
        """Columns of scores for ``outputs`` (``handle``: the evaluated model, for judges)."""
        if self.scorer is None:
            raise NotImplementedError(f"The evaluator '{self.name}' has no scorer.")
        return self.scorer(outputs, table)


def _per_row(name: str, func: Callable[[Any, Any], float], **kwargs: Any) -> Evaluator:
    """An evaluator from ``func(output, reference)``; a missing output scores NaN."""

    def scorer(outputs: list, table: Any) -> dict[str, list]:
        refs = table["reference"].tolist() if "reference" in table else [None] * len(outputs)
        return {name: [math.nan if out is None else float(func(out, ref)) for out, ref in zip(outputs, refs)]}

    return Evaluator(name, scorer, **kwargs)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def exact_match(output: Any, reference: Any) -> bool:
    return _text(output).strip() == _text(reference).strip()


def contains(output: Any, reference: Any) -> bool:
    return _text(reference).strip().lower() in _text(output).lower()


def json_valid(output: Any, reference: Any = None) -> bool:
    try:
        json.loads(_text(output))
    except ValueError:
        return False
    return True


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def first_number(text: Any) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    found = _NUMBER.search(_text(text).replace(",", ""))
    return float(found.group()) if found else None


def numeric(tolerance: float) -> Callable[[Any, Any], bool]:
    """True when the first number in the output is within ``tolerance`` of the reference."""

    def close(output: Any, reference: Any) -> bool:
        got, want = first_number(output), first_number(reference)
        return got is not None and want is not None and abs(got - want) <= tolerance

    return close


def bleu(output: Any, reference: Any) -> float:
    import sacrebleu

    return sacrebleu.sentence_bleu(_text(output), [_text(reference)]).score


def chrf(output: Any, reference: Any) -> float:
    import sacrebleu

    return sacrebleu.sentence_chrf(_text(output), [_text(reference)]).score


def rouge_l(output: Any, reference: Any) -> float:
    return _rouge().score(_text(reference), _text(output))["rougeL"].fmeasure


_ROUGE: list = []


def _rouge() -> Any:
    if not _ROUGE:
        from rouge_score import rouge_scorer

        _ROUGE.append(rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True))
    return _ROUGE[0]


def wer(output: Any, reference: Any) -> float:
    import jiwer

    return jiwer.wer(_text(reference), _text(output))


def accuracy_score(outputs: list, references: list) -> float:
    from sklearn.metrics import accuracy_score as score

    return float(score([str(r) for r in references], [str(o) for o in outputs]))


def f1_macro_score(outputs: list, references: list) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score([str(r) for r in references], [str(o) for o in outputs], average="macro"))


def _label_match(output: Any, reference: Any) -> bool:
    return output == reference or str(output) == str(reference)


def regex(pattern: str) -> Evaluator:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise BadArgumentError(
            f"The evaluator 'regex:{pattern}' has a pattern Python cannot read ({exc}); "
            "fix the regular expression."
        ) from exc
    return _per_row(
        f"regex:{pattern}", lambda out, ref: compiled.search(_text(out)) is not None, needs_reference=False
    )


def _schema(schema: Any, what: str) -> Any:
    """A jsonschema validator for ``schema`` (a dict, or its JSON text); a bad schema is one sentence."""
    import jsonschema

    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise BadArgumentError(f"The {what} is not JSON ({exc}); pass a dict or JSON text.") from exc
    if not isinstance(schema, (dict, bool)):
        raise BadArgumentError(
            f"The {what} must be a JSON Schema dict such as {{'type': 'object', 'required': ['answer']}}, "
            f"not {type(schema).__name__}."
        )
    validator = jsonschema.validators.validator_for(schema)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise BadArgumentError(
            f"The {what} is not a valid JSON Schema ({exc.message}); fix it before evaluating."
        ) from exc
    return validator(schema)


def _json(output: Any) -> tuple[bool, Any]:
    """(parsed, value): structured outputs (dicts, lists) as they are, text through json.loads."""
    if isinstance(output, (dict, list)):
        return True, output
    try:
        return True, json.loads(_text(output))
    except ValueError:
        return False, None


def json_schema(schema: Any) -> Evaluator:
    """``fm.json_schema(schema)``: 1 when the output parses as JSON and validates against
    ``schema`` (the jsonschema library, the schema's own draft), else 0."""
    validator = _schema(schema, "JSON schema")

    def valid(output: Any, reference: Any = None) -> bool:
        parsed, value = _json(output)
        return parsed and validator.is_valid(value)

    return _per_row("json_schema", valid, needs_reference=False, options={"schema": validator.schema})


def _tool_schemas(tools: Any) -> dict[str, Any]:
    """{tool name: validator of its arguments} from OpenAI (``{"type": "function", "function":
    {...}}``), plain (``{"name", "parameters"}``) or Anthropic (``{"name", "input_schema"}``) tools."""
    if isinstance(tools, dict):
        tools = [tools]
    found: dict[str, Any] = {}
    for tool in tools if isinstance(tools, (list, tuple)) else []:
        spec: Any = tool.get("function", tool) if isinstance(tool, dict) else {}
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name:
            found = {}
            break
        params = spec.get("parameters", spec.get("input_schema", {"type": "object"}))
        found[name] = _schema(params, f"parameters schema of the tool '{name}'")
    if not found:
        raise BadArgumentError(
            "tools= must be a list of tools, each {'name': ..., 'parameters': JSON Schema} (or OpenAI's "
            "{'type': 'function', 'function': {...}}), with a name."
        )
    return found


def _calls(value: Any) -> list:
    """The tool calls in a parsed output: one call, a list of calls, or ``{"tool_calls": [...]}``."""
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    calls = value if isinstance(value, list) else [value]
    return [c.get("function", c) if isinstance(c, dict) else c for c in calls]


def tool_call(tools: Any) -> Evaluator:
    """``fm.tool_call(tools)``: 1 when the output is one or more calls of the given tools, each
    with arguments that validate against that tool's parameters schema, else 0."""
    schemas = _tool_schemas(tools)

    def valid(output: Any, reference: Any = None) -> bool:
        parsed, value = _json(output)
        calls = _calls(value) if parsed else []
        if not calls:
            return False
        for call in calls:
            if not isinstance(call, dict) or call.get("name") not in schemas:
                return False
            arguments = call.get("arguments", call.get("input", {}))
            ok, arguments = _json(arguments) if isinstance(arguments, str) else (True, arguments)
            if not ok or not schemas[call["name"]].is_valid(arguments):
                return False
        return True

    return _per_row("tool_call", valid, needs_reference=False, options={"tools": sorted(schemas)})


def semantic_similarity(model: str | None = None) -> Evaluator:
    """Cosine between the embeddings of output and reference (default: the embedded MiniLM)."""
    name = "semantic_similarity" + (f":{model}" if model else "")

    def scorer(outputs: list, table: Any) -> dict[str, list]:
        import numpy as np

        from ..embedding.embed import encode

        handle = _embedder(model)
        texts = [_text(o) or " " for o in outputs] + [_text(r) or " " for r in table["reference"]]
        vectors = encode(handle, texts, "text", normalize=True, progress=False)
        a, b = vectors[: len(outputs)], vectors[len(outputs) :]
        cos = (a * b).sum(axis=1).astype(float)
        return {name: [math.nan if o is None else float(c) for o, c in zip(outputs, np.clip(cos, -1, 1))]}

    return Evaluator(name, scorer, options={"model": model})


def _embedder(model: str | None) -> Any:
    """The named loaded model, else a loaded embedded MiniLM, else load it (keeping the current model)."""
    from ..models.registry import get_model, registry

    if model is not None:
        return get_model(model, "embed")
    for handle in registry:
        if handle.source == "embedded" and handle.head == "base":
            return handle
    from ..models.loading import load

    current = registry.current
    handle = load()
    registry.current = current if current is not None else handle.name
    return handle


_SIMPLE: dict[str, Callable[[], Evaluator]] = {
    "exact_match": lambda: _per_row("exact_match", exact_match),
    "contains": lambda: _per_row("contains", contains),
    "json_valid": lambda: _per_row("json_valid", json_valid, needs_reference=False),
    "numeric": lambda: _per_row("numeric", numeric(1e-6)),
    "bleu": lambda: _per_row("bleu", bleu),
    "chrf": lambda: _per_row("chrf", chrf),
    "rouge_l": lambda: _per_row("rouge_l", rouge_l),
    "semantic_similarity": semantic_similarity,
    "accuracy": lambda: _per_row("accuracy", _label_match, corpus=accuracy_score),
    "f1_macro": lambda: _per_row("f1_macro", _label_match, corpus=f1_macro_score),
    "wer": lambda: _per_row("wer", wer),
}


class Accounting(Evaluator):
    """``latency`` (seconds per row) or ``cost`` (dollars per row, API-served models with a price):
    the run's own columns as scores, so they get a summary row with an interval and compare
    across runs like any score (lower is better).  Without a price an API row's cost is NaN
    (fm.generate_df and evaluate say so once), never $0."""

    def check(self, handle: Any) -> None:
        if self.name == "cost" and handle is not None and handle.provenance() is None:
            raise BadArgumentError(
                f"The evaluator 'cost' needs an API-served model (tokens priced with fm.settings()."
                f"prices); '{handle.name}' runs in this kernel, so use 'latency' for what it costs."
            )

    def scores(self, outputs: list, table: Any, handle: Any = None) -> dict[str, list]:
        column = "seconds" if self.name == "latency" else "cost"
        values = table[column].tolist() if column in table else [math.nan] * len(outputs)
        if handle is None and not any(v == v for v in values):  # outputs as given, without the column
            raise DataError(
                f"The evaluator '{self.name}' reads the '{column}' column, which this data does not "
                f"have; add it (one number per row) or drop '{self.name}'."
            )
        return {self.name: [math.nan if out is None else float(v) for out, v in zip(outputs, values)]}


_ACCOUNTING = ("latency", "cost")
NAMES = [
    *_SIMPLE,
    *_ACCOUNTING,
    "regex:PATTERN",
    "numeric:TOLERANCE",
    "semantic_similarity:MODEL",
    "faithfulness[:NLI_MODEL]",
    "context_recall[:NLI_MODEL]",
    "context_precision[:NLI_MODEL]",
]


class Grounded(Evaluator):
    """faithfulness, context_recall or context_precision (``grounding.py``) over the data's
    ``contexts`` column, with the NLI model ``options["model"]`` (None: the one loaded)."""

    def check(self, handle: Any) -> None:
        grounding.nli_model(self.options["model"])

    def scores(self, outputs: list, table: Any, handle: Any = None) -> dict[str, list]:
        kind = self.name.partition(":")[0]
        return {self.name: grounding.grounding_scores(kind, self.options["model"], outputs, table)}


def from_callable(func: Callable[[Any, dict], Any]) -> Evaluator:
    """``func(output, row)`` (row: a dict of the row's columns, with output and reference)."""
    name = getattr(func, "__name__", None) or type(func).__name__

    def scorer(outputs: list, table: Any) -> dict[str, list]:
        rows = table.to_dict("records")
        return {
            name: [
                math.nan if out is None else _number(func(out, {**row, "output": out}), name)
                for out, row in zip(outputs, rows)
            ]
        }

    return Evaluator(name, scorer, needs_reference=False)


def _number(value: Any, name: str) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError) as exc:
        raise BadArgumentError(
            f"The evaluator '{name}' returned {value!r}; an evaluator must return a number or a bool."
        ) from exc


def resolve_one(spec: Any) -> Evaluator:
    if isinstance(spec, Evaluator):
        return spec
    if callable(spec):
        return from_callable(spec)
    if not isinstance(spec, str):
        raise BadArgumentError(
            f"An evaluator must be a name or a function f(output, row), not "
            f"{type(spec).__name__}; the names are {', '.join(NAMES)}."
        )
    kind, sep, arg = spec.partition(":")
    if kind == "regex" and sep:
        return regex(arg)
    if kind == "numeric" and sep:
        try:
            tolerance = float(arg)
        except ValueError:
            raise BadArgumentError(
                f"'{spec}' needs a number after 'numeric:' (the tolerance), e.g. numeric:0.01."
            ) from None
        return _per_row(spec, numeric(tolerance), options={"tolerance": tolerance})
    if kind == "semantic_similarity" and sep:
        return semantic_similarity(arg)
    if kind in grounding.NAMES:
        return Grounded(
            spec,
            needs_reference=kind != "faithfulness",
            options={"model": arg or None},
            needs_columns=(grounding.CONTEXTS,),
        )
    if spec in _SIMPLE and not sep:
        return _SIMPLE[spec]()
    if spec in _ACCOUNTING:
        return Accounting(spec, needs_reference=False)
    raise BadArgumentError(
        f"There is no evaluator named '{spec}'; use one of {', '.join(NAMES)}, a "
        "function f(output, row), or fm.judge(...)."
    )


def resolve(specs: Any) -> list[Evaluator]:
    """Evaluator objects for ``specs`` (one spec or a list); names must be unique."""
    if specs is None:
        return []
    if isinstance(specs, (str, Evaluator)) or callable(specs):
        specs = [specs]
    evaluators = [resolve_one(s) for s in specs]
    names = [e.name for e in evaluators]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadArgumentError(f"The evaluator {', '.join(map(repr, twice))} is given twice; give each once.")
    return evaluators
