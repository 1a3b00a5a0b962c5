"""The render layer: how a result looks in a notebook, decided outside ``core/``.

``core/`` result classes are data plus a ``RunRecord``; they know nothing of HTML or Plotly.
When IPython displays one, ``Recorded._repr_mimebundle_`` (records.py) asks ``display_data``
here for its mimebundle.  Each feature has one module in this package that registers its
renderers with ``@renders("ClassName")``; ``_MODULES`` says which module to import for which
class, so nothing is imported before a result of that kind is shown.

A renderer returns a mimebundle dict (``text/plain`` always; ``text/html`` with every piece of
data-derived text escaped; a static picture where the live view is a widget), so a saved
notebook reads without a kernel.  ``display_data`` puts the HTML in a container MathJax skips
(``style.no_math``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# result class name -> module under fmwidgets.render that registers its renderer
_MODULES: dict[str, str] = {
    "Evaluation": "evaluation",
    "EvaluationComparison": "evaluation",
    "Agreement": "evaluation",
    "Calibration": "evaluation",
    "PreferenceData": "evaluation",
    "ChatReply": "chat",
    "Generation": "generate",
    "Comparison": "compare",
    "Environment": "environment",
    "Repro": "environment",
    "FillMaskResult": "fill_mask",
    "TokenProbs": "token_probs",
    "AttentionResult": "attention",
    "LensResult": "lens",
    "ClipResult": "clip",
    "FinetuneResult": "finetune",
    "FinetuneRun": "finetune",
    "Index": "retrieval",
    "RagAnswer": "retrieval",
    "Transcript": "speech",
    "ImageClassification": "vision",
    "Verification": "replay",
    "ModelHandle": "models",
}
_RENDERERS: dict[str, Callable[[Any], dict[str, Any]]] = {}


def renders(*class_names: str) -> Callable:
    """Register the decorated ``f(result) -> mimebundle`` for results of these class names."""

    def decorate(func: Callable) -> Callable:
        for name in class_names:
            _RENDERERS[name] = func
        return func

    return decorate


def display_data(result: Any) -> dict[str, Any]:
    """The mimebundle of ``result``, from the renderer registered for its class."""
    name = type(result).__name__
    if name not in _RENDERERS and name in _MODULES:
        importlib.import_module(f".{_MODULES[name]}", __name__)
    if name not in _RENDERERS:
        raise LookupError(
            f"No renderer for {name}; register one with @renders({name!r}) in "
            "fmwidgets/render/ and name its module in _MODULES."
        )
    from .style import no_math

    bundle = _RENDERERS[name](result)
    if "text/html" in bundle:  # text from data or a model is never typeset as TeX
        bundle = {**bundle, "text/html": no_math(bundle["text/html"])}
    return bundle
