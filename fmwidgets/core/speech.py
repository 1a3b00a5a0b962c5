"""Speech to text with a Whisper-style model: ``transcribe(audio)`` -> ``Transcript``.

The transcription itself is transformers' own automatic-speech-recognition pipeline, built once
per loaded model from its model, tokenizer and feature extractor: its chunking of long audio and
its timestamp decoding are the reference, so the text is the pipeline's text.  What fmwidgets
adds is around it: audio from whatever a notebook holds (a WAV/FLAC path read by soundfile, a
numpy array with its rate, a list, a DataFrame column), checked and resampled to the model's
rate with scipy's polyphase resampler (the pipeline would need torchaudio for that), one-sentence
errors before any model work, segments as a DataFrame, a RunRecord, and the cross-attention
alignment of each token over the audio frames (``alignment``) for ``fm.plot_alignment``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadArgumentError, DataError
from ..provenance.history import recorded
from ..records import RunRecord
from ..render import Recorded
from ..render.speech import transcript_bundle
from .models.registry import ModelHandle, get_model


@dataclass(eq=False)
class Transcript(Recorded, look=transcript_bundle):
    """The text of a clip, its timed ``segments`` (start, end, text) and the audio it came from."""

    text: str
    segments: Any  # pandas DataFrame: start, end (seconds), text
    audio: np.ndarray  # mono float32 at ``sampling_rate`` (the model's rate)
    sampling_rate: int
    record: RunRecord

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sampling_rate

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------
# Audio in


def read_audio(
    source: Any, sampling_rate: int | None, target_rate: int, what: str = "The audio"
) -> np.ndarray:
    """Mono float32 samples at ``target_rate`` from a path, an array (with its rate) or a datasets dict."""
    if isinstance(source, dict) and "array" in source:  # a datasets Audio value
        source, sampling_rate = source["array"], source.get("sampling_rate", sampling_rate)
    if isinstance(source, (str, os.PathLike)):
        samples, sampling_rate = _read_file(Path(os.path.expanduser(str(source))))
    else:
        if hasattr(source, "detach"):  # a torch tensor
            source = source.detach().cpu().numpy()
        if not isinstance(source, np.ndarray):
            raise DataError(
                f"{what} must be a file path, a numpy array with sampling_rate=, or a list of "
                f"those, not {type(source).__name__}."
            )
        if sampling_rate is None:
            raise DataError(
                f"{what} is an array, and an array does not say how many samples make a second; "
                "pass sampling_rate= (for example 16000)."
            )
        samples = source
    return resample(_mono_float(samples, what), int(sampling_rate), target_rate, what)


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    if not path.is_file():
        raise DataError(f"No audio file '{path}' exists; check the path.")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:
        raise DataError(
            f"The file '{path.name}' could not be read as audio ({str(exc).splitlines()[0][:120]}); "
            "use a WAV, FLAC or OGG file, or convert it first (e.g. with ffmpeg)."
        ) from exc
    return samples, rate


def _mono_float(samples: np.ndarray, what: str) -> np.ndarray:
    """float32 mono samples, or one sentence about the shape, dtype or content that is wrong."""
    if samples.ndim == 2 and min(samples.shape) <= 8:  # channels x samples or samples x channels
        samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] else 1)
    if samples.ndim != 1:
        raise DataError(
            f"{what} has shape {tuple(samples.shape)}; pass one clip as a 1-D array of samples "
            "(or samples x channels for stereo)."
        )
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
    elif not np.issubdtype(samples.dtype, np.floating):
        raise DataError(
            f"{what} holds {samples.dtype} values; audio samples are floats in [-1, 1] "
            "(or 16/32-bit integers)."
        )
    samples = samples.astype(np.float32, copy=False)
    if samples.size == 0:
        raise DataError(f"{what} is empty (no samples); pass a recording with sound in it.")
    if not np.isfinite(samples).all():
        raise DataError(f"{what} contains NaN or infinite samples; clean it before transcribing.")
    if not np.abs(samples).max() > 0:
        raise DataError(f"{what} is silent (every sample is 0); there is nothing to transcribe.")
    return samples


def resample(samples: np.ndarray, rate: int, target: int, what: str = "The audio") -> np.ndarray:
    """``samples`` at ``target`` Hz through scipy's polyphase filter (anti-aliased), unchanged if equal."""
    if rate <= 0:
        raise DataError(
            f"{what} has sampling rate {rate}; it must be a positive number of samples per second."
        )
    if rate == target:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The model


