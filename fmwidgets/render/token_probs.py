"""How token probabilities look: the coloured token picture of ``fm.plot_token_probs``."""

from __future__ import annotations

from typing import Any

from ..plots.tokens import plot_token_probs
from . import renders


@renders("TokenProbs")
def token_probs(result: Any) -> dict[str, Any]:
    data = dict(plot_token_probs(result)._repr_mimebundle_()[0])
    data["text/plain"] = " ".join(f"{t}({p:.2f})" for t, p in zip(result.tokens, result.probs))
    return data
