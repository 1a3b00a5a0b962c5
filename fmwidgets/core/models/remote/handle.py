"""``RemoteHandle``: a model served behind an API, in the same registry as the local ones.

It is a ``ModelHandle`` without weights: the registry, ``model=`` arguments, ``fm.models()``,
records and the history treat it like any other model.  What it can do is asked, not assumed
(``can("generate" | "stream" | "chat" | "token_logprobs")``, ``require(feature)`` with one
sentence), and ``backend`` is the one place where generation leaves for a server.  The client
(which holds the key) lives in a table beside the handle, never on it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from ....errors import WrongFamilyError
from ....model_spec import ModelSpec
from ..registry import FEATURES, ModelHandle
from .backend import Backend, Endpoint

# What a server can do, as far as fmwidgets asks: every API model generates, streams and chats;
# log-probabilities only where the server returns them (None: not known until asked).
CAPABILITIES = ("generate", "stream", "chat", "token_logprobs")

_backends: weakref.WeakKeyDictionary[RemoteHandle, Backend] = weakref.WeakKeyDictionary()


@dataclass(eq=False)
class RemoteHandle(ModelHandle):
    """An API-served model: ``endpoint`` says where and how; no weights, no tokenizer here."""

    endpoint: Endpoint = field(default=None)  # type: ignore[assignment]  # always given by load_remote
    max_concurrency: int = 8
    served: list[str] = field(default_factory=list)  # the models the server listed at load
    logprobs: bool | None = None  # whether the server returns log-probabilities (None: not asked yet)

    @property
    def backend(self) -> Backend:
        """The provider's client pair (made on first use; holds the key, so it is kept off the handle)."""
        backend = _backends.get(self)
        if backend is None:
            if self.endpoint.provider == "anthropic":
                from .anthropic import AnthropicBackend

                backend = AnthropicBackend(self.endpoint)
            else:
                from .openai import OpenAIBackend

                backend = OpenAIBackend(self.endpoint)
            _backends[self] = backend
        return backend

    @property
    def provider(self) -> str:
        return self.endpoint.provider

    @property
    def host(self) -> str:
        return self.endpoint.host

    @property
    def samples_by_default(self) -> bool:
        """API models decode greedily (temperature 0) unless sampling is asked for: runs repeat
        and are cached."""
        return False

    @property
    def config(self) -> Any:
        return None

    @property
    def parameters(self) -> int:
        return 0

    @property
    def memory_bytes(self) -> int:
        return 0

    @property
    def context_length(self) -> int | None:
        return None

    def can(self, capability: str) -> bool:
        """Whether this model can do ``capability`` (one of ``CAPABILITIES``)."""
        if capability == "token_logprobs":
            return self.logprobs is not False and self.endpoint.provider != "anthropic"
        return capability in CAPABILITIES

    @property
    def features(self) -> list[str]:
        return ["generate", "token_probs"] if self.can("token_logprobs") else ["generate"]

    def require(self, feature: str) -> None:
        """One sentence when ``feature`` needs the model's weights or what this server does not send."""
        if feature in self.features:
            return
        what = FEATURES.get(feature, feature)
        if feature == "token_probs":
            why = (
                "its server does not return log-probabilities"
                if self.endpoint.provider != "anthropic"
                else "Anthropic's API does not return log-probabilities"
            )
            hint = "serve it with vLLM or use an OpenAI model, which return them"
        else:
            why = "the server sends back text, not the model's weights or activations"
            hint = "load the weights themselves with fm.load(HUB_ID_OR_FOLDER) for that"
        raise WrongFamilyError(
            f"Model '{self.name}' is served by {self.endpoint.provider} at {self.host} and cannot "
            f"{what}: {why}; {hint}."
        )

    def spec(self) -> ModelSpec:
        """How to load this model again (what a prompt version pins): provider, model id, the
        server's address and the *name* of the key's variable, never the key."""
        endpoint = self.endpoint
        return ModelSpec(
            source="api",
            model=endpoint.model,
            provider=endpoint.provider,
            base_url=endpoint.base_url,
            api_key_env=endpoint.key_variable,
        )

    def provenance(self) -> dict[str, Any]:
        """What a record notes about where the model ran (the reply adds the served model id)."""
        return {
            "provider": self.endpoint.provider,
            "host": self.host,
            "base_url": self.endpoint.base_url,
            "model": self.model_id,
        }

    def card(self) -> dict[str, Any]:
        endpoint = self.endpoint
        return {
            "name": self.name,
            "id": self.model_id,
            "family": self.family,
            "head": self.head,
            "provider": endpoint.provider,
            "device": self.host,  # where it runs: fm.models() shows the endpoint's host here
            "key": endpoint.key_variable or "none needed",
            "max_concurrency": self.max_concurrency,
            "timeout": f"{endpoint.timeout:g} s" if endpoint.timeout else "SDK default",
            "max_retries": endpoint.max_retries,
            "source": self.source,
            "features": ", ".join(self.features),
        }

    def __repr__(self) -> str:
        c = self.card()
        return (
            f"<RemoteHandle '{c['name']}': {c['id']} · api ({c['provider']} at {c['device']})>\n"
            f"  key from {c['key']}; max_concurrency {c['max_concurrency']}, timeout {c['timeout']}, "
            f"max_retries {c['max_retries']}\n"
            f"  features: {c['features']}"
        )
