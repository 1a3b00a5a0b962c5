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


def test_a_local_and_an_api_model_side_by_side(api_model, served_local, proxy):
    fm.settings().prices = {api_model.model_id: (1.0, 2.0)}
    try:
        res = compare(["hello world", "<b>the cat</b>"], models=["local", "srv"], max_new_tokens=5, greedy=True,
                      chat=True)
    finally:
        fm.settings().prices = {}
    assert proxy.count("/chat/completions") == 2  # one request per prompt for the served model
    for row in res.generations:  # greedy through the server equals the same folder in this process
        assert row[0].text == row[1].text and row[1].record.family == "api"
    # the comparison's own record says where its served column ran, and only that one
    assert list(res.record.endpoint) == ["srv"]
    assert res.record.endpoint["srv"]["host"] == row[1].record.endpoint["host"]
    assert res.record.endpoint["srv"]["served_model"] == row[1].record.endpoint["served_model"]
    table = res.table.set_index(["prompt", "model"])
    served = table.xs("srv", level="model")
    assert (served["cost"] == (served["tokens_in"] * 1.0 + served["tokens_out"] * 2.0) / 1e6).all()
    assert (served["tokens_out"] == 5).all() and table.xs("local", level="model")["cost"].isna().all()
    html = res._repr_mimebundle_()[0]["text/html"]
    assert html.count(" · $0.0000") == 2 and "&lt;b&gt;the cat" in html and "<b>the cat" not in html
