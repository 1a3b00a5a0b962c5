"""Streaming into a notebook output: throttled updates, final result with its record."""

import time

from IPython.utils.capture import capture_output

import fmwidgets as fm
from fmwidgets.config import settings
from fmwidgets.render.generate import text_bundle
from fmwidgets.widgets.stream import Throttle


def test_throttle_limits_updates_and_flush_shows_the_last():
    shown = []
    view = Throttle(shown.append, interval=10)
    for i in range(50):
        view([f"text {i}"])
    assert shown == [["text 0"]]
    view.flush()
    assert shown[-1] == ["text 49"] and view.updates == 2


def test_throttle_passes_everything_with_no_interval():
    shown = []
    view = Throttle(shown.append, interval=0)
    for i in range(5):
        view([str(i)])
        time.sleep(0.001)
    assert len(shown) == 5


def test_text_bundle_escapes():
    data = text_bundle(["<img src=x onerror=alert(1)>"], note="<b>")
    assert "<img" not in data["text/html"] and "&lt;img" in data["text/html"] and "&lt;b&gt;" in data["text/html"]


def test_streamed_generate_updates_one_output_and_ends_with_the_result(gpt2, ip):
    old = settings().stream_interval
    settings().stream_interval = 0
    try:
        with capture_output() as captured:
            gen = fm.generate("the cat", max_new_tokens=8, greedy=True, stream=True)
    finally:
        settings().stream_interval = old
    outputs = captured.outputs
    assert len(outputs) >= 8  # the placeholder, then one update per token, then the result
    assert outputs[-1].metadata["fmwidgets"]["kind"] == "generate"
    assert gen.text in outputs[-1].data["text/plain"]
    same = fm.generate("the cat", max_new_tokens=8, greedy=True, stream=False)
    assert same.token_ids == gen.token_ids


def test_keep_false_clears_the_live_text(gpt2, ip):
    with capture_output() as captured:
        fm.generate("the cat", max_new_tokens=3, greedy=True, stream=True, keep=False)
    assert captured.outputs[-1].data == {"text/plain": ""}


def test_generate_df_shows_a_progress_bar(gpt2, ip):
    import pandas as pd

    with capture_output() as captured:
        out = fm.generate_df(pd.DataFrame({"t": ["a", "b"]}), "{t}", max_new_tokens=2, greedy=True)
    assert out["output"].notna().all()
    assert "2/2" in captured.stderr


def test_a_call_that_fails_before_generating_leaves_no_output(bert, ip):
    import pytest

    from fmwidgets.errors import WrongFamilyError

    with capture_output() as captured, pytest.raises(WrongFamilyError):
        fm.generate("hello", model="bert", stream=True)
    assert captured.outputs == []
