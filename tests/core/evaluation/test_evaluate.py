"""fm.evaluate end to end on tiny real models: the table, the cache, versions, classifiers, bad input."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import fmwidgets as fm
from fmwidgets.core.evaluation import generation
from fmwidgets.core.evaluation.run import run_evaluation
from fmwidgets.core.prompting.generate_df import generate_table
from fmwidgets.errors import BadArgumentError, DataError, FMError, WrongFamilyError
from fmwidgets.store import store
from fmwidgets.testing import CORPUS

GEN = dict(greedy=True, max_new_tokens=6)


@pytest.fixture
def qa():
    return pd.DataFrame({"q": [f"what is {i}" for i in range(10)], "a": [str(i) for i in range(10)],
                         "topic": ["x", "y"] * 5}, index=range(100, 110))


def test_table_has_inputs_prompt_output_reference_scores_and_equals_generate_df(gpt2, qa):
    result = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["exact_match", "contains"], name="first", **GEN)
    table = result.table
    assert list(table.columns) == ["q", "a", "topic", "prompt", "output", "reference", "exact_match", "contains",
                                   "seconds"]
    assert table["prompt"].iloc[0] == "Q: what is 0\nA:" and table["reference"].tolist() == qa["a"].tolist()
    plain = generate_table(qa, "Q: {q}\nA:", **GEN)
    assert table["output"].tolist() == plain["output"].tolist()  # the same batched generation
    assert list(result.summary.columns) == ["mean", "ci_low", "ci_high", "n", "failed"]
    assert result.summary.loc["exact_match", "n"] == 10 and not result.partial
    assert result.record.kind == "evaluate" and result.record.data["sha256"]
    assert result.record.params["data"]["source"] == "DataFrame"


def test_identical_rerun_comes_from_the_cache_and_cache_false_regenerates(gpt2, qa, monkeypatch):
    first = run_evaluation(qa, "Q: {q}\nA:", reference="a", **GEN)
    assert first.record.params["cache_hits"] == 0
    calls = []
    real = generation.generate_rows
    monkeypatch.setattr(generation, "generate_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = run_evaluation(qa, "Q: {q}\nA:", reference="a", **GEN)
    assert again.record.params["cache_hits"] == 10 and calls == []
    assert again.table["output"].tolist() == first.table["output"].tolist()
    fresh = run_evaluation(qa, "Q: {q}\nA:", reference="a", cache=False, **GEN)
    assert fresh.record.params["cache_hits"] == 0 and calls == [1]
    longer = run_evaluation(qa, "Q: {q}\nA:", reference="a", greedy=True, max_new_tokens=7)  # other settings: miss
    assert longer.record.params["cache_hits"] == 0


def test_saved_prompt_versions_are_immutable_and_content_hashed(gpt2, qa):
    v1 = fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=6)
    assert v1.id == "qa@1" and fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=6) == v1
    v2 = fm.save_prompt("qa", "Question: {q}\nAnswer:", max_new_tokens=6)
    assert v2.id == "qa@2" and fm.save_prompt("qa", "Q: {q}\nA:", max_new_tokens=7).id == "qa@3"
    versions = fm.prompt_versions("qa")
    assert versions["id"].tolist() == ["qa@1", "qa@2", "qa@3"] and versions["params"][0] == {"max_new_tokens": 6}
    result = run_evaluation(qa, "qa@2", reference="a", greedy=True)
    assert result.prompt == "qa@2" and result.record.params["max_new_tokens"] == 6
    assert result.table["prompt"].iloc[0] == "Question: what is 0\nAnswer:"


def test_interrupt_keeps_finished_rows_and_marks_the_run_partial(gpt2, qa):
    def interrupt(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="Interrupted after 8 of 10"):
        result = run_evaluation(qa, "Q: {q}\nA:", reference="a", batch_size=4, progress=interrupt, name="cut", **GEN)
    assert result.partial and result.table["output"].isna().tolist() == [False] * 8 + [True] * 2
    assert result.summary.loc["exact_match", "n"] == 8
    assert fm.evaluations().set_index("name").loc["cut", "partial"]


def test_the_list_of_runs_has_one_column_per_evaluator(gpt2, qa):
    def created(output, row):  # a scorer named like one of the list's own columns
        return len(output)

    first = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["exact_match"], name="a", **GEN)
    second = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["bleu", created], name="b", **GEN)
    runs = fm.evaluations().set_index("name")
    assert list(runs.columns) == ["id", "model", "prompt", "data", "rows", "exact_match", "bleu", "created (mean)",
                                  "tokens_in", "tokens_out", "seconds", "cost", "partial", "created"]
    assert runs.loc["a", "exact_match"] == first.summary.loc["exact_match", "mean"]
    assert runs.loc["b", "created (mean)"] == second.summary.loc["created", "mean"] > 0
    assert math.isnan(runs.loc["a", "bleu"]) and math.isnan(runs.loc["b", "exact_match"])
    assert runs.loc["b", "created"] == second.created


def test_stored_runs_list_and_load_back_with_ratings_and_agreement(gpt2, qa):
    result = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["exact_match", "bleu"], name="keep", **GEN)
    runs = fm.evaluations()
    assert runs["name"].tolist() == ["keep"]
    assert runs.loc[0, ["exact_match", "bleu"]].tolist() == result.summary["mean"].tolist()
    loaded = fm.load_evaluation("keep")
    pd.testing.assert_frame_equal(loaded.table, result.table, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.summary, result.summary, check_dtype=False)
    for row, rating in enumerate([1, 0, 1, 1, 0]):
        result.rate(row, rating, comment="<b>ok</b>" if row == 0 else None)
    result.table["judge"] = [1, 0, 0, 1, 0] + [math.nan] * 5
    from sklearn.metrics import cohen_kappa_score

    assert result.agreement("judge", "human") == pytest.approx(
        cohen_kappa_score(["1", "0", "1", "1", "0"], ["1", "0", "0", "1", "0"]))
    again = fm.load_evaluation("keep")
    assert again.table["human"].tolist()[:5] == [1, 0, 1, 1, 0] and again.table["human_comment"][0] == "<b>ok</b>"
    with pytest.raises(DataError, match="no stored evaluation named 'nope'.*'keep'"):
        fm.load_evaluation("nope")


def test_judge_parse_failures_are_nan_with_a_reason_and_counted(gpt2, qa):
    result = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["exact_match", fm.judge(rubric="Correct?", method="parse")], **GEN)
    table = result.table
    assert "judge_reason" in table
    failed = table["judge"].isna()
    assert all(r.startswith("no score from 1 to 5") for r in table.loc[failed, "judge_reason"])
    assert result.summary.loc["judge", "failed"] == int(failed.sum())
    assert result.summary.loc["judge", "n"] == int((~failed).sum())


def test_chat_judge_uses_the_chat_template(gpt2, chat_gpt2, qa):
    judge = fm.judge(model="chat")
    prompts = judge.prompts(["out"], pd.DataFrame({"prompt": ["in"], "reference": ["ref"]}))
    assert "<reference answer>\nref\n</reference answer>" in prompts[0]
    result = run_evaluation(qa.head(2), "Q: {q}\nA:", model="gpt2", evaluators=[judge], **GEN)
    sent = result.table["judge_prompt"]
    assert len(sent) == 2 and sent[0].startswith("user: You are grading") and sent[0].endswith("assistant:")


def test_classifier_before_and_after_finetune_compared_row_by_row(bert):
    from fmwidgets.core.training.finetune import run_finetune as finetune

    df = pd.DataFrame({"text": CORPUS, "label": [("pos", "neg")[i % 2] for i in range(len(CORPUS))]})
    finetune(df, label="label", epochs=1, batch_size=4, max_length=32, as_="weak")
    finetune(df, label="label", epochs=3, batch_size=4, max_length=32, lr=5e-3, as_="strong")
    weak = run_evaluation(df, text="text", reference="label", model="weak", name="weak")
    strong = run_evaluation(df, text="text", reference="label", model="strong", name="strong")
    assert weak.evaluators == ["accuracy", "f1_macro"]
    assert set(weak.table["output"]) <= {"pos", "neg"}  # the user's own labels
    assert strong.record.params["cache_hits"] == 0
    with pytest.raises(WrongFamilyError):  # a judge of a classifier needs a decoder: before any work
        run_evaluation(df, text="text", reference="label", model="weak", evaluators=[fm.judge()])
    diff = fm.compare_evaluations("weak", "strong", evaluator="accuracy")
    scores = diff.table[["score_a", "score_b"]]
    assert (diff.table["status"] == "improved").tolist() == (scores["score_b"] > scores["score_a"]).tolist()
    assert diff.counts.sum() == len(df) and list(diff.counts.index) == ["improved", "regressed", "same"]
    assert diff.changed["status"].tolist() == sorted(diff.changed["status"], key=lambda s: s != "regressed")


def test_compare_across_prompt_versions_marks_every_row(gpt2, qa):
    a = run_evaluation(qa, "Q: {q}\nA:", reference="a", evaluators=["chrf"], **GEN)
    b = run_evaluation(qa, "Question: {q}\nAnswer:", reference="a", evaluators=["chrf"], **GEN)
    diff = fm.compare_evaluations(a, b)
    assert diff.evaluator == "chrf" and diff.table["output_a"].tolist() == a.table["output"].tolist()
    for _, row in diff.table.iterrows():
        want = "same" if row.score_a == row.score_b else "improved" if row.score_b > row.score_a else "regressed"
        assert row.status == want
    with pytest.raises(DataError, match="share"):
        fm.compare_evaluations(a, b, evaluator="bleu")
    other = run_evaluation(qa.assign(q=qa["q"] + "?"), "Q: {q}\nA:", reference="a", evaluators=["chrf"], **GEN)
    with pytest.raises(DataError, match="different data"):
        fm.compare_evaluations(a, other)


def test_data_from_files_and_datasets(gpt2, qa, tmp_path):
    import datasets

    qa.to_csv(tmp_path / "qa.csv", index=False)
    qa.to_json(tmp_path / "qa.jsonl", orient="records", lines=True)
    qa.to_parquet(tmp_path / "qa.parquet")
    baseline = run_evaluation(qa, "Q: {q}\nA:", reference="a", **GEN).table["output"].tolist()
    for source in (tmp_path / "qa.jsonl", str(tmp_path / "qa.parquet"), datasets.Dataset.from_pandas(qa.astype(str))):
        result = run_evaluation(source, "Q: {q}\nA:", reference="a", **GEN)
        assert result.table["output"].tolist() == baseline
        assert result.record.params["data"]["datasets_fingerprint"]
    csv = run_evaluation(str(tmp_path / "qa.csv"), "Q: {q}\nA:", reference="topic", **GEN)
    assert csv.record.params["data"]["source"].startswith("file ")
    with pytest.raises(DataError, match="split="):
        run_evaluation(datasets.DatasetDict({"test": datasets.Dataset.from_pandas(qa)}), "Q: {q}", **GEN)


@pytest.fixture
def nothing_generated(monkeypatch):
    """Fails the test if generation starts; yields a check that nothing was stored."""
    monkeypatch.setattr(generation, "generate_rows", lambda *a, **k: pytest.fail("generation started"))
    before = [store().query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("runs", "rows", "cache", "prompts")]
    yield lambda: [store().query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("runs", "rows", "cache", "prompts")] == before


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(prompt="Q: {q}", reference="a", evaluators=["exact", "bleu"]), BadArgumentError, "no evaluator named 'exact'.*exact_match"),
    (dict(prompt="Q: {q}", reference="answer"), DataError, "no column 'answer'.*'q', 'a', 'topic'"),
    (dict(prompt="Q: {q}", evaluators=["bleu"]), DataError, "reference=.*'q', 'a', 'topic'"),
    (dict(prompt="Q: {question}", reference="a"), DataError, "no column 'question'"),
    (dict(prompt="Q: {q}", reference="maybe"), DataError, "1 of 10 rows have no reference"),
    (dict(prompt="qa@7", reference="a"), DataError, "no saved prompt 'qa@7'"),
    (dict(prompt="Q: {q}", reference="a", evaluators=["exact_match"], model="bert"), WrongFamilyError, "bert"),
    (dict(prompt="Q: {q}", audio="q"), BadArgumentError, "not prompt= and audio="),
    (dict(audio="q", reference="a"), FMError, "transcribe"),
    (dict(reference="a"), BadArgumentError, "prompt="),
])
def test_bad_input_is_one_sentence_before_generation_and_stores_nothing(gpt2, bert, qa, nothing_generated,
                                                                         kwargs, error, match):
    data = qa.assign(maybe=["x"] * 9 + [None])
    fm.use("gpt2")
    with pytest.raises(error, match=match) as info:
        run_evaluation(data, **kwargs)
    assert str(info.value).count(". ") == 0 and nothing_generated()


def test_empty_data_and_a_judge_that_cannot_generate_fail_before_generation(gpt2, bert, qa, nothing_generated):
    with pytest.raises(DataError, match="empty"):
        run_evaluation(qa.head(0), "Q: {q}")
    with pytest.raises(WrongFamilyError):
        fm.judge(model="bert")
    assert nothing_generated()


def test_speech_rows_are_transcribed_and_scored_with_wer(request, tmp_path):
    pytest.importorskip("fmwidgets.core.speech", reason="fm.transcribe is not in this version yet")
    import jiwer
    import numpy as np
    import soundfile

    whisper = request.getfixturevalue("whisper")
    t = np.linspace(0, 1, 16000, dtype=np.float32)
    soundfile.write(tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 16000)
    clips = pd.DataFrame({"clip": [str(tmp_path / "a.wav"), str(tmp_path / "a.wav")], "said": ["hello", "a tone"]})
    result = run_evaluation(clips, audio="clip", reference="said", model=whisper.name)
    heard = fm.transcribe(clips, audio="clip", model=whisper.name)["transcript"].tolist()
    assert result.table["output"].tolist() == heard and result.evaluators == ["wer"]
    assert result.table["wer"].tolist() == pytest.approx([jiwer.wer(r, h) for r, h in zip(clips["said"], heard)])
