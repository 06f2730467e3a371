#!/usr/bin/env bash
# GPU call 1 (and 2.. N-1 if the bundle has more parts): stage one part of .adapter_gpu (bench/gpu/adapter_pack.sh)
# while the machine warms up, unpack the wheels into /tmp/adapter_v2/site, check every import the run needs,
# build the training rows once as a check. Issue the next call at once: the machine is given back after 30 s idle.
#   run(carry=[".adapter_gpu/p1"], command="bash bench/gpu/adapter_stage.sh .adapter_gpu/p1")
# Output: $OUT/stage.log. Dry run: see adapter_run.sh.
if [ -z "${_ADAPTER_TEED:-}" ]; then
  : "${OUT:?OUT is unset}"; mkdir -p "$OUT"
  set -o pipefail
  _ADAPTER_TEED=1 bash "$0" "$@" 2>&1 | tee -a "$OUT/stage.log"
  exit "${PIPESTATUS[0]}"
fi
set -u -o pipefail
source "$(dirname "$0")/adapter_common.sh"
TIMINGS=$WORK/stage_timings.tsv
stamp "stage $1"
stage_part "${1:?usage: adapter_stage.sh .adapter_gpu/pK}"
ls -l "$STAGE"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total,driver_version --format=csv
stamp imports
check_imports || exit 5
stamp rows
"$PY" -m finetune.tutor_data --out runs/tutor_sft > /dev/null && cat runs/tutor_sft/manifest.json | head -c 600; echo
stamp "staged; $(ls "$STAGE"/smol.ggsq.part* | wc -l) of $(sed -n 's/^PARTS=//p' "$STAGE/parts.env") parts here"
