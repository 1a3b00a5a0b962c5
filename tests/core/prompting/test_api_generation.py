"""fm.generate, fm.chat, fm.generate_df and fm.evaluate on an API-served model (transformers serve
behind the counting proxy), compared with the same folder loaded in this process."""

from __future__ import annotations

import json
import math
import threading

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.prompting.chat import chat_reply
from fmwidgets.core.prompting.generate import generate_text
from fmwidgets.errors import BadArgumentError, DataError

PROMPTS = ["the cat sat", "one two three", "a dog ran", "hello world", "red green blue", "good bad"]


def test_greedy_chat_through_the_server_equals_chat_in_this_process(api_model, served_local, proxy):
    first = fm.chat("hello world", model="srv", system="be brief", max_new_tokens=8, stream=False)
    here = fm.chat("hello world", model="local", system="be brief", max_new_tokens=8, stream=False)
    assert first.text == here.text and first.text.strip()
    # the next turn: the conversation so far goes back to the server
    second = fm.chat("and then", model="srv", conversation=first.conversation, max_new_tokens=8, stream=False)
    again = fm.chat(
        "and then", model="local", conversation=list(here.conversation), max_new_tokens=8, stream=False
    )
    assert second.text == again.text
    sent = json.loads(proxy.log[-1][2])
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["temperature"] == 0 and sent["max_tokens"] == 8  # greedy: the server's deterministic setting
    assert second.record.kind == "chat" and second.record.family == "api"
    assert second.record.endpoint["served_model"] == api_model.model_id
    assert (second.usage["tokens_out"], second.steps) == (8, 8) and second.usage["tokens_in"] > 8
    plain = fm.generate("the cat sat", model="srv", max_new_tokens=6, stream=False)
    assert (
        plain.text
        == fm.generate("the cat sat", model="local", chat=True, max_new_tokens=6, stream=False).text
    )
    assert "6 in" not in plain.summary() and "cost unknown (no price set)" in plain.summary()


def test_streaming_shows_the_text_as_it_comes_and_stop_keeps_it(api_model):
    whole = generate_text("the cat sat", model="srv", max_new_tokens=12)
    seen: list[list[str]] = []
    streamed = generate_text("the cat sat", model="srv", max_new_tokens=12, on_text=seen.append)
    assert streamed.text == whole.text and len(seen) > 3 and seen[-1] == [whole.text]
    assert streamed.first_token_seconds is not None and streamed.usage["tokens_out"] == 12
    stop = threading.Event()

    def press_stop(texts):
        if len(texts[0]) > 4:
            stop.set()

    stopped = generate_text(
        "the cat sat", model="srv", max_new_tokens=12, on_text=press_stop, stop_event=stop
    )
    assert stopped.stopped == "stopped" and whole.text.startswith(stopped.text) and stopped.text != whole.text


def test_an_interrupt_while_streaming_keeps_the_partial_text(api_model):
    whole = chat_reply("the cat sat", model="srv", max_new_tokens=12).text
    pieces = []

    def interrupt_after_three(texts):  # a kernel interrupt arrives wherever the main thread is
        pieces.append(texts[0])
        if len(pieces) == 3:
            raise KeyboardInterrupt

    with pytest.warns(
        fm.notices.FMWarning, match="kept the partial text"
    ):
        reply = chat_reply("the cat sat", model="srv", max_new_tokens=12, on_text=interrupt_after_three)
    assert reply.stopped == "interrupted" and reply.text == pieces[-1] and whole.startswith(reply.text)
    assert reply.conversation[-1] == {"role": "assistant", "content": reply.text}


def test_sampling_is_sent_the_way_the_server_takes_it(api_model, proxy):
    a = fm.generate("the cat sat", model="srv", max_new_tokens=8, temperature=1.5, seed=7, stream=False)
    b = fm.generate("the cat sat", model="srv", max_new_tokens=8, temperature=1.5, seed=7, stream=False)
    greedy = fm.generate("the cat sat", model="srv", max_new_tokens=8, stream=False)
    body = json.loads(proxy.log[0][2])
    # transformers serve samples only through a generation_config (temperature alone stays greedy)
    assert json.loads(body["generation_config"]) == {
        "do_sample": True,
        "max_new_tokens": 8,
        "temperature": 1.5,
    }
    assert body["seed"] == 7 and a.text == b.text != greedy.text
    assert a.record.seed == 7 and a.record.params["do_sample"] is True
    three = fm.generate("the cat sat", model="srv", max_new_tokens=6, n=3, seed=1, stream=False)
    assert len(three.texts) == 3 and len(set(three.texts)) > 1  # n requests, seeds 1, 2, 3


def test_generate_df_sends_rows_concurrently_and_keeps_their_order(api_model, served_local, proxy):
    df = pd.DataFrame({"q": PROMPTS * 4})
    out = fm.generate_df(df, "{q}", model="srv", max_new_tokens=8, progress=False)
    here = fm.generate_df(df, "{q}", model="local", chat=True, max_new_tokens=8, progress=False)
    assert out["output"].tolist() == here["output"].tolist()
    assert len(set(out["output"])) == len(PROMPTS)  # the rows differ, so their order is checked
    assert proxy.count("/chat/completions") == len(df) and 1 < proxy.peak <= api_model.max_concurrency
    assert out["tokens_out"].eq(8).all() and out["tokens_in"].gt(0).all() and out["seconds"].gt(0).all()
    assert out["cost"].isna().all()  # no price set: unknown, not $0
    assert out.attrs["fmwidgets"]["endpoint"]["host"] == api_model.host


