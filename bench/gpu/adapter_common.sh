# Settings and steps shared by adapter_stage.sh and adapter_run.sh (sourced, never run; see bench/gpu/ADAPTER.md).
# Everything they leave on the machine lives under $ROOT (default /tmp/adapter_v2), which outlasts a call while
# the machine stays warm; the repo copy is re-sent with every call.
T0=$(date +%s)
ROOT=${ADAPTER_TMP:-/tmp/adapter_v2}
STAGE=$ROOT/stage SITE=$ROOT/site WORK=$ROOT/work
: "${OUT:?OUT is unset (the device tool sets it; for a dry run use OUT=\$(mktemp -d))}"
mkdir -p "$STAGE" "$SITE" "$WORK" "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export ML_TUTOR_CACHE=$ROOT/cache HF_HOME=$ROOT/hf TUTOR_DATA_DIR=$ROOT/state
if [ -n "${DRY_RUN:-}" ]; then
  # CPU dry run: the project venv's Python without its site-packages (-S), seeing only the packages that the
  # GPU image or the bundle has (bench/gpu/gpu_sim.py links them into $SIM once the wheel list is staged). $SIM's
  # name holds "site-packages": under -S, sys.prefix is the base Python's, and dill (datasets' fingerprints) pickles
  # classes of modules outside a prefix or a site-packages folder by value, which fails for pyarrow's.
  VENV_PY=${VENV_PY:-${PY:?DRY_RUN needs PY=<the project venv python>}}
  PY=$ROOT/python-sim
  printf '#!/bin/sh\nexec %s -S "$@"\n' "$VENV_PY" > "$PY" && chmod +x "$PY"
  SIM=$ROOT/sim/site-packages
  export PYTHONPATH=$SIM:$PWD
  BASE=${BASE:-$WORK/repo} DATA_DIR=${DATA_DIR:-$ROOT/shared/data}
else
  PY=${PY:-python3}
  export PYTHONPATH=$SITE:$PWD
  BASE=${BASE:-.} DATA_DIR=${DATA_DIR:-../shared/data}
fi

# Repo paths under $BASE: the repo copy itself on the machine; a scratch folder in a dry run.
at() { if [ "$BASE" = . ]; then echo "$1"; else echo "$BASE/$1"; fi; }
# Stage marks: printed, and kept in ${TIMINGS} for summary.json (the stage script keeps its own file).
stamp() { echo "[$(( $(date +%s) - T0 )) s] $*"; printf '%s\t%s\t%s\n' "$1" "$(date +%s)" "$T0" >> "${TIMINGS:-$WORK/timings.tsv}"; }
left() { echo $(( ${LIMIT_S:-585} - ($(date +%s) - T0) )); }

# Copy one carried part folder of .adapter_gpu into $STAGE; unpack the wheels and the data if it holds them.
stage_part() {
  [ -f "$1/parts.env" ] || { echo "error: $1 is not here: name it in the call's carry list"; exit 3; }
  cp "$1"/smol.ggsq.part* "$1/parts.env" "$1/wheels.txt" "$STAGE/"
  if [ -n "${DRY_RUN:-}" ] && [ ! -d "$SIM" ]; then
    "$VENV_PY" bench/gpu/gpu_sim.py --image bench/gpu/gpu_image_packages.txt --bundle "$STAGE/wheels.txt" \
      --out "$SIM" || exit 4
  fi
  if [ -f "$1/site.tar.xz" ]; then
    rm -rf "$SITE" && mkdir -p "$SITE"
    "$PY" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" \
      "$1/site.tar.xz" "$SITE" || exit 4
    # typing_extensions comes along for pydantic (>= 4.16); keep the image's own if it is as new.
    PYTHONPATH= "${VENV_PY:-$PY}" - "$SITE" <<'PY' || exit 4
import glob, os, shutil, sys
from importlib.metadata import version
from packaging.version import Version
site = sys.argv[1]
ours = glob.glob(f"{site}/typing_extensions-*.dist-info")
if ours and Version(version("typing_extensions")) >= Version(ours[0].removesuffix(".dist-info").split("-")[-1]):
    shutil.rmtree(ours[0]); os.remove(f"{site}/typing_extensions.py")
    print("typing_extensions: the image's", version("typing_extensions"))
PY
    echo "wheels unpacked into $SITE: $(ls "$SITE" | grep -c dist-info) distributions"
  fi
  if [ -f "$1/data.tar.gz" ]; then
    mkdir -p "$DATA_DIR" && tar -xzf "$1/data.tar.gz" -C "$DATA_DIR" && ls -l "$DATA_DIR"
  fi
}

# Import everything the run needs (fails here, in seconds, rather than minutes into the run).
check_imports() {
  "$PY" - <<'PY'
import importlib, platform
names = ["torch", "transformers", "peft", "accelerate", "trl", "datasets", "outlines", "outlines_core", "pydantic",
         "gguf", "yaml", "matplotlib", "tutor.cli", "finetune.train", "finetune.tutor_data", "evaluation.arc",
         "evaluation.letter", "evaluation.loglik", "llm.structured", "llm.loading", "evaluation.turns",
         "evaluation.explain_report", "agent.turns.reader", "agent.explain", "llm.pattern_decode", "regex"]
mods = {name: importlib.import_module(name) for name in names}
from outlines.backends.outlines_core import OutlinesCoreLogitsProcessor  # noqa: F401  (letter mode)
mods["tutor.cli"].build_parser()
import torch
versions = {n: getattr(mods[n], "__version__", "?") for n in names[:10]}
cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA"
print("imports ok: python", platform.python_version(), versions, cuda)
PY
}
