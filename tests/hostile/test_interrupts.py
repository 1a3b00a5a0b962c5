"""A kernel interrupt (a real SIGINT) during long work keeps what was done and breaks nothing.

The signal is sent from inside the work, a few model calls in (a forward hook, or the training
monitor's step), so it lands mid-run on any machine, as a person's Ctrl-C would: then the
partial result is there, the registry and the store are as they were plus that result, and the
next call works.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import warnings

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.notices import FMWarning
from fmwidgets.core.models.registry import registry
from fmwidgets.core.training.monitor import TrainingMonitor

ROWS = pd.DataFrame({"q": [f"question number {i}" for i in range(2000)], "a": ["1"] * 2000,
                     "label": ["x", "y"] * 1000})


def interrupt_after(module, calls: int):
    """A forward hook that sends this process SIGINT on the module's ``calls``-th forward pass."""
    seen = []

    def hook(*_):
        seen.append(1)
        if len(seen) == calls:
            os.kill(os.getpid(), signal.SIGINT)

    return module.register_forward_hook(hook)


def noted(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, FMWarning)]


def intact(store_file) -> None:
    db = sqlite3.connect(store_file)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_generate_df_and_evaluate_keep_the_rows_done(gpt2, isolated_store, capsys):
    names = registry.names()
    for run in ("generate_df", "evaluate"):
        hook = interrupt_after(gpt2.model, 12)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if run == "generate_df":
                    out = fm.generate_df(ROWS, "{q}", model="gpt2", max_new_tokens=3, greedy=True, batch_size=8,
                                         progress=True)
                    done = int(out["output"].notna().sum())
                else:
                    result = fm.evaluate(ROWS, "{q}", model="gpt2", reference="a", max_new_tokens=3, greedy=True,
                                         batch_size=8, name="cut")
                    done = int(result.table["output"].notna().sum())
                    assert result.partial and fm.evaluations()["partial"].tolist() == [True]
        finally:
            hook.remove()
        assert 0 < done < len(ROWS), run
        assert any(f"Interrupted after {done:,} of 2,000 rows" in n or f"Interrupted after {done} of 2000" in n
                   for n in noted(caught)), noted(caught)
    shown = capsys.readouterr().err  # the progress bars were there from the start
    assert "generating:   0%" in shown and "evaluating:   0%" in shown and "/2000" in shown
    assert registry.names() == names
    intact(isolated_store)
    again = fm.evaluate(ROWS[:4], "{q}", model="gpt2", reference="a", max_new_tokens=2, greedy=True, name="next")
    assert not again.partial and len(fm.evaluations()) == 2


class InterruptAt(TrainingMonitor):
    """Sends SIGINT when training reaches step ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def on_step(self, step, total, epoch, elapsed):
        if step == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_finetune_stops_after_the_step_and_keeps_the_model(bert, isolated_store):
    result = fm.finetune(ROWS[:400], text="q", label="label", model="bert", epochs=2, batch_size=8,
                         monitor=InterruptAt(3), as_="cut-ft")
    assert result.status == "interrupted" and 3 <= result.steps < result.total_steps
    assert registry.names() == ["bert", "cut-ft"]
    assert len(fm.predict(["question number 1"], model="cut-ft")) == 1  # the next call works
    intact(isolated_store)


def test_index_build_and_add_keep_the_rows_embedded(bert, tmp_path):
    hook = interrupt_after(bert.model.base_model, 5)  # what embedding runs
    try:
        with pytest.warns(FMWarning, match=r"Interrupted after .* are in the index"):
            idx = fm.index(ROWS, text="q", model="bert", path=str(tmp_path / "idx"))
    finally:
        hook.remove()
    built = len(idx)
    assert 0 < built < len(ROWS)
    assert len(idx.search("question number 7", k=3)) == 3
    hook = interrupt_after(bert.model.base_model, 5)  # what embedding runs
    try:
        with pytest.warns(FMWarning, match=r"Interrupted after .* were added"):
            idx.add(ROWS.iloc[:600])
    finally:
        hook.remove()
    assert built < len(idx) < built + 600
    again = fm.open_index(str(tmp_path / "idx"), model="bert")  # what is on disk is whole
    assert len(again) == len(idx) and registry.names() == ["bert"]