def _pipeline(handle: ModelHandle):
    """transformers' ASR pipeline over the loaded model (built once per model)."""
    pipe = handle.extra.get("asr_pipeline")
    if pipe is None:
        from transformers import pipeline

        pipe = pipeline(
            "automatic-speech-recognition",
            model=handle.model,
            tokenizer=handle.tokenizer,
            feature_extractor=handle.processor.feature_extractor,
            device=handle.model.device,
        )
        handle.extra["asr_pipeline"] = pipe
    return pipe


def language_code(handle: ModelHandle, language: str | None) -> str | None:
    """``language`` as the model's code ("en"), or one sentence naming the languages it knows."""
    if language is None:
        return None
    gen = handle.model.generation_config
    codes = [k.strip("<|>") for k in (getattr(gen, "lang_to_id", None) or {})]
    if not codes:
        raise BadArgumentError(f"Model '{handle.name}' transcribes one language only; leave --language out.")
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    code = language.strip("<|>").lower()
    code = TO_LANGUAGE_CODE.get(code, code)
    if code not in codes:
        shown = ", ".join(codes[:12]) + (", ..." if len(codes) > 12 else "")
        raise BadArgumentError(
            f"'{language}' is not a language model '{handle.name}' knows; use one of {shown}."
        )
    return code


def _segments(result: dict, duration: float):
    import pandas as pd

    chunks = result.get("chunks") or [{"timestamp": (0.0, duration), "text": result["text"]}]
    rows = [
        {
            "start": float(c["timestamp"][0] or 0.0),
            "end": float(c["timestamp"][1]) if c["timestamp"][1] is not None else duration,
            "text": c["text"],
        }
        for c in chunks
    ]
    return pd.DataFrame(rows, columns=["start", "end", "text"])


def _one(
    handle: ModelHandle, samples: np.ndarray, rate: int, language: str | None, timestamps: bool, params: dict
) -> Transcript:
    kwargs: dict[str, Any] = {"return_timestamps": True} if timestamps else {}
    if language:
        kwargs["generate_kwargs"] = {"language": language}
    result = _pipeline(handle)({"raw": samples, "sampling_rate": rate}, **kwargs)
    record = RunRecord.for_model("transcribe", handle, dict(params, seconds=round(len(samples) / rate, 3)))
    return Transcript(
        text=result["text"],
        segments=_segments(result, len(samples) / rate),
        audio=samples,
        sampling_rate=rate,
        record=record,
    )


