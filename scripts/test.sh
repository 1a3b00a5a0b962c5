#!/usr/bin/env bash
# Set up (see setup.sh) and run every test: Python (core, plots, widgets, magics, notebooks,
# real browser, API models against transformers serve and llama.cpp's llama-server) and the
# front-end tests in js/. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
bash scripts/llama_server.sh  # once: ~6 min on 2 cores, kept in .cache/llama-server
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ -f js/package.json ]; then
  (cd js && npm ci --silent --no-audit --no-fund && npm test --silent)
fi
.venv/bin/python -m pytest "$@"
