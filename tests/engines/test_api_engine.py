"""The concurrent API batcher against the real server, with faults injected by the proxy: retries
that cost requests and no rows, failed rows named with the finished ones kept, interrupts."""

from __future__ import annotations

import json
import os
import signal
import threading

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.errors import EngineError

ROWS = [f"row {i}: the cat sat" for i in range(8)]


def _row_of(body: bytes) -> int | None:
    try:
        text = json.loads(body)["messages"][-1]["content"]
    except (ValueError, KeyError, IndexError):
        return None
    return int(text.split(":")[0].split()[1]) if text.startswith("row ") else None


def test_rate_limits_and_dropped_connections_cost_retries_not_rows(api_model, proxy):
    df = pd.DataFrame({"q": ROWS})
    clean = fm.generate_df(df, "{q}", model="srv", max_new_tokens=4, progress=False)
    proxy.reset({2: 429, 4: 503, 6: "drop"})
    out = fm.generate_df(df, "{q}", model="srv", max_new_tokens=4, progress=False)
    assert out["output"].tolist() == clean["output"].tolist()  # every row, in its place
    assert proxy.requests == len(ROWS) + 3
    assert [a for *_, a in proxy.log].count("forwarded") == len(ROWS)


def test_a_row_that_keeps_failing_is_named_and_the_others_are_kept(api_model, proxy):
    data = pd.DataFrame({"q": ROWS, "ref": ["x"] * len(ROWS)})
    proxy.reset(rule=lambda n, path, body: 503 if _row_of(body) == 3 else None)
    with pytest.raises(
        EngineError,
        match=r"1 of 8 rows failed \(row 3 \(index 3\): The server at 127\.0\.0\.1:\d+ failed after 2 retries \(503",
    ) as caught:
        fm.generate_df(data, "{q}", model="srv", max_new_tokens=4, progress=False)
    partial = caught.value.partial
    assert isinstance(partial, pd.DataFrame) and partial["output"].isna().tolist() == [
        i == 3 for i in range(8)
    ]
    assert partial["tokens_out"].notna().sum() == 7
    assert sum(_row_of(b) == 3 for _, _, b, _ in proxy.log) == 3  # the first try and 2 retries
    # evaluate keeps the finished rows in the cache: running it again sends only row 3
    with pytest.raises(EngineError, match="row 3"):
        fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=4, progress=False)
    proxy.reset()
    result = fm.evaluate(data, "{q}", model="srv", reference="ref", max_new_tokens=4, progress=False)
    assert proxy.count("/chat/completions") == 1 and _row_of(proxy.log[0][2]) == 3
    assert result.table["output"].notna().all() and result.record.params["cache_hits"] == 7


def test_a_server_that_stays_down_ends_the_call_with_the_rows_named(served, proxy):
    handle = fm.load(served.model, base_url=proxy.base_url, as_="down", max_retries=1, max_concurrency=2)
    proxy.reset(rule=lambda n, path, body: "drop")
    with pytest.raises(
        EngineError,
        match=r"2 of 8 rows failed \(rows 0 \(index 0\), 1 \(index 1\): Nothing answers at 127\.0\.0\.1:\d+ .*after 1 retries.*6 were not sent after that.*the 0 finished are kept",
    ) as caught:
        fm.generate_df(pd.DataFrame({"q": ROWS}), "{q}", model=handle, max_new_tokens=4, progress=False)
    assert caught.value.partial["output"].isna().all()
    assert proxy.requests == 4  # two rows, one retry each; the rest were never sent


def test_an_interrupt_cancels_what_is_in_flight_and_keeps_what_finished(served, proxy):
    handle = fm.load(served.model, base_url=proxy.base_url, as_="one", max_concurrency=1)
    proxy.reset()
    rows = [f"row {i}: the weather today" for i in range(40)]
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))  # a real kernel interrupt
    timer.start()
    try:
        with pytest.warns(Warning, match=r"Interrupted after \d+ of 40 rows"):
            out = fm.generate_df(
                pd.DataFrame({"q": rows}), "{q}", model=handle, max_new_tokens=48, progress=False
            )
    finally:
        timer.cancel()
    done = out["output"].notna()
    assert 0 < done.sum() < 40 and done.tolist() == sorted(
        done.tolist(), reverse=True
    )  # in order, one at a time
    assert proxy.requests < 40  # the rows after the interrupt were never sent
    assert out.loc[done, "tokens_out"].notna().all() and out.loc[~done, "tokens_out"].isna().all()


def test_at_most_max_concurrency_requests_are_in_flight(api_model, proxy):
    fm.generate_df(pd.DataFrame({"q": ROWS * 2}), "{q}", model="srv", max_new_tokens=16, progress=False)
    assert proxy.peak == api_model.max_concurrency == 4
