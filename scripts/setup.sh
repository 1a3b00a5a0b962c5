#!/usr/bin/env bash
# Set up fmwidgets in ./.venv: torch (CPU build by default), the package in editable mode with its
# test tools, and, with --browser, Debian's Chromium (real-browser tests) and espeak-ng (a spoken clip).
#   FM_TORCH   pip requirement for torch, installed as pip finds it (e.g. "torch" for PyPI's CUDA
#              build); unset: torch==2.13.0 from a wheel already on this machine (pip's find-links
#              or a file index) when there is one, else the CPU build from PyTorch's own index
#   PYTHON     interpreter that creates the venv (default python3, >= 3.10)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if [ -n "${FM_TORCH:-}" ]; then
    "${pip[@]}" "$FM_TORCH"
  else
    # Where pip would take torch==2.13.0 from; PyPI's Linux wheel is a CUDA build of several GB.
    where=$(.venv/bin/python -m pip install --dry-run --no-deps --ignore-installed --quiet \
      --disable-pip-version-check --report - torch==2.13.0 2>/dev/null |
      .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["install"][0]["download_info"]["url"])' \
      2>/dev/null || true)
    if [[ "$where" == file:* ]]; then
      "${pip[@]}" torch==2.13.0
    else
      "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
    fi
  fi
fi
"${pip[@]}" -e ".[dev,ray,api,trl]"

if [ "${1:-}" = "--browser" ]; then
  # Chromium for the real-browser tests, espeak-ng for a real spoken clip in the speech tests.
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "setup: install ${missing[*]} (e.g. sudo apt-get install ${missing[*]}) to run the browser and speech tests" >&2
    fi
  fi
fi
