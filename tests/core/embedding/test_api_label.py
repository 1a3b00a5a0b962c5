"""fm.label(method="prompt") on an API-served model: by the reply on the real server (the same
reply as the model greedy in this process), by a parsed reply, by the first reply token's
log-probabilities, and the refusals in one sentence.

``transformers serve`` returns no log-probabilities, so that path is tested with the FaultProxy
answering as a server that does (``serving_logprobs``): ``logprobs.content[0].top_logprobs`` in
the shape llama.cpp's llama-server sends (checked by hand against a real llama-server; OpenAI and
vLLM send the same fields).  Expected scores are worked out here from the probabilities sent. The same path against the real
llama-server, checked against the model in-process: tests/core/models/test_llama_logprobs.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, WrongFamilyError
from fmwidgets.notices import FMWarning
from fmwidgets.testing_server import chat_body, logprobs_reply, serving_logprobs

REVIEWS = pd.DataFrame({"review": ["what a great film", "an awful, boring film", "it was a film"]})
LABELS = ["positive", "negative", "neutral"]


def user_text(request):
    return request["messages"][-1]["content"]


def test_labels_by_the_reply_on_the_real_server_as_the_model_replies_in_this_process(
    api_model, served_local, proxy
):
    out = fm.label(REVIEWS, text="review", labels=LABELS, method="prompt", model="srv")
    assert proxy.count() == 3 and out.attrs["fmwidgets"]["scored_by"] == "reply"
    sent = [chat_body(body) for _, _, body, _ in proxy.log]
    assert all("logprobs" not in s and s["temperature"] == 0 and s["max_tokens"] == 16 for s in sent)
    for i, review in enumerate(REVIEWS["review"]):
        (request,) = [s for s in sent if f"<text>\n{review}\n</text>" in user_text(s)]
        assert "Labels: positive, negative, neutral" in user_text(request)
        assert f"<text>\n{REVIEWS['review'][i]}\n</text>" in user_text(request)
        here = fm.generate(user_text(request), model="local", greedy=True, max_new_tokens=16, chat=True, stream=False)
        reply = here.text.strip()[:200]
        if out["label"][i] is None:  # the tiny random model names no label: the same score for each
            assert out["label_reason"][i] == f"no label in the reply: {reply!r}"
            assert out.loc[i, [f"score_{lab}" for lab in LABELS]].tolist() == pytest.approx([1 / 3] * 3)
            assert out["confidence"][i] == pytest.approx(1 / 3)
        else:
            assert out["label_reason"][i] == f"the reply names it: {reply!r}"
    assert out[[f"score_{lab}" for lab in LABELS]].notna().all().all()
    assert (out["tokens_in"] > 0).all() and out["cost"].isna().all()  # no price set: unknown, not $0


REPLIES = {"what a great film": "Positive.", "an awful, boring film": "I'd say negative, not neutral", "it was a film": "Hmm"}


def test_a_parsed_reply_gives_its_label_and_a_reply_naming_none_gives_none(api_model, proxy):
    def rule(n, path, body):
        text = user_text(chat_body(body))
        said = next(r for review, r in REPLIES.items() if f"<text>\n{review}\n</text>" in text)
        reply = logprobs_reply("m", [(said, {said: 1.0})])
        reply["choices"][0]["logprobs"] = None  # as transformers serve answers
        return 200, reply

    proxy.reset(rule=rule)
    fm.settings().prices = {api_model.model_id: (1.0, 2.0)}
    try:
        out = fm.label(REVIEWS, text="review", labels=LABELS, method="prompt", model="srv")
    finally:
        fm.settings().prices = {}
    # what each request spent, as the server reported it: 10 tokens in, 1 out
    assert out["tokens_in"].tolist() == [10] * 3 and out["tokens_out"].tolist() == [1] * 3
    assert out["cost"].tolist() == pytest.approx([(10 * 1.0 + 1 * 2.0) / 1e6] * 3) and (out["seconds"] > 0).all()
    assert out["label"].tolist()[:2] == ["positive", "negative"] and pd.isna(out["label"][2])
    assert out.loc[0, ["score_positive", "score_negative", "score_neutral"]].tolist() == [1.0, 0.0, 0.0]
    assert out.loc[1, ["score_positive", "score_negative", "score_neutral"]].tolist() == [0.0, 1.0, 0.0]
    assert out["confidence"].tolist() == pytest.approx([1.0, 1.0, 1 / 3])
    assert "label_mass" not in out  # no probabilities were read
    assert out["label_reason"].tolist() == [
        "the reply names it: 'Positive.'",
        "the reply names it: \"I'd say negative, not neutral\"",
        "no label in the reply: 'Hmm'",
    ]


# first-token distributions the "server" returns, by review
FIRST = {
    "what a great film": [(" pos", {" pos": 0.5, "Positive": 0.2, "neg": 0.1, "ne": 0.1, "The": 0.1})],
    "an awful, boring film": [("Neg", {"Neg": 0.4, " negative": 0.4, "Neutral": 0.2})],
    # no top token begins a label: the reply's text decides
    "it was a film": [("The", {"The": 0.6, "I": 0.4}), (" answer is neutral", {" answer is neutral": 1.0})],
}


def test_labels_by_the_first_reply_tokens_probabilities_where_the_server_returns_them(served, proxy, ip):
    def reply(request):
        text = user_text(request)
        return next((t for review, t in FIRST.items() if f"<text>\n{review}\n</text>" in text), [("Hi", {"Hi": 1.0})])

    proxy.reset(rule=serving_logprobs(served.model, reply))
    fm.load(served.model, base_url=proxy.base_url, as_="lpl", max_retries=0)
    ip.user_ns["reviews"] = REVIEWS
    out = ip.run_line_magic("fm", "label reviews --text review --labels positive,negative,neutral --method prompt --model lpl")
    assert out.attrs["fmwidgets"]["scored_by"] == "logprobs"
    scores = out[[f"score_{lab}" for lab in LABELS]].to_numpy()
    # row 0: positive 0.5 + 0.2, negative 0.1 + half of "ne" 0.1, neutral the other half; of 0.9
    assert scores[0].tolist() == pytest.approx([0.7 / 0.9, 0.15 / 0.9, 0.05 / 0.9])
    assert scores[1].tolist() == pytest.approx([0.0, 0.8, 0.2])
    assert scores[2].tolist() == [0.0, 0.0, 1.0]
    assert out["label"].tolist() == ["positive", "negative", "neutral"]
    assert out["label_mass"].tolist() == pytest.approx([0.9, 1.0, 0.0])  # what the labels got
    assert out["label_reason"].tolist() == [
        "first-token probabilities (0.90 on tokens that begin a label)",
        "first-token probabilities (1.00 on tokens that begin a label)",
        "the reply names it: 'The answer is neutral'",
    ]
    asked = [chat_body(body) for _, path, body, _ in proxy.log if path.endswith("/chat/completions")]
    assert [a["top_logprobs"] for a in asked] == [1, 20, 20, 20]  # asked once, then one request a row


def test_label_methods_that_need_weights_refuse_an_api_model_in_one_sentence(api_model, proxy, ip):
    for method in ("embedding", "nli", "clip"):
        with pytest.raises(WrongFamilyError, match=rf"cannot label texts with method='{method}'.*load the weights"):
            fm.label(REVIEWS, text="review", labels=LABELS, method=method, model="srv")
    with pytest.raises(BadArgumentError, match="served by its own server, which runs the rows; leave engine= out"):
        fm.label(REVIEWS, text="review", labels=LABELS, method="prompt", model="srv", engine="ray")
    ip.user_ns["reviews"] = REVIEWS
    with pytest.raises(WrongFamilyError, match="cannot label texts with method='nli'"):
        ip.run_line_magic("fm", "label reviews --text review --labels a,b --method nli --model srv")
    assert proxy.requests == 0


def test_an_interrupt_keeps_the_rows_answered_and_says_how_many_are_not(api_model, proxy):
    import _thread
    import time

    def rule(n, path, body):
        if n == 2:  # the kernel's interrupt arrives while the batch waits for its rows, and the
            _thread.interrupt_main()  # proxy holds the rest back meanwhile
            time.sleep(1.0)
        return None

    proxy.reset(rule=rule)
    with pytest.warns(FMWarning, match=r"Interrupted with [23] of 3 rows unanswered; they have no label"):
        out = fm.label(REVIEWS, text="review", labels=LABELS, method="prompt", model="srv")
    unanswered = [r == "interrupted before the server replied" for r in out["label_reason"]]
    assert any(unanswered) and len(out) == 3
    assert out[[f"score_{lab}" for lab in LABELS]].notna().all().all()
