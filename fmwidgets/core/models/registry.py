"""The session registry: the models loaded in this kernel, by name, and the current one.

Every feature takes ``model=`` as a registered name or a ``ModelHandle`` and falls back to the
current model, so this module is what turns that argument into a handle, with one clear
sentence when the name is unknown or nothing is loaded yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ...errors import BadArgumentError, NoModelLoadedError, UnknownModelNameError, WrongFamilyError
from ...handles import Handle
from ...model_spec import ModelSpec, local_path
from ...provenance.history import track
from ...render import Shown
from ...render.models import model_card
from ..arguments import model_name

# What each feature does, as the words after "cannot" / "it can", so a feature can refuse a model
# with one sentence that names what the model can do instead.
FEATURES = {
    "generate": "generate text (%%fm prompt, fm.generate)",
    "token_probs": "show token probabilities (%fm probs)",
    "logit_lens": "run the logit lens (%fm lens)",
    "fill_mask": "fill a [MASK] (%fm fill)",
    "embed": "embed texts (%fm embed, fm.embed)",
    "similar": "find nearest neighbours (%fm similar)",
    "attention": "show attention (%fm attention)",
    "finetune": "be fine-tuned (%fm finetune)",
    "predict": "predict with a tuned head (%fm predict)",
    "clip": "match images with texts (%fm clip)",
    "transcribe": "transcribe speech (%fm transcribe, fm.transcribe)",
    "classify_images": "classify images (fm.classify_images)",
}


def _can_do(features: list[str]) -> str:
    """``"embed texts (...), show attention (...) and be fine-tuned (...)"``: what follows "it can"."""
    said = [FEATURES.get(f, f) for f in features]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


@dataclass(eq=False)
class ModelHandle(Shown, Handle, look=model_card):
    """A loaded model with its tokenizer/processor and what fmwidgets knows about it.

    Its card in a notebook is drawn by fmwidgets/render/models.py.
    """

    name: str
    model_id: str
    family: str  # "encoder" | "decoder" | "encoder-decoder" | "clip" | "speech" | "vision" | "api"
    model: Any
    tokenizer: Any
    processor: Any = None
    task: str | None = None
    head: str = "base"  # "base" | "causal-lm" | "masked-lm" | "classification" | "regression" | "seq2seq"
    device: str = "cpu"
    dtype: str = "float32"
    commit: str | None = None
    source: str = "hub"  # "hub" | "local" | "embedded" | "tuned" | "api"
    revision: str | None = None
    trust_remote_code: bool = False
    base: str | None = None  # for tuned models: the name of the model they came from
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def memory_bytes(self) -> int:
        if hasattr(self.model, "get_memory_footprint"):  # counts quantized (packed) weights right
            return int(self.model.get_memory_footprint())
        tensors = list(self.model.parameters()) + list(self.model.buffers())
        return sum(t.numel() * t.element_size() for t in tensors)

    @property
    def context_length(self) -> int | None:
        """Longest input the model accepts, from its config (tokenizer limits can be 1e30)."""
        n = _first_attr(self.config, "max_position_embeddings", "n_positions", "n_ctx")
        if n is None and self.tokenizer is not None:
            n = getattr(self.tokenizer, "model_max_length", None)
            n = n if n and n < 10**7 else None
        return n

    @property
    def backend(self) -> Any:
        """None: this model runs in the kernel.  A ``RemoteHandle`` gives its server's client here,
        the one point where generation (``core.prompting``) leaves for a server."""
        return None

    @property
    def samples_by_default(self) -> bool:
        """Whether generation samples when no decoding setting is given (the generation config's)."""
        return bool(self.model.generation_config.do_sample)

    def can(self, capability: str) -> bool:
        """Whether the model can ``generate``, ``stream``, ``chat`` (has a chat template) or give
        ``token_logprobs``; features ask this instead of looking at the family."""
        if capability == "chat":
            return "generate" in self.features and bool(getattr(self.tokenizer, "chat_template", None))
        if capability in ("generate", "stream"):
            return "generate" in self.features
        if capability == "token_logprobs":
            return "token_probs" in self.features
        return False

    def provenance(self) -> dict[str, Any] | None:
        """Where the model ran, for records (None: in this kernel; see RemoteHandle)."""
        return None

    @property
    def features(self) -> list[str]:
        """The fmwidgets features that apply to this model."""
        if self.family == "decoder":
            feats = ["generate", "token_probs", "logit_lens", "embed", "similar", "attention", "finetune"]
        elif self.family == "encoder-decoder":
            feats = ["generate", "embed", "similar", "attention"]
        elif self.family == "clip":
            feats = ["embed", "similar", "attention", "clip"]
        elif self.family == "speech":
            feats = ["transcribe"]
        elif self.family == "vision":
            feats = ["classify_images", "attention"]
        else:
            feats = ["embed", "similar", "attention", "finetune"]
            if self.head == "masked-lm":
                feats.insert(0, "fill_mask")
        if self.head in ("classification", "regression"):
            feats.append("predict")
        return feats

    def require(self, feature: str) -> None:
        """Raise WrongFamilyError when ``feature`` does not apply to this model."""
        if feature in self.features:
            return
        what = FEATURES.get(feature, feature)
        hint = {
            "generate": ": load a GPT-style decoder such as gpt2 for that",
            "fill_mask": ": load a BERT-style model with a masked-LM head such as bert-base-uncased for that",
            "clip": ": load a CLIP-style model such as openai/clip-vit-base-patch32 for that",
            "transcribe": ": load a speech model such as openai/whisper-tiny for that",
            "classify_images": ": load an image classifier such as google/vit-base-patch16-224 for that",
            "logit_lens": ": load a GPT-style decoder for that",
            "token_probs": ": load a GPT-style decoder for that",
            "predict": ": fine-tune it first with %fm finetune",
        }.get(feature, "")
        raise WrongFamilyError(
            f"Model '{self.name}' is {_kind(self.family)} and cannot {what}{hint}; "
            f"it can {_can_do(self.features)}."
        )

    def spec(self) -> ModelSpec:
        """How to load this model again (what a prompt version pins): the hub id and its commit,
        the local folder and its weights' hash, or the embedded model.  A model tuned in this
        kernel lives only in memory, so it has none until it is saved to a folder."""
        if self.source == "tuned":
            raise BadArgumentError(
                f"Model '{self.name}' was fine-tuned in this kernel and lives only in memory, so "
                "nothing can load it again; save it to a folder first (fm.finetune(..., "
                "output_dir=DIR), or handle.model.save_pretrained(DIR) with its tokenizer), load "
                "that folder with fm.load(DIR) and pin that model."
            )
        model = local_path(self.model_id) if self.source == "local" else self.model_id
        return ModelSpec(source=self.source, model=model, commit=self.commit or self.revision)

    def card(self) -> dict[str, Any]:
        """The facts shown by repr, `%fm info` and `fm.models()`."""
        cfg = self.config
        tok = self.tokenizer
        return {
            "name": self.name,
            "id": self.model_id,
            "family": self.family,
            "head": self.head,
            "architecture": (getattr(cfg, "architectures", None) or [type(self.model).__name__])[0],
            "layers": _first_attr(cfg, "num_hidden_layers", "n_layer", "num_layers"),
            "heads": _first_attr(cfg, "num_attention_heads", "n_head"),
            "hidden": _first_attr(cfg, "hidden_size", "n_embd", "d_model", "projection_dim"),
            "context": self.context_length,
            "vocab": getattr(tok, "vocab_size", None) if tok is not None else None,
            "tokenizer": type(tok).__name__ if tok is not None else None,
            "params": self.parameters,
            "device": self.device,
            "dtype": self.dtype,
            "memory_mb": round(self.memory_bytes / 2**20, 1),
            "source": self.source,
            "commit": self.commit,
            "features": ", ".join(self.features),
        }

    def __repr__(self) -> str:
        c = self.card()
        sizes = f"{c['layers']} layers, {c['heads']} heads, hidden {c['hidden']}, context {c['context']}"
        return (
            f"<ModelHandle '{c['name']}': {c['id']} · {c['family']} ({c['architecture']}) · "
            f"{_human(c['params'])} params · {c['device']} {c['dtype']} · {c['memory_mb']} MB>\n"
            f"  {sizes}; tokenizer {c['tokenizer']} (vocab {c['vocab']})\n"
            f"  source {c['source']}, commit {c['commit']}\n"
            f"  features: {c['features']}"
        )


def _kind(family: str) -> str:
    """ "an encoder", "a decoder", "a vision model": a family as the words after "is"."""
    named = {"clip": "a CLIP-style model", "speech": "a speech model", "vision": "a vision model"}
    return named.get(family) or ("an " if family[:1] in "aeiou" else "a ") + family


def _first_attr(obj: Any, *names: str) -> Any:
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    text = getattr(obj, "text_config", None)
    return _first_attr(text, *names) if text is not None and text is not obj else None


def _human(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


class Registry:
    """name -> ModelHandle (or RemoteHandle, its API-served kind), with a current model."""

    def __init__(self) -> None:
        self._models: dict[str, ModelHandle] = {}
        self.current: str | None = None

    def __contains__(self, name: str) -> bool:
        return name in self._models

    def __iter__(self):
        return iter(list(self._models.values()))

    def __len__(self) -> int:
        return len(self._models)

    def names(self) -> list[str]:
        return list(self._models)

    def add(self, handle: ModelHandle, make_current: bool = True) -> ModelHandle:
        self._models[handle.name] = handle
        if make_current or self.current is None:
            self.current = handle.name
        return handle

    def get(self, model: "str | ModelHandle | None" = None) -> ModelHandle:
        """The handle for a name, a handle, or (None) the current model."""
        if isinstance(model, ModelHandle):
            return model
        model_name(model)
        if model is None:
            if self.current is None:
                raise NoModelLoadedError(
                    "No model is loaded yet; run %fm load (or fm.load()) first — with no "
                    "argument it loads the embedded all-MiniLM-L6-v2."
                )
            return self._models[self.current]
        if model not in self._models:
            loaded = ", ".join(self._models) or "none"
            raise UnknownModelNameError(
                f"No model named '{model}' is loaded (loaded: {loaded}); load it with "
                f"%fm load ... --as {model}, or pick a name from %fm list."
            )
        return self._models[model]

    def remove(self, name: str) -> ModelHandle:
        handle = self.get(name)
        del self._models[handle.name]
        if self.current == handle.name:
            self.current = next(reversed(self._models), None) if self._models else None
        return handle

    @contextlib.contextmanager
    def set_aside(self) -> Iterator[None]:
        """An empty registry inside the block (``fm.repro(verify=True)`` re-runs a session in
        one); the models and the current one come back afterwards."""
        saved, current = dict(self._models), self.current
        self._models.clear()
        self.current = None
        try:
            yield
        finally:
            self._models.clear()
            self._models.update(saved)
            self.current = current

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``... whichever is free."""
        name, i = base, 2
        while name in self._models:
            name, i = f"{base}-{i}", i + 1
        return name


registry = Registry()
track(registry)  # the history notes the loaded models after each call (it sits below core)


def get_model(model: "str | ModelHandle | None" = None, feature: str | None = None) -> ModelHandle:
    """Resolve ``model=`` to a handle, checking that ``feature`` applies to it."""
    handle = registry.get(model)
    if feature is not None:
        handle.require(feature)
    return handle