@recorded
def transcribe(
    data: Any,
    /,
    *,
    model: str | ModelHandle | None = None,
    sampling_rate: int | None = None,
    language: str | None = None,
    timestamps: bool = True,
    audio: str | None = None,
) -> Any:
    """Speech to text: a ``Transcript`` for one clip, a list for a list, a DataFrame for a DataFrame.

    ``data`` is a file path (WAV/FLAC/OGG), a numpy array (give ``sampling_rate``), a list of
    either, or a DataFrame whose ``audio`` column holds them (a ``transcript`` column is added).
    Audio is resampled to the model's rate; clips longer than 30 s are transcribed as the
    transformers pipeline does.  ``language`` ("en", "french"...) skips language detection.
    """
    import pandas as pd

    handle = get_model(model, "transcribe")
    rate = handle.processor.feature_extractor.sampling_rate
    code = language_code(handle, language)
    params: dict[str, Any] = {
        "language": code,
        "timestamps": timestamps,
        "input_sampling_rate": sampling_rate,
    }
    if isinstance(data, pd.DataFrame):
        if audio is None or audio not in data.columns:
            cols = ", ".join(map(str, data.columns))
            raise DataError(f"Say which column holds the audio with audio=COLUMN (columns: {cols}).")
        clips = [
            read_audio(v, sampling_rate, rate, f"The audio in row {i!r}") for i, v in data[audio].items()
        ]
        params["data"] = {"rows": len(data), "column": str(audio)}
        out = data.copy()
        out["transcript"] = [_one(handle, c, rate, code, timestamps, params).text for c in clips]
        return out
    if audio is not None:
        raise BadArgumentError(
            "audio= names a column, so it needs a DataFrame as data; pass the clip itself."
        )
    if isinstance(data, (list, tuple)):
        clips = [read_audio(v, sampling_rate, rate, f"Clip {i}") for i, v in enumerate(data)]
        return [_one(handle, c, rate, code, timestamps, params) for c in clips]
    return _one(handle, read_audio(data, sampling_rate, rate), rate, code, timestamps, params)


# --------------------------------------------------------------------------------------------
# Alignment: where in the audio each token looked


@dataclass
class Alignment:
    """Cross-attention of each generated token over the audio frames of the first 30 s window."""

    ids: list[int]
    tokens: list[str]
    weights: np.ndarray  # [tokens, frames], each row the mean over the alignment heads
    frame_seconds: float
    audio: np.ndarray
    sampling_rate: int


def alignment(transcript: Transcript, model: str | ModelHandle | None = None) -> Alignment:
    """Teacher-forced decoder pass over the transcript's first window with cross-attentions returned.

    Whisper checkpoints name the heads that align with the audio (``alignment_heads``); without
    them every head of every layer is averaged.
    """
    import torch

    handle = get_model(model if model is not None else transcript.record.model_name, "transcribe")
    fe, net = handle.processor.feature_extractor, handle.model
    window = transcript.audio[: fe.n_samples]
    features = fe(window, sampling_rate=fe.sampling_rate, return_tensors="pt").input_features
    features = features.to(net.device, net.dtype)
    gen = net.generation_config
    code = transcript.record.params.get("language")
    lang_id: int | None
    with torch.inference_mode():
        if getattr(gen, "lang_to_id", None) and code is None:
            lang_id = int(net.detect_language(input_features=features)[0])
        else:
            lang_id = gen.lang_to_id[f"<|{code}|>"] if code else None
        generated = net.generate(features, language=code, return_timestamps=False)
        generated = generated["sequences"] if isinstance(generated, dict) else generated
        prefix = [net.config.decoder_start_token_id]
        if lang_id is not None:
            prefix += [lang_id, gen.task_to_id["transcribe"]]
        prefix.append(gen.no_timestamps_token_id)
        ids = [i for i in generated[0].tolist() if i not in prefix and i != gen.eos_token_id]
        out = net(
            input_features=features,
            decoder_input_ids=torch.tensor([prefix + ids], device=net.device),
            output_attentions=True,
        )
    cross = torch.stack([a[0].float() for a in out.cross_attentions])  # [layers, heads, T, frames]
    heads = getattr(gen, "alignment_heads", None)
    picked = torch.stack([cross[l, h] for l, h in heads]) if heads else cross.flatten(0, 1)
    weights = picked.mean(0)[len(prefix) - 1 : len(prefix) - 1 + len(ids)].cpu().numpy()
    from .tokens import readable_tokens

    tokens = readable_tokens(handle.tokenizer, ids)
    frame_seconds = fe.chunk_length / weights.shape[-1] if weights.size else 0.02
    return Alignment(
        ids=ids,
        tokens=tokens,
        weights=weights,
        frame_seconds=frame_seconds,
        audio=window,
        sampling_rate=fe.sampling_rate,
    )
