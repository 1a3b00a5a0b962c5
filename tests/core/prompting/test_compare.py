"""fm.compare: prompts x models side by side, escaped, with timings."""

import pytest

import fmwidgets as fm
from fmwidgets.core.prompting.compare import compare
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.errors import BadArgumentError


def test_models_side_by_side(gpt2, chat_gpt2):
    res = compare("the cat", models=["gpt2", "chat"], max_new_tokens=4, greedy=True, chat=False)
    assert res.models == ["gpt2", "chat"] and len(res.generations) == 1
    assert res.generations[0][0].text == generate_text("the cat", model="gpt2", max_new_tokens=4, greedy=True).text
    table = res.table
    assert table["model"].tolist() == ["gpt2", "chat"] and (table["seconds"] >= 0).all()


def test_prompt_variants_on_one_model_are_escaped(gpt2):
    res = compare(["<i>one</i>", "two & three"], max_new_tokens=3, greedy=True)
    html = res._repr_mimebundle_()[0]["text/html"]
    assert "&lt;i&gt;one&lt;/i&gt;" in html and "two &amp; three" in html and "<i>" not in html
    assert res.record.params["prompts"] == ["<i>one</i>", "two & three"]


def test_one_prompt_one_model_is_not_a_comparison(gpt2):
    with pytest.raises(BadArgumentError, match="two models or two prompt variants"):
        compare("the cat")


def test_public_name(gpt2):
    assert fm.compare is compare
