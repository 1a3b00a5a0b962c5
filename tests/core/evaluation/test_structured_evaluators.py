"""fm.json_schema and fm.tool_call agree with the jsonschema library on fixed outputs."""

from __future__ import annotations

import json
import math

import jsonschema
import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}},
          "required": ["answer"], "additionalProperties": False}
OUTPUTS = ['{"answer": "Paris"}', '{"answer": "Paris", "n": "two"}', "Paris", '{"n": 3}', {"answer": "x"}, None,
           '{"answer": "a", "extra": 1}']
WEATHER = {"type": "function", "function": {"name": "weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CLOCK = {"name": "clock", "input_schema": {"type": "object", "properties": {}}}


def column(evaluator, outputs):
    return evaluator.scores(outputs, pd.DataFrame({"x": range(len(outputs))}))[evaluator.name]


def library_says(output):
    try:
        value = output if isinstance(output, dict) else json.loads(output)
    except ValueError:
        return 0.0
    return float(jsonschema.Draft202012Validator(SCHEMA).is_valid(value))


def test_json_schema_is_one_for_json_that_validates_and_zero_otherwise():
    got = column(fm.json_schema(SCHEMA), OUTPUTS)
    assert got[:5] + got[6:] == [library_says(o) for o in OUTPUTS if o is not None]
    assert got[:5] == [1.0, 0.0, 0.0, 0.0, 1.0] and math.isnan(got[5])
    assert column(fm.json_schema(json.dumps(SCHEMA)), OUTPUTS[:1]) == [1.0]  # JSON text works too
    run = fm.evaluate(pd.DataFrame({"out": OUTPUTS[:4]}), output="out", evaluators=[fm.json_schema(SCHEMA)],
                      progress=False)
    assert run.summary.loc["json_schema", "mean"] == pytest.approx(0.25)


def test_a_bad_schema_is_one_sentence_before_anything_runs():
    with pytest.raises(BadArgumentError, match=r"is not a valid JSON Schema \(.*'strin'"):
        fm.json_schema({"type": "strin"})
    with pytest.raises(BadArgumentError, match="must be a JSON Schema dict"):
        fm.json_schema(["answer"])
    with pytest.raises(BadArgumentError, match="not JSON"):
        fm.json_schema("{answer")


def test_tool_call_checks_the_tool_name_and_its_arguments_against_the_tool_schema():
    calls = [
        '{"name": "weather", "arguments": {"city": "Oslo"}}',
        '{"name": "weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}',  # OpenAI: arguments as JSON text
        {"tool_calls": [{"type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
                        {"name": "clock", "input": {}}]},
        '{"name": "weather", "arguments": {"town": "Oslo"}}',
        '{"name": "launch", "arguments": {}}',
        "call weather for Oslo",
        "[]",
    ]
    assert column(fm.tool_call([WEATHER, CLOCK]), calls) == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    with pytest.raises(BadArgumentError, match="tools= must be a list of tools"):
        fm.tool_call([{"parameters": {}}])
    with pytest.raises(BadArgumentError, match="parameters schema of the tool 'bad' is not a valid JSON Schema"):
        fm.tool_call({"name": "bad", "parameters": {"type": 3}})
