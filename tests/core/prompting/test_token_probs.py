"""fm.token_probs: probabilities equal to a plain forward pass, alternatives, Generations."""

import math

import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.core.prompting.token_probs import token_probs
from fmwidgets.errors import DataError, WrongFamilyError
from fmwidgets.plots.figure import RecordedFigure


def test_probabilities_match_softmax_of_the_logits(gpt2):
    text = "the cat sat on the mat"
    res = token_probs(text, top_k=3)
    tok = gpt2.tokenizer
    ids = [tok.bos_token_id] + tok(text)["input_ids"]
    with torch.no_grad():
        probs = torch.softmax(gpt2.model(torch.tensor([ids])).logits[0], -1)
    expected = [probs[i, ids[i + 1]].item() for i in range(len(ids) - 1)]
    assert res.probs == pytest.approx(expected, rel=1e-4)
    assert res.ids == ids[1:] and "".join(res.tokens) == text
    for alts, p in zip(res.alternatives, res.probs):
        assert len(alts) == 3 and alts[0][1] >= alts[1][1] >= alts[2][1] >= 0
        assert p <= alts[0][1] + 1e-6  # nothing beats the top guess


def test_a_generation_is_scored_with_its_own_ids(gpt2):
    gen = generate_text("one two", max_new_tokens=6, greedy=True)
    res = token_probs(gen)
    assert res.ids == gen.prompt_ids + gen.token_ids
    assert res.generated == [False] * len(gen.prompt_ids) + [True] * len(gen.token_ids)
    got = [math.log(p) for p in res.probs[len(gen.prompt_ids):]]
    assert got == pytest.approx(gen.logprobs, abs=1e-4)


def test_figure_and_frame(gpt2):
    res = token_probs("red <b>green</b> blue")
    fig = fm.plot_token_probs(res)
    assert isinstance(fig, RecordedFigure) and fig.record.kind == "token_probs"
    heat = fig.data[0]
    assert heat.type == "heatmap" and heat.zmin == 0 and heat.zmax == 1
    flat = [t for row in heat.text for t in row]
    assert not any("<b>" in t for t in flat)  # model/user text is escaped
    frame = res.to_frame()
    assert list(frame.columns) == ["token", "id", "probability", "generated", "alternatives"]
    data, meta = res._repr_mimebundle_()
    assert 'class="plotly-graph-div"' in data["text/html"] and meta["fmwidgets"]["kind"] == "token_probs"


def test_errors(bert, gpt2):
    with pytest.raises(WrongFamilyError, match="cannot show token probabilities"):
        token_probs("hello", model="bert")
    with pytest.raises(DataError, match="empty"):
        token_probs("", model="gpt2")
