"""``fm.load`` for API-served models: "openai:MODEL", "anthropic:MODEL", or MODEL with base_url=.

Loading asks the server once, before anything is registered, whether it answers and serves the
model (``/v1/models`` where offered), so a wrong URL, key or model id is one sentence at load
time rather than a failure in the middle of a batch.  Nothing is downloaded and no key is kept
on the handle.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from ....errors import BadArgumentError, RemoteModelError
from ....provenance import api_calls
from ...arguments import model_name, number
from .backend import Endpoint, quoted
from .handle import RemoteHandle
from .keys import KEY_VARIABLES, variable_for

PROVIDERS = ("openai", "anthropic")
# Base URL variables the SDKs read themselves; fmwidgets reads them so that the card shows the host.
BASE_URL_VARIABLES = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


def is_remote(model: Any, base_url: Any = None, api_key_env: Any = None) -> bool:
    """Whether ``fm.load(model, ...)`` asks for an API-served model."""
    if base_url is not None or api_key_env is not None:
        return True
    if not isinstance(model, str) or ":" not in model or os.path.exists(os.path.expanduser(model)):
        return False
    return model.split(":", 1)[0].lower() in PROVIDERS


def check_base_url(base_url: Any) -> str:
    """``base_url`` without a trailing slash; refused when it is not http(s) or carries credentials."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise BadArgumentError(
            f"base_url must be the server's address, e.g. 'http://127.0.0.1:8000/v1', not {base_url!r}."
        )
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadArgumentError(
            "base_url must start with http:// or https:// and name a host, e.g. 'http://127.0.0.1:8000/v1'."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BadArgumentError(
            "base_url must not carry credentials or a query (they would be recorded with the run); put "
            "the key in an environment variable and name it with api_key_env='NAME' (--api-key-env)."
        )
    return base_url.strip().rstrip("/")


def endpoint_for(model: Any, base_url: Any, api_key_env: Any, timeout: Any, max_retries: Any) -> Endpoint:
    """The Endpoint for what the user typed, every argument checked."""
    model_name(model)
    if not isinstance(model, str) or not model.strip():
        raise BadArgumentError(
            "An API-served model needs its id, e.g. fm.load('openai:gpt-4o-mini') or "
            "fm.load('MODEL', base_url='http://127.0.0.1:8000/v1')."
        )
    prefix, _, rest = model.partition(":")
    provider = prefix.lower() if rest and prefix.lower() in PROVIDERS else None
    model_id = rest if provider else model
    if provider is None and base_url is None:
        raise BadArgumentError(
            f"Say where '{model}' is served: base_url='http://HOST:PORT/v1' (--base-url), or a "
            "provider prefix such as 'openai:' or 'anthropic:'."
        )
    if timeout is not None:
        number("timeout", timeout, above=0, hint="it is seconds per request, e.g. 60")
    number("max_retries", max_retries, low=0, integer=True, hint="0 turns retries off")
    provider = provider or "openai"
    if base_url is None:
        base_url = os.environ.get(BASE_URL_VARIABLES[provider]) or None
    if base_url is not None:
        base_url = check_base_url(base_url)
    if api_key_env is not None:
        variable = variable_for(api_key_env)
    elif rest and prefix.lower() in PROVIDERS:
        variable = KEY_VARIABLES[provider]
    else:
        variable = None  # a server of one's own: no key unless api_key_env names one
    endpoint = Endpoint(
        provider=provider,
        model=model_id,
        base_url=base_url,
        key_variable=variable,
        timeout=None if timeout is None else float(timeout),
        max_retries=int(max_retries),
    )
    return endpoint


def dialect(entries: list[dict[str, Any]]) -> str:
    """How the server takes sampling settings, from its /v1/models entries."""
    if any(isinstance(e.get("status"), dict) and "value" in e["status"] for e in entries):
        return "transformers"  # transformers serve: sampling only through generation_config
    if any(e.get("owned_by") == "vllm" for e in entries):
        return "vllm"
    return "openai"


def load_remote(
    model: Any,
    *,
    as_: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    max_concurrency: int = 8,
    timeout: float | None = None,
    max_retries: int = 6,
) -> RemoteHandle:
    """The registered handle of an API-served model, after one check that the server serves it."""
    from ..registry import registry

    number(
        "max_concurrency",
        max_concurrency,
        low=1,
        integer=True,
        hint="it is how many requests may be in flight",
    )
    model_name(as_)
    endpoint = endpoint_for(model, base_url, api_key_env, timeout, max_retries)
    name = as_ or endpoint.model.rstrip("/").split("/")[-1]
    if name in registry:
        existing = registry.get(name)
        if isinstance(existing, RemoteHandle) and existing.endpoint == endpoint:
            existing.max_concurrency = int(max_concurrency)
            registry.current = name
            return existing
        raise BadArgumentError(
            f"The name '{name}' is already used by model '{existing.model_id}'; choose another "
            f"name with --as (as_=), or free it first with %fm unload {name}."
        )
    endpoint.key()  # a missing key is one sentence before any request
    handle = RemoteHandle(
        name=name,
        model_id=endpoint.model,
        family="api",
        model=None,
        tokenizer=None,
        head="chat",
        device=endpoint.host,
        dtype="-",
        source="api",
        endpoint=endpoint,
        max_concurrency=int(max_concurrency),
    )
    # a re-run that calls no API (fm.repro(verify=True)) registers it without asking
    entries = _served_models(handle) if api_calls.may_ask_server() else None
    if entries is not None:
        handle.served = [str(e.get("id")) for e in entries]
        if endpoint.model not in handle.served:
            listed = ", ".join(handle.served[:20]) + (", ..." if len(handle.served) > 20 else "")
            raise RemoteModelError(
                f"The server at {endpoint.host} does not serve '{endpoint.model}'; it serves: "
                f"{listed or 'nothing'}."
            )
        endpoint.dialect = dialect(entries)
        if endpoint.provider == "anthropic":
            handle.logprobs = False
        elif endpoint.dialect == "transformers":
            handle.logprobs = False  # transformers serve ignores logprobs (its log says so)
    registry.add(handle)
    return handle


def _served_models(handle: RemoteHandle) -> list[dict[str, Any]] | None:
    """The server's model list, asked once with few retries (None where it offers none)."""
    backend = handle.backend
    quick = backend.client().with_options(max_retries=1, timeout=min(handle.endpoint.timeout or 10.0, 10.0))
    try:
        return backend.list_models(quick)
    except Exception as error:  # noqa: BLE001 - every SDK error becomes one sentence
        if getattr(error, "status_code", None) in (404, 405):
            return None  # answers, but does not list models: the first request will tell
        raise backend.explain(error, during="model list") from quoted(error)
