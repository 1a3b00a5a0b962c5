"""fm.fill_mask on a tiny BERT: probabilities, mask spellings, errors, bar chart."""

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.prompting.fill_mask import fill_mask
from fmwidgets.errors import DataError, WrongFamilyError


def test_predictions_are_the_softmax_top_k(bert):
    res = fill_mask("the cat sat on the [MASK]", top_k=4)
    tok = bert.tokenizer
    enc = tok("the cat sat on the [MASK]", return_tensors="pt")
    pos = (enc["input_ids"][0] == tok.mask_token_id).nonzero().item()
    with torch.no_grad():
        probs = torch.softmax(bert.model(**enc).logits[0, pos], -1)
    top = probs.topk(4)
    assert list(res.columns) == ["mask", "rank", "token", "probability", "sequence"]
    assert res["probability"].tolist() == pytest.approx(top.values.tolist(), rel=1e-5)
    assert res["rank"].tolist() == [1, 2, 3, 4]
    assert res.record.kind == "fill_mask"
    data, meta = res._repr_mimebundle_()
    assert "<table" in data["text/html"] and meta["fmwidgets"]["params"]["top_k"] == 4


def test_tokenizer_spelling_and_several_masks(bert):
    own = fill_mask(f"the {bert.tokenizer.mask_token} sat on the {bert.tokenizer.mask_token}", top_k=2)
    assert own["mask"].tolist() == [0, 0, 1, 1]
    assert type(own.head(1)) is pd.DataFrame  # slices are plain frames


def test_figure_has_a_bar_per_prediction(bert):
    res = fill_mask("a dog ran across the [MASK]", top_k=3)
    fig = fm.plot_fill_mask(res)
    assert fig.data[0].type == "bar" and len(fig.data[0].x) == 3 and fig.record is res.record


def test_errors(bert, gpt2):
    with pytest.raises(DataError, match="no mask"):
        fill_mask("no mask here", model="bert")
    with pytest.raises(DataError, match="empty"):
        fill_mask(" ", model="bert")
    with pytest.raises(WrongFamilyError, match="cannot fill a \\[MASK\\].*; it can generate text"):
        fill_mask("the [MASK]", model="gpt2")
