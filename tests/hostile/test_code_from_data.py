"""Code from data: keyword names, model names and magic lines never become code in a replay.

The defect: ``fm.save_prompt("q", "Q: {question}", **{"x=1) and open('PWNED','w') and ...": 1})``
then ``fm.repro("r.py")`` wrote the key into the call, and running ``r.py`` created the file.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import fmwidgets as fm
from fmwidgets.provenance import history
from fmwidgets.errors import BadArgumentError
from fmwidgets.provenance.history import Entry
from fmwidgets.provenance.literals import Argument, literal_code

POC = "x=1) and open('PWNED','w') and fm.save_prompt(name='q', template='t', y"


def one_sentence(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 300 and text.endswith("."), text
    return text


def opens_a_file(source: str) -> bool:
    """True when the (IPython) cell or script calls open(), i.e. the payload became code."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    return any(isinstance(n, ast.Name) and n.id == "open" for n in ast.walk(tree))


def test_the_poc_is_refused_and_a_forged_entry_still_writes_no_code(tmp_path):
    with pytest.raises(BadArgumentError) as exc:
        fm.save_prompt("q", "Q: {question}", **{POC: 1})
    assert one_sentence(exc).startswith('The keyword "x=1) and open(')
    assert history.entries == []
    # The writer on its own: an entry carrying the key (as a future caller without the check
    # might record it) and a line magic whose {variable} expanded to two lines.
    history.entries.append(
        Entry(
            step=0,
            source="python",
            function="save_prompt",
            arguments={
                "name": Argument("literal", "q"),
                "template": Argument("literal", "t'''\n"),
                POC: Argument("literal", 1),
            },
        )
    )
    history.entries.append(Entry(step=1, source="magic", magic='%fm load m --as \'a\nopen("PWNED", "w")\''))
    script = fm.repro(tmp_path / "r.py")
    notebook = fm.repro().notebook()
    for source in [script.code, *(c["source"] for c in notebook["cells"] if c["cell_type"] == "code")]:
        assert not opens_a_file(source), source
    run = subprocess.run([sys.executable, "r.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "is not a Python name" in run.stderr  # the replay refuses it too
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("key", ["top p", "top-p", "lambda", "a\nb", ""])
def test_every_keyword_taking_call_refuses_a_key_that_is_no_python_name(gpt2, key):
    before = len(history.entries)
    calls = [
        lambda: fm.save_prompt("q", "Q: {question}", **{key: 0.9}),
        lambda: fm.generate("hi", model="gpt2", **{key: 0.9}),
        lambda: fm.compare("hi", models=["gpt2"], **{key: 0.9}),
        lambda: fm.project([[0.0, 1.0], [1.0, 0.0]], **{key: 1}),
    ]
    for call in calls:
        with pytest.raises(BadArgumentError) as exc:
            call()
        assert "is not a Python name" in one_sentence(exc)
    if key == "top p":
        assert one_sentence(exc).endswith("e.g. top_p.")
    assert len(history.entries) == before


def test_a_model_name_with_a_control_character_is_refused(ip, tiny_paths):
    for name in ("a\nb", "a\rb", "tab\there", "a\u2028b"):
        with pytest.raises(BadArgumentError) as exc:
            fm.load(str(tiny_paths["gpt2"]), as_=name)
        assert "control character" in one_sentence(exc)
    ip.user_ns["n"] = "g\nopen('PWNED', 'w')"
    with pytest.raises(BadArgumentError, match="control character"):
        ip.run_line_magic("fm", f"load {tiny_paths['gpt2']} --as {{n}}")
    assert history.entries == []


VALUES = [
    "it's \"quoted\"\n'''x'''",
    "\\",
    "\x00\u2028\ud800",
    10**5000,
    -(10**5000),
    float("nan"),
    float("-inf"),
    [1, (2,), {"k": None, 3: True}],
    (),
]


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_literal_code_writes_data_that_reads_back_as_itself(index):
    value = VALUES[index]
    again = eval(literal_code(value), {"__builtins__": {"float": float}})  # noqa: S307 - it is data
    assert again == value or (value != value and again != again)
    with pytest.raises(ValueError):
        literal_code(type("S", (str,), {"__repr__": lambda s: "open('PWNED')"})("x"))
