"""Shared by the generation benchmarks: the decoder they run on, and interleaved timing.

Without a model id a GPT-2-small-shaped decoder (12 layers, 12 heads, 768 wide, random
weights, small tokenizer) is built offline with fmwidgets.testing, so the numbers mean
something without network; ``--model gpt2`` uses the real one where the hub is reachable.
"""

from __future__ import annotations

import statistics
import tempfile
import time


def load_decoder(model: str | None, device: str):
    """``fm.load`` of ``model`` or of a freshly built GPT-2-small-shaped folder, as 'bench'."""
    import fmwidgets as fm
    from fmwidgets import testing

    path = model or str(testing.tiny_gpt2(tempfile.mkdtemp(prefix="fm-bench-"), layers=12, heads=12,
                                          hidden=768, context=1024))
    return fm.load(path, as_="bench", device=device)


def interleaved_medians(ways: dict, repeat: int, cuda: bool) -> dict:
    """Median seconds of each callable, run in turn ``repeat`` times so load noise hits all alike."""
    import torch

    times: dict = {name: [] for name in ways}
    for _ in range(repeat):
        for name, fn in ways.items():
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}
