"""How a transcript looks: an audio player over its segments, a click on a segment plays from there.

Static HTML only: the audio is embedded as a 16-bit WAV data URI (so the saved notebook plays it
without a kernel), each segment row carries its start time as a number, and the segment text,
which comes from the model, is escaped.  Clips longer than ``PLAYER_SECONDS`` get no player, to
keep notebooks small.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from .style import MUTED

PLAYER_SECONDS = 600


def wav_data_uri(samples: Any, sampling_rate: int) -> str:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sampling_rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def transcript_bundle(t: Any) -> dict[str, Any]:
    seg = t.segments
    player = (
        (
            f'<audio controls preload="none" style="width:100%" src="{wav_data_uri(t.audio, t.sampling_rate)}">'
            "</audio>"
        )
        if t.duration <= PLAYER_SECONDS
        else f'<div style="color:{MUTED}">({t.duration:.0f} s of audio: no player above {PLAYER_SECONDS} s)</div>'
    )
    play = (
        "var a=this.closest('.fm-transcript').querySelector('audio');"
        "if(a){{a.currentTime={start:.3f};a.play();}}"
    )
    rows = "".join(
        f'<tr class="fm-segment" data-start="{float(r.start):.3f}" style="cursor:pointer" '
        f'onclick="{play.format(start=float(r.start))}" title="play from here">'
        f"<td>{float(r.start):.2f}</td><td>{float(r.end):.2f}</td>"
        f'<td style="text-align:left;white-space:pre-wrap">{html.escape(str(r.text))}</td></tr>'
        for r in seg.itertuples()
    )
    table = (
        f'<table style="font-size:12px"><tr><th>start (s)</th><th>end (s)</th>'
        f'<th style="text-align:left">text</th></tr>{rows}</table>'
    )
    text = "\n".join(f"[{r.start:7.2f} – {r.end:7.2f}] {r.text}" for r in seg.itertuples())
    return {
        "text/plain": f"{t.text}\n{text}",
        "text/html": f'<div class="fm-transcript"><div style="white-space:pre-wrap"><b>'
        f"{html.escape(t.text)}</b></div>{player}{table}</div>",
    }
