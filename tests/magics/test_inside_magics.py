"""%fm attention and %fm lens through a real IPython shell."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

import fmwidgets as fm
from fmwidgets.errors import WrongFamilyError
from fmwidgets.plots.figure import RecordedFigure
from fmwidgets.provenance.history import entries as history
from fmwidgets.widgets.attention import AttentionView


def test_attention_line_magic_opens_the_view(ip, gpt2):
    view = ip.run_line_magic("fm", 'attention "the cat sat" --view heatmap --layer 1 --head 0 --out att')
    assert isinstance(view, AttentionView)
    assert (view.view, view.layer, view.head) == ("heatmap", 1, 0)
    # the magic line is what the session history keeps, not the calls it made
    assert history[-1].code == '%fm attention "the cat sat" --view heatmap --layer 1 --head 0 --out att'
    result = ip.user_ns["att"]
    np.testing.assert_array_equal(result.weights, fm.attention("the cat sat", model="gpt2").weights)


def test_attention_cell_magic_takes_a_pair(ip, minilm):
    view = ip.run_cell_magic("fm", "attention --pair 'A second sentence.' --view model", "A first sentence.\n")
    assert view.view == "model" and view.result.tokens.count("[SEP]") == 2
    assert view.result.record.params["text_pair"] == "A second sentence."


def test_lens_magic_returns_the_heatmap(ip, gpt2):
    fig = ip.run_line_magic("fm", 'lens "one two three" --top-k 2 --out lens')
    assert isinstance(fig, RecordedFigure)
    assert np.asarray(fig.data[0].customdata).shape == ip.user_ns["lens"].probs.shape[:2]
    assert fig.record.kind == "logit_lens"


def test_lens_on_an_encoder_is_one_sentence(ip, bert):
    with pytest.raises(WrongFamilyError, match="cannot run the logit lens"):
        ip.run_line_magic("fm", 'lens "a cat"')


@pytest.mark.parametrize("line", ['attention', 'attention "x" --view neuron', 'attention "x" --layer two'])
def test_bad_lines_are_usage_errors(ip, gpt2, line):
    with pytest.raises(UsageError):
        ip.run_line_magic("fm", line)


def test_text_twice_is_a_usage_error(ip, gpt2):
    with pytest.raises(UsageError, match="needs one text"):
        ip.run_cell_magic("fm", 'attention "line text"', "body text")


def test_help_lists_the_inside_group(ip, capsys):
    ip.run_line_magic("fm", "help")
    out = capsys.readouterr().out
    assert "inside:" in out and "%fm attention" in out and "%fm lens" in out