def test_generate_df_progress_reports_rows_tokens_and_cost(api_model):
    fm.settings().prices = {api_model.model_id: (1.0, 2.0)}
    try:
        seen = []
        from fmwidgets.core.prompting.generate_df import generate_table

        out = generate_table(
            pd.DataFrame({"q": PROMPTS}),
            "{q}",
            model="srv",
            max_new_tokens=4,
            progress=lambda *a: seen.append(a),
        )
        done, total, spent = seen[-1]
        assert (done, total) == (6, 6) and spent["tokens"] == int(out.tokens_in.sum() + out.tokens_out.sum())
        assert spent["cost"] == pytest.approx(out["cost"].sum())
        expected = (out["tokens_in"] * 1.0 + out["tokens_out"] * 2.0) / 1e6
        assert out["cost"].tolist() == pytest.approx(expected.tolist())
        two_args = []
        generate_table(
            pd.DataFrame({"q": PROMPTS[:2]}),
            "{q}",
            model="srv",
            max_new_tokens=2,
            progress=lambda d, t: two_args.append(d),
        )
        assert two_args[-1] == 2
    finally:
        fm.settings().prices = {}


def test_evaluate_caches_rows_so_a_rerun_sends_nothing(api_model, proxy):
    data = pd.DataFrame({"q": PROMPTS, "ref": ["x"] * len(PROMPTS)})
    with pytest.warns(Warning, match="cost is NaN"):
        first = fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=6, progress=False)
    assert proxy.count("/chat/completions") == len(PROMPTS)
    assert first.table[["tokens_in", "tokens_out", "seconds"]].notna().all().all()
    assert first.totals["tokens_out"] == 6 * len(PROMPTS) and math.isnan(first.totals["cost"])
    shown = first._repr_mimebundle_()[0]
    assert (
        f"{len(PROMPTS)} API rows · " in shown["text/plain"]
        and "cost unknown (no price set" in shown["text/html"]
    )
    proxy.reset()
    fm.settings().prices = {api_model.model_id: (0.15, 0.60)}
    try:
        again = fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=6, progress=False)
    finally:
        fm.settings().prices = {}
    assert proxy.requests == 0 and again.record.params["cache_hits"] == len(PROMPTS)
    assert again.table["output"].tolist() == first.table["output"].tolist()
    assert again.totals["cost"] == pytest.approx(
        (first.totals["tokens_in"] * 0.15 + first.totals["tokens_out"] * 0.6) / 1e6
    )
    listed = fm.evaluations().set_index("name")
    assert listed.loc[again.name, "tokens_out"] == 6 * len(PROMPTS) and listed.loc[again.name, "cost"] > 0
    assert math.isnan(listed.loc[first.name, "cost"])
    assert f"({len(PROMPTS)} from the cache)" in again._repr_mimebundle_()[0]["text/plain"]
    stored = fm.load_evaluation(again.name)
    assert stored.table["cost"].tolist() == pytest.approx(again.table["cost"].tolist())
    # another setting is another request: only what changed is sent
    fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=7, progress=False)
    assert proxy.count("/chat/completions") == len(PROMPTS)


def test_the_chat_magic_holds_a_conversation_with_a_served_model(ip, api_model, proxy):
    from fmwidgets.magics.chat import conversations

    conversations.pop("srv", None)
    first = ip.run_cell_magic("fm", "chat --model srv --max-new-tokens 4 --system 'be brief'", "hello")
    second = ip.run_cell_magic("fm", "chat --model srv --max-new-tokens 4", "and then")
    assert second.conversation[:3] == first.conversation and len(second.conversation) == 5
    assert [m["role"] for m in json.loads(proxy.log[-1][2])["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]


def test_latency_and_cost_are_evaluators(api_model, proxy, gpt2):
    data = pd.DataFrame({"q": PROMPTS, "ref": ["x"] * len(PROMPTS)})
    fm.settings().prices = {api_model.model_id: (1.0, 2.0)}
    try:
        run = fm.evaluate(
            data, "{q}", model="srv", evaluators=["latency", "cost"], max_new_tokens=3, progress=False
        )
    finally:
        fm.settings().prices = {}
    assert run.table["latency"].tolist() == run.table["seconds"].tolist() and (run.table["latency"] > 0).all()
    expected = (run.table["tokens_in"] * 1.0 + run.table["tokens_out"] * 2.0) / 1e6
    assert run.table["cost"].tolist() == pytest.approx(expected.tolist())
    assert run.summary.loc["cost", "mean"] == pytest.approx(expected.mean())
    sent = proxy.requests
    with pytest.raises(BadArgumentError, match="'cost' needs an API-served model"):
        fm.evaluate(data, "{q}", model=gpt2, evaluators=["cost"], max_new_tokens=2, progress=False)
    given = pd.DataFrame({"answer": ["a", "b"], "seconds": [0.5, 1.5]})
    assert fm.evaluate(given, output="answer", evaluators=["latency"]).summary.loc["latency", "mean"] == 1.0
    with pytest.raises(DataError, match="reads the 'cost' column"):
        fm.evaluate(given, output="answer", evaluators=["cost"])
    assert proxy.requests == sent
    from fmwidgets.core.evaluation.compare import lower_is_better

    assert lower_is_better("latency") and lower_is_better("cost")
