"""One place that makes random steps repeatable: sampling, splits, training, projections."""

from __future__ import annotations


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
