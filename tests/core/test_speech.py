"""fm.transcribe against transformers' ASR pipeline on the tiny Whisper; inputs, segments, bad audio."""

import numpy as np
import pandas as pd
import pytest
import soundfile
from scipy.signal import resample_poly

import fmwidgets as fm
from fmwidgets.errors import BadArgumentError, DataError
from fmwidgets.testing import tone


@pytest.fixture(scope="module")
def reference(tiny_paths):
    from transformers import pipeline

    return pipeline("automatic-speech-recognition", model=str(tiny_paths["whisper"]))


def test_text_equals_the_pipeline_with_and_without_timestamps(whisper, reference):
    clip = tone(3.0)
    ours = fm.transcribe(clip, sampling_rate=16000)
    theirs = reference({"raw": clip, "sampling_rate": 16000}, return_timestamps=True)
    assert ours.text == theirs["text"] and ours.text.strip()
    assert list(ours.segments.columns) == ["start", "end", "text"]
    assert ours.segments["text"].tolist() == [c["text"] for c in theirs["chunks"]]
    assert ours.segments["start"].tolist() == [c["timestamp"][0] for c in theirs["chunks"]]
    plain = fm.transcribe(clip, sampling_rate=16000, timestamps=False)
    assert plain.text == reference({"raw": clip, "sampling_rate": 16000})["text"]
    assert plain.segments.shape[0] == 1 and plain.segments["end"][0] == pytest.approx(3.0)
    assert ours.record.kind == "transcribe" and ours.record.params["timestamps"] is True


def test_long_audio_is_chunked_as_the_pipeline_does(whisper, reference):
    clip = tone(45.0, frequency=300.0)
    assert fm.transcribe(clip, sampling_rate=16000).text == \
        reference({"raw": clip, "sampling_rate": 16000}, return_timestamps=True)["text"]


def test_files_arrays_lists_and_dataframes(whisper, tmp_path):
    at22k = tone(2.0, sampling_rate=22050)
    wav, flac = tmp_path / "a.wav", tmp_path / "b.flac"
    soundfile.write(wav, at22k, 22050)
    soundfile.write(flac, at22k, 22050)
    from_file = fm.transcribe(str(wav))
    read, _ = soundfile.read(wav, dtype="float32")
    expected = resample_poly(read, 320, 441).astype(np.float32)  # 22050 -> 16000
    assert from_file.sampling_rate == 16000 and np.allclose(from_file.audio, expected)
    assert from_file.text == fm.transcribe(expected, sampling_rate=16000).text
    assert fm.transcribe(flac).text == fm.transcribe(str(flac)).text
    stereo = np.stack([tone(2.0), tone(2.0)], axis=1)
    assert fm.transcribe(stereo, sampling_rate=16000).text == fm.transcribe(tone(2.0), sampling_rate=16000).text
    many = fm.transcribe([str(wav), tone(1.0)], sampling_rate=16000)
    assert [t.text for t in many] == [fm.transcribe(str(wav)).text,
                                      fm.transcribe(tone(1.0), sampling_rate=16000).text]
    df = pd.DataFrame({"clip": [str(wav), str(flac)], "id": [1, 2]})
    out = fm.transcribe(df, audio="clip")
    assert list(out.columns) == ["clip", "id", "transcript"]
    assert out["transcript"].tolist() == [fm.transcribe(str(wav)).text, fm.transcribe(str(flac)).text]


def test_bad_audio_is_one_sentence_and_models_stay_loaded(whisper, tmp_path):
    bad = tmp_path / "not.wav"
    bad.write_text("this is not audio")
    cases = [
        (np.zeros((2, 3, 4), dtype=np.float32), 16000, "shape"),
        (np.array(["a", "b"], dtype=object), 16000, "values"),
        (np.zeros(16000, dtype=np.float32), 16000, "silent"),
        (np.zeros(0, dtype=np.float32), 16000, "empty"),
        (tone(1.0), None, "sampling_rate="),
        (str(bad), None, "could not be read"),
        (str(tmp_path / "missing.wav"), None, "No audio file"),
        (42, None, "file path"),
    ]
    for audio, rate, words in cases:
        with pytest.raises(DataError, match=words):
            fm.transcribe(audio, sampling_rate=rate)
    with pytest.raises(BadArgumentError, match="not a language"):
        fm.transcribe(tone(1.0), sampling_rate=16000, language="klingon")
    with pytest.raises(DataError, match="audio=COLUMN"):
        fm.transcribe(pd.DataFrame({"x": [1]}), audio="nope")
    assert fm.models()["name"].tolist() == ["whisper"]


def test_language_is_passed_to_the_model(whisper, reference):
    clip = tone(2.0)
    ours = fm.transcribe(clip, sampling_rate=16000, language="French")
    assert ours.record.params["language"] == "fr"
    theirs = reference({"raw": clip, "sampling_rate": 16000}, return_timestamps=True,
                       generate_kwargs={"language": "fr"})
    assert ours.text == theirs["text"]


def test_display_plays_segments_and_escapes_text(whisper):
    t = fm.transcribe(tone(2.0), sampling_rate=16000)
    t.segments.loc[0, "text"] = "<script>alert(1)</script>"
    data, meta = t._repr_mimebundle_()
    page = data["text/html"]
    assert "<audio" in page and "data:audio/wav;base64," in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert f"a.currentTime={t.segments['start'][0]:.3f}" in page
    assert meta["fmwidgets"]["kind"] == "transcribe"


def test_alignment_rows_are_attention_over_the_audio_frames(whisper):
    from fmwidgets.core.speech import alignment

    t = fm.transcribe(tone(3.0), sampling_rate=16000, timestamps=False)
    al = alignment(t)
    assert al.weights.shape == (len(al.tokens), 1500) and len(al.tokens) > 0
    assert np.allclose(al.weights.sum(axis=1), 1.0, atol=1e-4)
    fe = whisper.processor.feature_extractor
    generated = whisper.model.generate(fe(tone(3.0), sampling_rate=16000, return_tensors="pt").input_features)
    assert al.ids == [i for i in generated[0].tolist() if i != whisper.tokenizer.eos_token_id]
    assert len(al.tokens) == len(al.ids)
    fig = fm.plot_alignment(t)
    heat = fig.data[1]
    assert heat.type == "heatmap" and np.asarray(heat.z).shape == (len(al.tokens), 150)  # 3 s of 20 ms frames


def test_transcribe_magic_takes_a_path_or_a_variable(whisper, ip, tmp_path):
    wav = tmp_path / "c.wav"
    soundfile.write(wav, tone(1.5), 16000)
    result = ip.run_line_magic("fm", f"transcribe {wav} --out t")
    assert ip.user_ns["t"] is result and result.text == fm.transcribe(str(wav)).text
    ip.user_ns["clip"] = tone(1.5)
    assert ip.run_line_magic("fm", "transcribe clip --sampling-rate 16000").text == result.text


def test_a_spoken_clip_at_22khz_is_resampled_and_transcribed_as_the_pipeline_does(whisper, reference, tmp_path):
    import shutil
    import subprocess

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh --browser installs it)")
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "hello world, this is a test"], check=True)
    samples, rate = soundfile.read(wav, dtype="float32")
    assert rate == 22050
    ours = fm.transcribe(str(wav))
    at16k = resample_poly(samples, 320, 441).astype(np.float32)
    assert len(ours.audio) == len(at16k)
    theirs = reference({"raw": at16k, "sampling_rate": 16000}, return_timestamps=True)
    assert ours.text == theirs["text"]
