"""How a decoder picks its tokens: one ``Sampling`` that every generating feature passes around.

``fm.generate``, ``fm.chat``, ``fm.generate_df``, ``fm.evaluate``, the judges and the Playground
share these settings.  Each is written here once, with its default; the public functions list
them as keywords through ``signatures.expands`` (``fm.generate(prompt, max_new_tokens=20,
temperature=0.8)``), and the call hands one ``Sampling`` to the code below it.  ``resolve``
turns the user's settings into what transformers' ``generate`` is given (sample or not, and a
seed whenever it samples, so that every sampled run can be repeated).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from ...errors import BadArgumentError
from ...signatures import REST
from ..arguments import MAX_SAMPLES, generate_keywords, number

MAX_NEW_TOKENS = 64  # the default of generate_text, generate_table, evaluate and the Playground


@dataclass(frozen=True)
class Sampling:
    """The decoding settings of one call.

    ``greedy=None`` samples when temperature/top_p/top_k or n>1 is given, else follows the
    model's generation config; ``stop`` is a text or texts that end the generation; ``extra``
    holds any other transformers ``generate`` keyword (``repetition_penalty``...).
    """

    max_new_tokens: int = MAX_NEW_TOKENS
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    greedy: bool | None = None
    seed: int | None = None
    n: int = 1
    stop: str | Sequence[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict, metadata={REST: "generate_kwargs"})

    def check(self, streaming: bool = False) -> None:
        """The settings transformers would refuse mid-way, refused up front."""
        number(
            "max_new_tokens", self.max_new_tokens, low=1, integer=True, hint="ask for at least one new token"
        )
        number(
            "n", self.n, low=1, high=MAX_SAMPLES, integer=True, hint="it is how many texts each prompt gets"
        )
        generate_keywords(
            self.extra,
            ("max_new_tokens", "num_return_sequences", "do_sample", "temperature", "top_p", "top_k"),
        )
        beams = self.extra.get("num_beams", 1)
        if beams is not None and beams != 1:
            number("num_beams", beams, low=1, high=MAX_SAMPLES, integer=True)
            if streaming:
                raise BadArgumentError(
                    f"Streaming shows one text as it grows, which needs sampling or greedy decoding, not "
                    f"beam search (num_beams={beams}); add --no-stream (stream=False) or drop --num-beams."
                )
            if self.n > beams:
                raise BadArgumentError(
                    f"Beam search keeps {beams} beams, so it cannot return n={self.n} texts; "
                    f"ask for n <= {beams} or more beams."
                )

    def resolve(self, handle: Any) -> Sampling:
        """These settings as run on ``handle``: ``greedy`` decided (a bool), a seed picked (and
        recorded) when sampling, ``stop`` as a list of texts."""
        if self.n < 1:
            raise BadArgumentError(f"n={self.n} asks for no samples; use n=1 or more.")
        asked = any(v is not None for v in (self.temperature, self.top_p, self.top_k))
        if self.greedy is None:
            do_sample = asked or self.n > 1 or handle.samples_by_default
        else:
            do_sample = not self.greedy
        if not do_sample and self.n > 1:
            raise BadArgumentError(
                f"Greedy decoding gives the same text every time, so n={self.n} makes no sense; "
                "drop --greedy to sample, or use n=1."
            )
        if self.temperature is not None:
            number("temperature", self.temperature, above=0, hint="use --greedy for the most likely text")
        if self.top_p is not None:
            number("top_p", self.top_p, above=0, high=1, hint="it is the share of probability kept, e.g. 0.9")
        if self.top_k is not None:
            vocabulary = getattr(handle.config, "vocab_size", None) or None
            number(
                "top_k",
                self.top_k,
                low=1,
                high=vocabulary,
                integer=True,
                hint=f"it is how many of the most likely tokens of '{handle.name}'s vocabulary to sample among",
            )
        seed = self.seed
        if do_sample and seed is None:  # pick one and record it, so that the run can be repeated
            seed = random.SystemRandom().randrange(2**31)
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop) if self.stop else None
        return dataclasses.replace(self, greedy=not do_sample, seed=seed, stop=stop)

    @property
    def decoding(self) -> dict[str, Any]:
        """The decoding-mode keywords of transformers' ``generate`` (after ``resolve``)."""
        kw: dict[str, Any] = {"do_sample": not self.greedy}
        if not self.greedy:
            kw.update(
                (k, v)
                for k, v in (("temperature", self.temperature), ("top_p", self.top_p), ("top_k", self.top_k))
                if v is not None
            )
        return kw

    def params(self) -> dict[str, Any]:
        """What a RunRecord notes of these settings (after ``resolve``; ``extra`` goes last)."""
        return dict(max_new_tokens=self.max_new_tokens, **self.decoding, n=self.n, stop=self.stop)
