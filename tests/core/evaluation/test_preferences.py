"""People's verdicts on pairs of outputs: kept in the store and the comparison's human column,
found again after a re-run and in a new process, compared with a pairwise judge, and turned into
TRL's formats (prompt/chosen/rejected for DPO, prompt/completion/label for KTO)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.evaluation.preferences import PreferenceData
from fmwidgets.errors import BadArgumentError, DataError

HOSTILE = "<script>alert(1)</script>"
LOGS = pd.DataFrame(
    {
        "q": ["one", "two", HOSTILE, "four", "five"],
        "ref": ["1", "2", "3", "4", "5"],
        "old": ["1", "x", "3", "x", "x"],
        "new": ["1", "2", "y", "4", "x"],
        "newer": ["1", "2", "y", "four!", "x"],  # "new" run again: row 3 changed
    }
)


@pytest.fixture
def runs():
    """Two stored runs over the same rows with outputs already given (no model), prompts as sent
    from two templates."""
    old = fm.evaluate(LOGS, output="old", prompt="Q: {q}\nA:", reference="ref", name="old", progress=False)
    new = fm.evaluate(LOGS, output="new", prompt="Question: {q}\nAnswer:", reference="ref", name="new", progress=False)
    return old, new


def test_verdicts_land_in_the_store_and_the_human_column(runs, isolated_store):
    diff = fm.compare_evaluations("old", "new")
    assert diff.table["prompt_a"][0] == "Q: one\nA:" and diff.table["prompt_b"][0] == "Question: one\nAnswer:"
    assert diff.table["human"].isna().all()
    review = fm.Review(diff, seed=1)
    assert type(review).__name__ == "PairReview" and review.name == "old vs new" and review.total == 5
    # the input: data and reference, not the columns that hold either side's outputs (nor "ref" twice)
    assert review.fields == [["q", "one"], ["newer", "1"], ["reference", "1"]]
    review.prefer(1, "b", "new is right")
    review.prefer(2, "a")
    review.prefer(4, "tie")
    assert diff.table["human"].tolist() == [None, "b", "a", None, "tie"]  # the comparison itself
    assert diff.table["human_comment"][1] == "new is right" and review.reviewed == 3
    db = sqlite3.connect(isolated_store)
    rows = db.execute("SELECT review, pos, a, b, output_a, output_b, verdict, shown FROM preferences ORDER BY pos").fetchall()
    db.close()
    assert [r[:7] for r in rows] == [
        ("old vs new", 1, "old", "new", "x", "2", "b"),
        ("old vs new", 2, "old", "new", "3", "y", "a"),
        ("old vs new", 4, "old", "new", "x", "x", "tie"),
    ]
    assert [r[7] for r in rows] == [review.orders[1], review.orders[2], review.orders[4]]


def test_preference_data_is_trls_format_with_ties_left_out(runs):
    diff = fm.compare_evaluations("old", "new")
    review = fm.Review(diff)
    for row, verdict in [(1, "b"), (2, "a"), (4, "tie")]:
        review.prefer(row, verdict)
    prefs = fm.preferences(diff)
    assert isinstance(prefs, PreferenceData) and prefs.kind == "pairs"
    assert prefs.to_dict("list") == {
        "prompt": ["Q: two\nA:", f"Q: {HOSTILE}\nA:"],
        "chosen": ["2", "3"],
        "rejected": ["x", "y"],
    }
    assert (prefs.ties, prefs.prompt_from, prefs.prompt_run, prefs.prompts_differ) == (1, "a", "old", 2)
    from_b = fm.preferences("old vs new", prompt_from="b")  # by the review's name, from the store
    assert from_b["prompt"].tolist() == ["Question: two\nAnswer:", f"Question: {HOSTILE}\nAnswer:"]
    assert from_b.prompt_run == "new" and from_b["chosen"].tolist() == ["2", "3"]
    dataset = prefs.to_dataset()
    assert dataset.column_names == ["prompt", "chosen", "rejected"] and dataset[1]["chosen"] == "3"
    shown = prefs._repr_mimebundle_()
    line = shown[0]["text/plain"].splitlines()[0]
    assert line == ("2 preferences from old vs new as prompt, chosen, rejected for method='dpo'; prompt is "
                    "what old (a) was sent (the two sides' prompts differ on every pair); 1 tie left out.")
    assert HOSTILE not in shown[0]["text/html"] and shown[1]["fmwidgets"]["kind"] == "preferences"


def test_verdicts_survive_a_rerun_and_a_new_process(runs, isolated_store):
    review = fm.Review(fm.compare_evaluations("old", "new"))
    review.prefer(1, "b")
    review.prefer(3, "b")
    # run "new" again: row 3's output changes, the others are the same texts
    fm.evaluate(LOGS, output="newer", prompt="Question: {q}\nAnswer:", reference="ref", name="new", progress=False)
    again = fm.compare_evaluations("old", "new")
    assert again.table["human"].tolist() == [None, "b", None, None, None]
    assert len(fm.preferences("old vs new")) == 2  # the verdict on the earlier texts is kept
    script = textwrap.dedent(f"""
        import fmwidgets as fm
        fm.settings().store_path = {str(isolated_store)!r}
        prefs = fm.preferences("old vs new")
        print(prefs["chosen"].tolist(), prefs["rejected"].tolist())
        print(fm.compare_evaluations("old", "new").table["human"].tolist())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['2', '4'] ['x', 'x']", "[None, 'b', None, None, None]"]


