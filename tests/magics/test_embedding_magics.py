"""%fm embed / similar / clip in a real IPython shell: same results as the Python calls."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.provenance.history import entries as history
from fmwidgets.testing import CORPUS, color_images


def test_embed_opens_the_explorer_and_keeps_the_selection_in_a_variable(ip, bert):
    ip.user_ns["df"] = pd.DataFrame({"sentence": CORPUS[:8], "topic": ["a", "b"] * 4})
    explorer = ip.run_line_magic("fm", "embed df --text sentence --color topic --hover sentence topic --out picked")
    assert isinstance(explorer, fm.EmbeddingExplorer)
    assert ip.user_ns["picked"].empty and list(ip.user_ns["picked"].columns) == ["sentence", "topic"]
    explorer.map.selection = [[1, 0]]  # what the front end sends for a lasso around one point
    assert ip.user_ns["picked"]["sentence"].tolist() == [CORPUS[1]]
    assert history[-1].code.startswith("%fm embed df")


def test_similar_equals_the_python_call(ip, bert):
    ip.user_ns["texts"] = CORPUS
    rows = ip.run_line_magic("fm", 'similar "rain tomorrow" --in texts --k 3 --out near')
    expected = fm.similar("rain tomorrow", CORPUS, k=3)
    pd.testing.assert_frame_equal(rows, expected)
    assert ip.user_ns["near"] is rows
    ip.user_ns["gappy"] = pd.DataFrame({"text": ["a dog", None, "rain tomorrow"]})
    with pytest.raises(fm.DataError, match="1 of 3 rows"):
        ip.run_line_magic("fm", 'similar "rain" --in gappy --strict')


def test_clip_views_and_file_patterns(ip, clip, tmp_path):
    for i, img in enumerate(color_images(2)):
        img.save(tmp_path / f"c{i}.png")
    ip.user_ns["imgs"] = color_images(3)
    result = ip.run_line_magic("fm", 'clip imgs --labels "red, green, blue" --out res')
    assert isinstance(result, fm.ClipResult) and result.texts == ["red", "green", "blue"]
    assert ip.user_ns["res"] is result
    heat = ip.run_line_magic("fm", f'clip "{tmp_path}/*.png" --labels "red,green" --view heatmap')
    assert isinstance(heat.data[0], go.Heatmap) and list(heat.data[0].y) == [0, 1]
    joint = ip.run_line_magic("fm", f"clip {tmp_path} --labels red,green --view map")
    assert [t.name for t in joint.data] == ["images", "texts"]


MISTAKES = [
    ("embed nothing", UsageError, "no DataFrame, list or Series named 'nothing'"),
    ('similar "x"', UsageError, "--in"),
    ("embed df --method mds", UsageError, "invalid choice"),
    ("clip missing/*.png --labels a,b", UsageError, "neither a notebook variable nor a pattern"),
    ("clip imgs --labels red", fm.WrongFamilyError, "cannot match images with texts"),
]


@pytest.mark.parametrize("line, error, match", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistakes_are_one_line_errors(ip, bert, line, error, match):
    ip.user_ns["imgs"] = color_images(1)
    with pytest.raises(error, match=match):
        ip.run_line_magic("fm", line)
