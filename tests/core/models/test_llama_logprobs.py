"""The log-probability paths of API-served models against llama.cpp's llama-server: fm.token_probs,
fm.judge(method="logprobs") (scores and pairwise verdicts) and fm.label(method="prompt").

Each expected value is worked out here from the same weights run in this process with
transformers (the server's model is an f32 GGUF copy of the folder): the next-token distribution
after the chat template, restricted to the 20 most likely tokens where the server reads only its
top 20.  llama.cpp's kernels round differently, hence TOL.  ``llama_judge`` serves a tiny model
taught to answer the judge's and fm.label's prompts (tests/conftest.py), since a random one puts
next to no probability on a score digit.
"""

from __future__ import annotations

import functools

import pandas as pd
import pytest
import torch

import fmwidgets as fm
from fmwidgets.core.embedding.served_label import label_messages

TOL = 5e-3
TOP = 20  # alternatives the judge and fm.label ask the server for


class InProcess:
    """The server's model, loaded here with transformers: next-token probabilities by token text."""

    def __init__(self, folder: str) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder).eval()
        self.texts = [self.tok.decode([i]) for i in range(self.model.config.vocab_size)]

    def probs(self, message: str, reply: list[int] | None = None) -> torch.Tensor:
        """The distribution of the next token after ``message`` (as the user's, templated) and
        the reply tokens so far."""
        text = self.tok.apply_chat_template(
            [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
        )
        ids = self.tok(text, add_special_tokens=False)["input_ids"] + list(reply or [])
        with torch.no_grad():
            return self.model(torch.tensor([ids])).logits[0, -1].softmax(-1)

    def by_text(self, probs: torch.Tensor, top: int | None = None) -> dict[str, float]:
        """{token text: probability} over the vocabulary, or over its ``top`` most likely tokens."""
        ids = range(len(probs)) if top is None else probs.topk(top).indices.tolist()
        out: dict[str, float] = {}
        for i in ids:
            out[self.texts[i]] = out.get(self.texts[i], 0.0) + float(probs[i])
        return out


@functools.cache
def in_process(folder: str) -> InProcess:
    return InProcess(folder)


def test_token_probs_of_the_served_reply_equal_the_model_in_process(llama):
    fm.load(llama.model, base_url=llama.base_url, as_="llama_oai")
    shown = fm.token_probs("hello there", model="llama_oai", max_new_tokens=6, top_k=5)
    local = in_process(llama.folder)
    reply: list[int] = []
    for token, p, alternatives in zip(shown.tokens, shown.probs, shown.alternatives):
        probs = local.probs("hello there", reply)
        everything = local.by_text(probs)
        assert p == pytest.approx(everything[token], abs=TOL)
        assert [t for t, _ in alternatives] == list(local.by_text(probs, 5))  # the same top 5, in order
        assert all(q == pytest.approx(everything[t], abs=TOL) for t, q in alternatives)
        best = int(probs.argmax())
        if local.texts[best] != token:
            break  # greedy took the other side of a near-tie (rounding): the rest is another reply
        reply.append(best)
    assert len(reply) >= 1 and len(shown.tokens) == 6


def expected_judgement(local: InProcess, sent: str, values: list[str]) -> tuple[float, float]:
    """(probability-weighted score, mass) over the score tokens among the 20 most likely."""
    top = local.by_text(local.probs(sent), TOP)
    on = {v: sum(p for t, p in top.items() if t.strip() == v) for v in values}
    mass = sum(on.values())
    return sum(float(v) * p for v, p in on.items()) / mass, mass


DATA = pd.DataFrame(
    {
        "question": ["where is the dog", "what is the weather like", "who won the match"],
        "answer": ["the dog is in the park", "sunny with a light breeze", "our team won"],
        "other": ["on the mat", "it will rain", "nobody"],
    }
)


def test_the_log_probability_judge_on_the_served_model_equals_the_model_in_process(llama_judge):
    fm.load(llama_judge.model, base_url=llama_judge.base_url, as_="grader")
    judge = fm.judge(model="grader", method="logprobs")
    run = fm.evaluate(DATA, "{question}", output="answer", evaluators=[judge], progress=False, name="a")
    local = in_process(llama_judge.folder)
    for sent, score, mass in zip(run.table["judge_prompt"], run.table["judge"], run.table["judge_mass"]):
        want_score, want_mass = expected_judgement(local, sent, ["1", "2", "3", "4", "5"])
        assert mass == pytest.approx(want_mass, abs=TOL) and mass > 0.5
        assert score == pytest.approx(want_score, abs=TOL)
    assert run.summary.loc["judge", "low_mass"] == 0
    # pairwise: each order's verdict is the more likely of A and B in this process
    fm.evaluate(DATA, "{question}", output="other", progress=False, name="b")
    pairs = fm.compare_evaluations("a", "b", judge=fm.judge(model="grader", pairwise=True, method="logprobs"))
    for order in ("ab", "ba"):
        for sent, verdict in zip(pairs.table[f"judge_prompt_{order}"], pairs.table[f"judge_{order}"]):
            p_a, p_b = (local.by_text(local.probs(sent), TOP).get(c, 0.0) for c in "AB")
            assert p_a + p_b > 0.5 and abs(p_a - p_b) > 2 * TOL  # no near-tie for rounding to flip
            said = "A" if p_a > p_b else "B"
            assert verdict == {"ab": {"A": "a", "B": "b"}, "ba": {"A": "b", "B": "a"}}[order][said]
    # the taught judge says A whichever answer comes first: position bias, seen as inconsistency
    assert not pairs.table["judge_consistent"].any() and set(pairs.table["judge_preference"]) == {"tie"}


@pytest.mark.parametrize(
    "server, labels",
    [("llama", ["fine", "film"]), ("llama_judge", ["good", "bad"])],
    ids=["random-model", "taught-model"],
)
def test_label_scores_and_mass_on_the_served_model_equal_the_model_in_process(server, labels, request):
    """The label scores are the first token's probability on tokens that begin each label,
    normalised; ``label_mass`` is how much probability that was.  The random model's first tokens
    begin these labels only by chance (" fil", " f"), so its confident labels (one is 1.0) come
    from a few hundredths of the probability, and the column says so."""
    served = request.getfixturevalue(server)
    fm.load(served.model, base_url=served.base_url, as_="labeller")
    texts = ["the cat sat on the mat", "i did not like the film, the story was boring"]
    table = fm.label(pd.DataFrame({"text": texts}), "text", labels, method="prompt", model="labeller")
    assert table.attrs["fmwidgets"]["scored_by"] == "logprobs"
    local = in_process(served.folder)
    for i, text in enumerate(texts):
        top = local.by_text(local.probs(label_messages(text, labels, labels)[0]["content"]), TOP)
        shares = [0.0] * len(labels)
        for token, p in top.items():
            word = token.strip().casefold()
            hit = [j for j, name in enumerate(labels) if word and name.startswith(word)]
            for j in hit:
                shares[j] += p / len(hit)
        mass = sum(shares)
        assert table["label_mass"][i] == pytest.approx(mass, abs=TOL)
        scores = [table[f"score_{name}"][i] for name in labels]
        assert scores == pytest.approx([s / mass for s in shares], abs=TOL)
    if server == "llama":
        assert table["label_mass"].lt(0.1).all() and table["confidence"].gt(0.6).all()
    else:
        assert table["label_mass"].gt(0.5).all()
