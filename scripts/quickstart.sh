#!/usr/bin/env bash
# Set up (see setup.sh) and run the main job: the quickstart notebook on the embedded default
# model, offline. Default: execute it headless and write build/01-quickstart.html (open it in a
# browser). With --lab: open it in JupyterLab instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
if [ "${1:-}" = "--lab" ]; then
  lab=(notebooks/01-quickstart.ipynb)
  if [ "$(id -u)" = 0 ]; then
    lab+=(--allow-root)  # JupyterLab refuses to start as root without it (containers, CI)
  fi
  exec .venv/bin/jupyter lab "${lab[@]}"
fi
mkdir -p build
.venv/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
  --output-dir build notebooks/01-quickstart.ipynb
echo "quickstart: executed notebooks/01-quickstart.ipynb -> build/01-quickstart.html"
