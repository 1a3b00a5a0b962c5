"""API-served models (OpenAI, Anthropic, any OpenAI-compatible server) behind the same handle.

- ``handle.py``: ``RemoteHandle``, a ``ModelHandle`` without weights, in the same registry;
- ``load.py``: ``fm.load("openai:MODEL")``, ``fm.load("anthropic:MODEL")``,
  ``fm.load(MODEL, base_url=...)``, checked against the server once;
- ``backend.py``: the small interface (complete, stream, count, models) and the error sentences;
  ``openai.py`` and ``anthropic.py`` write its requests and read its replies;
- ``keys.py``: keys from the environment or ``fm.set_api_key``, never shown;
- ``generation.py``: generation on a served model (one reply streamed, or rows concurrently
  through ``engines/api.py``), with tokens, latency and cost per row.

The SDKs are imported on the first request, so ``import fmwidgets`` stays cheap.
"""
