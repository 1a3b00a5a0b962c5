"""Log-probabilities from API-served models (fm.token_probs), and the features that need a model's
weights refused in one sentence each, through the public calls and their magics.

``transformers serve`` returns no log-probabilities, so the path that reads them is tested with
the FaultProxy answering as a server that does: ``serving_logprobs`` lists the model and answers
each chat completion with ``logprobs.content[i].top_logprobs`` in the shape llama.cpp's
llama-server sends (checked by hand against a real llama-server; OpenAI and vLLM send the same
fields).  Expected values are worked out here from the probabilities put in the body.
"""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, WrongFamilyError
from fmwidgets.testing_server import chat_body, model_list, serving_logprobs

REPLY = [
    (" The", {" The": 0.5, " A": 0.3, "The": 0.1}),
    (" cat", {" cat": 0.25, " dog": 0.6, " cow": 0.05}),
]


@pytest.fixture
def logprob_model(served, proxy):
    """The proxy in front of ``served`` answering as a server that returns log-probabilities."""
    proxy.reset(rule=serving_logprobs(served.model, lambda request: REPLY))
    handle = fm.load(served.model, base_url=proxy.base_url, as_="lp", max_retries=0)
    assert handle.logprobs is None  # not known until asked
    return handle


def test_token_probs_reads_the_reply_tokens_and_their_alternatives(logprob_model, proxy):
    result = fm.token_probs("Say something", model="lp", top_k=2, max_new_tokens=5)
    assert result.tokens == [" The", " cat"] and result.generated == [True, True]
    assert result.probs == pytest.approx([0.5, 0.25])
    assert result.alternatives[0] == [(" The", pytest.approx(0.5)), (" A", pytest.approx(0.3))]
    assert result.alternatives[1] == [(" dog", pytest.approx(0.6)), (" cat", pytest.approx(0.25))]
    sent = chat_body(proxy.log[-1][2])
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2 and sent["max_tokens"] == 5
    assert sent["temperature"] == 0 and sent["messages"] == [{"role": "user", "content": "Say something"}]
    assert logprob_model.logprobs is True and "token_probs" in logprob_model.features
    frame = result.to_frame()
    assert frame["token"].tolist() == [" The", " cat"] and frame["id"].isna().all()
    assert result.record.params["source"] == "reply" and result.record.endpoint["provider"] == "openai"
    assert "<" not in "".join(result.tokens) and fm.plot_token_probs(result) is not None


def test_the_probs_magic_takes_max_new_tokens_on_an_api_model(ip, logprob_model, proxy):
    result = ip.run_line_magic("fm", "probs Say something --model lp --max-new-tokens 3 --top-k 1")
    assert result.probs == pytest.approx([0.5, 0.25])
    assert chat_body(proxy.log[-1][2])["max_tokens"] == 3


def test_a_server_that_drops_logprobs_is_one_sentence_and_remembered(served, proxy):
    # a server not known to ignore them (the proxy lists the model as llama-server does) answers
    # with transformers serve's reply, which has "logprobs": null
    proxy.reset(
        rule=lambda n, path, body: (200, model_list(served.model)) if path.endswith("/models") else None
    )
    handle = fm.load(served.model, base_url=proxy.base_url, as_="quiet")
    with pytest.raises(WrongFamilyError, match="its server does not return log-probabilities"):
        fm.token_probs("the cat", model="quiet", max_new_tokens=2)
    assert handle.logprobs is False and proxy.count() == 1
    with pytest.raises(WrongFamilyError, match="does not return log-probabilities"):
        fm.token_probs("the cat", model="quiet")
    assert proxy.count() == 1  # the second refusal sent nothing


def test_token_probs_arguments_that_do_not_apply_are_one_sentence(gpt2, logprob_model):
    with pytest.raises(BadArgumentError, match="scores the text itself, so leave it out"):
        fm.token_probs("the cat", model=gpt2, max_new_tokens=3)
    gen = fm.generate("hi", model="lp", max_new_tokens=2, stream=False)
    with pytest.raises(BadArgumentError, match="cannot score this Generation's tokens again"):
        fm.token_probs(gen)
    with pytest.raises(BadArgumentError, match="max_new_tokens must be"):
        fm.token_probs("hi", model="lp", max_new_tokens=0)


WEIGHTS = r"served by openai at 127\.0\.0\.1:\d+ and cannot {}.*load the weights themselves"


@pytest.mark.parametrize(
    "call, what",
    [
        (lambda: fm.attention("the cat sat", model="srv"), "show attention"),
        (lambda: fm.logit_lens("the cat sat", model="srv"), "run the logit lens"),
        (lambda: fm.embed(["the cat", "a dog"], model="srv"), "embed texts"),
        (
            lambda: fm.finetune(pd.DataFrame({"text": ["a b", "c d"] * 4}), text="text", model="srv"),
            "be fine-tuned",
        ),
    ],
)
def test_features_that_need_weights_refuse_an_api_model_before_any_request(api_model, proxy, call, what):
    with pytest.raises(WrongFamilyError, match=WEIGHTS.format(what)):
        call()
    assert proxy.requests == 0


@pytest.mark.parametrize(
    "line, what",
    [
        ('attention "the cat sat" --model srv', "show attention"),
        ('lens "the cat sat" --model srv', "run the logit lens"),
        ("embed texts --model srv", "embed texts"),
        ("finetune df --text text --model srv", "be fine-tuned"),
    ],
)
def test_the_magics_refuse_an_api_model_in_one_sentence(ip, api_model, proxy, line, what):
    ip.user_ns["texts"] = ["the cat", "a dog"]
    ip.user_ns["df"] = pd.DataFrame({"text": ["a b", "c d"] * 4})
    with pytest.raises(WrongFamilyError, match=WEIGHTS.format(what)):
        ip.run_line_magic("fm", line)
    assert proxy.requests == 0
