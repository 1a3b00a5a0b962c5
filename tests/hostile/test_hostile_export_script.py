"""``--export-script`` with hostile model folders, labels and export paths: the script parses and runs nothing.

The script is fixed text plus the plan as JSON string literals, so whatever a folder name or a
label holds stays data.  Each generated script is parsed with ``ast`` (every call in it must be
one the fixed script makes) and then executed as a module (not ``__main__``), which must not run
the command hidden in the name.
"""

from __future__ import annotations

import ast
import json
import os
import runpy
import shutil

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.training.export_script import TrainingPlan, write_script

HOSTILE = [
    'm"""+__import__("os").system("touch {marker}")+"""',
    "m'''+__import__('os').system('touch {marker}')+'''",
    'm"+__import__("os").system("touch {marker}")+"',
    "m\\\\\"\"\"; import os; os.system('touch {marker}') #",
    "m\n__import__('os').system('touch {marker}')\n",
    "m{{plan_literal}}{{}}%s%(x)s",
]


def _shape(source: str) -> str:
    """The script's syntax tree with every string constant blanked: what the code does, not its data."""
    tree = ast.parse(source)  # a hostile name must never make a script that does not parse
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.fixture(scope="module")
def benign_shape(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benign")
    plan = TrainingPlan(model="bert-base-uncased", task="classification", classes=["neg", "pos"])
    return _shape(write_script(folder / "train.py", plan, [{"text": "x", "label": 0}], [{"text": "y", "label": 1}]).read_text())


def _check_script(path, marker, expected_model, expected_classes, benign_shape):
    source = path.read_text(encoding="utf-8")
    assert _shape(source) == benign_shape, "a value from the data changed the script's code"
    assert "system" not in {n.attr for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute)}
    namespace = runpy.run_path(str(path), run_name="fm_export_check")  # top level only, main() not run
    assert not marker.exists(), "the generated script ran a command hidden in a name"
    plan = namespace["PLAN"]
    assert plan["model"] == expected_model and plan["classes"] == expected_classes
    assert namespace["MODEL"] == os.path.expanduser(expected_model)
    return plan


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_model_names_and_labels_stay_data(hostile, tmp_path, benign_shape):
    marker = tmp_path / "PWNED"
    name = hostile.format(marker=marker)
    classes = [name, "<b>bold</b>", "a'b\"c"]
    plan = TrainingPlan(model=name, task="classification", classes=classes, arguments={"learning_rate": 1e-3})
    script = write_script(tmp_path / "train.py", plan, [{"text": "x", "label": 0}, {"text": "y", "label": 1}],
                          [{"text": "z", "label": 2}])
    _check_script(script, marker, name, classes, benign_shape)


@pytest.mark.parametrize("folder", ['we"ird', "it's", 'tri"""ple', "back\\slash", "new\nline", "{brace}"])
def test_export_paths_with_quotes_make_scripts_that_parse(folder, tmp_path, benign_shape):
    where = tmp_path / folder
    where.mkdir()
    marker = tmp_path / "PWNED"
    script = write_script(where / 'run "me" now\'s.py', TrainingPlan(model="gpt2", task="causal-lm"),
                          [{"text": "a"}], [{"text": "b"}])
    plan = _check_script(script, marker, "gpt2", [], benign_shape)
    assert (where / plan["train_file"]).read_text(encoding="utf-8").strip() == json.dumps({"text": "a"})


def test_a_finetune_from_a_hostile_folder_exports_a_safe_script(bert, tiny_paths, tmp_path, benign_shape):
    """End to end: the real --export-script path, base weights in a folder with a hostile name."""
    marker = tmp_path / "PWNED"
    folder = tmp_path / HOSTILE[0].format(marker=marker).replace("/", "_")
    shutil.copytree(tiny_paths["bert"], folder)
    fm.load(str(folder), as_="hostile-base")
    df = pd.DataFrame({"text": ["good movie", "bad movie"] * 4, "label": ["pos", "neg"] * 4})
    script = tmp_path / "export.py"
    fm.finetune(df, label="label", model="hostile-base", export_script=str(script), epochs=1,
                batch_size=4, max_length=16, as_="hostile-ft")
    plan = _check_script(script, marker, str(folder), ["neg", "pos"], benign_shape)
    assert plan["task"] == "classification"
