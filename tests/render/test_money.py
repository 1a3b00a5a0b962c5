"""One spelling of a cost everywhere it shows: beside a reply, in a comparison, in an evaluation's
totals and beside a progress bar ($ with six decimals, or "cost unknown" where no price was set,
never $0)."""

from __future__ import annotations

import math

from fmwidgets.api import progress_bar
from fmwidgets.render.generate import dollars, money


def test_a_cost_is_six_decimals_and_an_unknown_one_says_so():
    assert dollars(1.5e-5) == "$0.000015" and dollars(0) == "$0.000000"
    assert dollars(math.nan) == "cost unknown (no price set)" and dollars(None) == "cost unknown (no price set)"
    assert money(None) == "" and money({"cost": 2e-6}) == "$0.000002"


def test_the_progress_bar_shows_tokens_and_cost_in_the_same_spelling(capsys):
    with progress_bar("rows", total=2) as advance:
        advance(2, 2, {"tokens": 1234, "cost": 1.5e-5})
    with progress_bar("rows", total=1) as advance:
        advance(1, 1, {"tokens": 20, "cost": math.nan})
    shown = capsys.readouterr().err
    assert "1,234 tokens, $0.000015" in shown and "20 tokens, cost unknown" in shown