def test_people_and_a_pairwise_judge_compared_with_agreement(runs, judge_gpt2):
    diff = fm.compare_evaluations("old", "new", judge=fm.judge(model="judge-lm", pairwise=True))
    review = fm.Review(diff)
    verdicts = diff.table["judge_preference"].tolist()
    flipped = {"a": "b", "b": "a", "tie": "a"}
    for row, verdict in enumerate(verdicts):  # agree on the first three rows, not on the last two
        review.prefer(row, verdict if row < 3 else flipped[verdict])
    kappa = diff.agreement()
    assert kappa.n == 5 and kappa.a == "judge_preference" and kappa.b == "human"
    assert int(kappa.confusion.to_numpy().trace()) == 3
    with pytest.raises(BadArgumentError, match="no pairwise judge"):
        fm.compare_evaluations("old", "new").agreement()


def test_a_dataframe_review_by_columns():
    df = pd.DataFrame({"prompt": ["p1", "p2", "p3"], "x": ["a1", "a2", "a3"], "y": ["b1", "b2", "b3"]})
    review = fm.Review(df, a="x", b="y", input="prompt", name="cols", seed=0)
    assert review.name == "cols" and review.fields == [["prompt", "p1"]]
    for row in range(3):
        review.show(row)
        review.choose("1", advance=False)  # the left output, whichever side that was
    prefs = fm.preferences("cols")
    left = {"ab": "a", "ba": "b"}
    assert prefs["chosen"].tolist() == [f"{left[o]}{i + 1}" for i, o in enumerate(review.orders)]
    assert prefs["prompt"].tolist() == ["p1", "p2", "p3"] and prefs.prompts_differ == 0
    assert "human" not in df  # the user's DataFrame is left as it was


def test_the_sentence_says_on_how_many_kept_pairs_the_prompts_differ():
    from fmwidgets.core.evaluation.preferences import _from_pairs
    from fmwidgets.render import display_data

    rows = [("p1", "p1", "a1", "b1", "a"), ("p2", "q2", "a2", "b2", "b"), ("p3", "q3", "a3", "b3", "tie"),
            ("p4", "p4", "a4", "b4", "tie")]
    prefs = _from_pairs(rows, "a", "x vs y", "x", "y")
    assert display_data(prefs)["text/plain"].splitlines()[0].endswith(
        "(the two sides' prompts differ on 1 of the 2 pairs); 2 ties left out.")


def test_thumbs_and_five_point_ratings_give_kto_rows(runs):
    old, new = runs
    for row, rating in enumerate([1, 0, 1]):
        old.rate(row, rating)
    kto = fm.preferences("old")
    assert kto.kind == "unpaired" and list(kto.columns) == ["prompt", "completion", "label"]
    assert kto["label"].tolist() == [True, False, True] and kto["completion"].tolist() == ["1", "x", "3"]
    for row, rating in enumerate([5, 3, 1, 4]):
        new.rate(row, rating)
    five = fm.preferences(new)
    assert five["label"].tolist() == [True, False, True] and five.ties == 1  # the 3 is left out
    assert five._repr_mimebundle_()[0]["text/plain"].startswith(
        "3 rated outputs of new (2 good, 1 bad) as prompt, completion, label for method='kto'; 1 middle"
    )


def test_bad_input_is_one_sentence(runs):
    diff = fm.compare_evaluations("old", "new")
    with pytest.raises(BadArgumentError, match="not float"):
        fm.Review(4.5)
    with pytest.raises(BadArgumentError, match="a=, b= and input= columns"):
        fm.Review({"a": 1})
    with pytest.raises(BadArgumentError, match="Name the DataFrame's columns"):
        fm.Review(LOGS)
    with pytest.raises(DataError, match="no column 'nope'; its columns are 'q', 'ref', 'old', 'new', 'newer'"):
        fm.Review(LOGS, a="old", b="nope", input="q")
    with pytest.raises(BadArgumentError, match="leave them out"):
        fm.Review(diff, a="old")
    review = fm.Review(diff)
    with pytest.raises(BadArgumentError, match="'a', 'b' or 'tie', not 'left'"):
        review.prefer(0, "left")
    with pytest.raises(BadArgumentError, match="rows 0 to 4"):
        review.prefer(5, "a")
    with pytest.raises(DataError, match="No pair of 'old vs new' is reviewed yet"):
        fm.preferences(diff)
    review.prefer(0, "tie")
    with pytest.raises(DataError, match="Every verdict of 'old vs new' is a tie"):
        fm.preferences(diff)
    with pytest.raises(DataError, match="no review or evaluation named 'nobody'; reviews in the store: 'old vs new'"):
        fm.preferences("nobody")
    with pytest.raises(DataError, match="Nobody has rated 'old'"):
        fm.preferences("old")
    with pytest.raises(BadArgumentError, match="prompt_from= is 'a' or 'b'"):
        fm.preferences(diff, prompt_from="c")
    with pytest.raises(BadArgumentError, match="not list"):
        fm.preferences([1, 2])
    gaps = LOGS.assign(new=[None, "2", "3", "4", "5"])
    with pytest.raises(DataError, match="Row 0 has no output from 'new'"):
        fm.Review(gaps, a="old", b="new", input="q").prefer(0, "a")
