"""One place that makes random steps repeatable: sampling, splits, training, projections."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

# torch's default generator is one per process: two threads that seed it and then sample would
# draw from each other's stream, so a recorded seed would not give the recorded text again.
# Seeded sampling holds this lock from seeding to the last drawn token.
RNG_LOCK = threading.RLock()


def set_seed(seed: int | None) -> None:
    """Seed Python, numpy and torch (all devices); None leaves the generators as they are."""
    if seed is None:
        return
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed, then run the block with no other seeded block in between (None: no seed, no lock)."""
    if seed is None:
        yield
        return
    with RNG_LOCK:
        set_seed(seed)
        yield
