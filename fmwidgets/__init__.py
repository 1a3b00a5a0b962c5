"""fmwidgets: foundation models in Jupyter, with `%fm` magics and the same Python API.

    %load_ext fmwidgets          # registers %fm / %%fm
    import fmwidgets as fm       # fm.load(), fm.generate(), fm.finetune(), fm.embed(), ...

Importing this package is cheap: torch, transformers and plotly are imported on the first call
that needs them (``__getattr__`` below resolves each public name from its module on first use).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import notices
from ._version import __version__
from .config import FM, settings
from .errors import (
    BadArgumentError,
    DataError,
    EngineError,
    FMError,
    InterpolationError,
    MissingDependencyError,
    ModelLoadError,
    ModelNotFoundError,
    NoModelLoadedError,
    OutOfMemoryError,
    RemoteCodeRequiredError,
    RemoteModelError,
    UnknownModelNameError,
    WrongFamilyError,
)
from .records import RunRecord

notices.install()  # FMWarnings print as one clean line, without a source path

if TYPE_CHECKING:  # the lazy public API, as editors and type checkers see it; _LAZY is read from here
    from .api import chat, evaluate, finetune, generate, generate_df, rag, run_prompt
    from .core.embedding.clip import ClipResult, clip_similarity
    from .core.embedding.embed import embed, similar
    from .core.embedding.label import label
    from .core.embedding.project import project
    from .core.evaluation.compare import compare_evaluations
    from .core.evaluation.evaluators import json_schema, tool_call
    from .core.evaluation.judge import judge
    from .core.evaluation.preferences import preferences
    from .core.evaluation.stored import Evaluation, evaluations, load_evaluation
    from .core.inside.attention import AttentionResult, attention
    from .core.inside.lens import LensResult, logit_lens
    from .core.models.environment import environment
    from .core.models.loading import load, models, unload, use
    from .core.models.predict import predict
    from .core.models.registry import ModelHandle
    from .core.models.remote.handle import RemoteHandle
    from .core.models.remote.keys import set_api_key
    from .core.prompting.chat import ChatReply
    from .core.prompting.compare import compare
    from .core.prompting.fill_mask import fill_mask
    from .core.prompting.generate import Generation
    from .core.prompting.prompt_file import export_prompts, import_prompts
    from .core.prompting.token_probs import token_probs
    from .core.prompting.versions import (
        PromptVersion,
        prompt_versions,
        save_prompt,
        tag_history,
        tag_prompt,
    )
    from .core.retrieval.evaluate import evaluate_retrieval
    from .core.retrieval.index import Index, index, open_index
    from .core.retrieval.rag import RagAnswer
    from .core.speech import Transcript, transcribe
    from .core.training.result import FinetuneResult
    from .core.vision import classify_images
    from .plots.attention import plot_attention, plot_attention_grid, plot_logit_lens
    from .plots.clip import plot_clip_map, plot_clip_similarity
    from .plots.embedding import plot_embeddings
    from .plots.evaluation import plot_comparison, plot_evaluation
    from .plots.speech import plot_alignment
    from .plots.tokens import plot_fill_mask, plot_token_probs
    from .plots.training import plot_confusion_matrix, plot_loss_curve, plot_predicted_vs_true
    from .plots.vision import plot_image_attention
    from .provenance.history import history
    from .provenance.verify import Verification, repro
    from .widgets.attention import AttentionView
    from .widgets.chat import Chat
    from .widgets.embedding import EmbeddingExplorer
    from .widgets.label_review import LabelReview
    from .widgets.playground import Playground
    from .widgets.review import Review
    from .widgets.training import TrainingView


def _lazy_names() -> dict[str, str]:
    """Public name -> the module that defines it (relative to this package), read from the
    ``TYPE_CHECKING`` imports above, so the lazy API is listed once."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: "." * imp.level + (imp.module or "")
        for imp in block.body
        if isinstance(imp, ast.ImportFrom)
        for alias in imp.names
    }


_LAZY = _lazy_names()

__all__ = sorted(
    [
        *_LAZY,
        "FM",
        "settings",
        "RunRecord",
        "FMError",
        "DataError",
        "WrongFamilyError",
        "ModelNotFoundError",
        "ModelLoadError",
        "EngineError",
        "UnknownModelNameError",
        "NoModelLoadedError",
        "BadArgumentError",
        "InterpolationError",
        "MissingDependencyError",
        "OutOfMemoryError",
        "RemoteCodeRequiredError",
        "RemoteModelError",
        "load_ipython_extension",
        "__version__",
    ]
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fmwidgets' has no attribute '{name}'")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext fmwidgets`: register the %fm magics (imports no torch)."""
    from .magics.magics import register

    register(ipython)
