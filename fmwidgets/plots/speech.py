"""Where a speech model listened: the waveform, and under it each token's cross-attention over time.

``plot_alignment`` draws ``core.speech.alignment``: the top row is the waveform (min/max per
pixel-wide bin, so an hour of audio stays a few thousand points), the bottom a heatmap with one
row per generated token and the audio time in seconds on the shared x axis.  Token labels go
through ``plotly_text`` (model output is shown as written, never as markup).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..core.speech import Transcript, alignment
from ..render.text import plotly_texts
from .figure import RecordedFigure, with_record

_WAVE_BINS = 2000


def _envelope(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, amplitude) of a min/max envelope with at most ``_WAVE_BINS`` bins."""
    n = max(1, len(samples) // _WAVE_BINS)
    usable = samples[: len(samples) // n * n].reshape(-1, n)
    t = (np.arange(usable.shape[0]) * n / rate).repeat(2)
    amp = np.stack([usable.min(1), usable.max(1)], axis=1).reshape(-1)
    return t, amp


def plot_alignment(transcript: Transcript, model=None) -> RecordedFigure:
    """Waveform over a heatmap of each token's decoder cross-attention across the audio frames."""
    al = alignment(transcript, model)
    seconds = len(al.audio) / al.sampling_rate
    frames = (
        max(1, min(al.weights.shape[-1], int(np.ceil(seconds / al.frame_seconds)))) if al.weights.size else 1
    )
    z = al.weights[:, :frames] if al.weights.size else np.zeros((0, 1))
    labels = plotly_texts(al.tokens, 24)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.03)
    t, amp = _envelope(al.audio, al.sampling_rate)
    fig.add_trace(
        go.Scattergl(
            x=t, y=amp, mode="lines", line=dict(width=1, color="#555"), name="waveform", hoverinfo="skip"
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=(np.arange(frames) + 0.5) * al.frame_seconds,
            y=np.arange(len(labels)),
            colorscale="Blues",
            colorbar=dict(title="attention", thickness=10),
            customdata=np.array(labels, dtype=object)[:, None].repeat(frames, 1),
            hovertemplate="%{customdata} at %{x:.2f} s: %{z:.3f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(labels))),
        ticktext=labels,
        autorange="reversed",
        row=2,
        col=1,
    )
    fig.update_xaxes(title="seconds", row=2, col=1)
    fig.update_layout(
        title="Cross-attention of each token over the audio",
        showlegend=False,
        height=max(320, 140 + 16 * len(labels)),
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return with_record(fig, transcript.record)
