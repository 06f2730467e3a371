#!/usr/bin/env bash
# The browser tier, RUNS times in a row, with the 20-student load benchmark running beside it the whole time
# (issue 15: no lost clicks; a failing run stops the loop). Prints "N of RUNS runs passed" and exits non-zero
# unless every run passed. Logs: test-output/e2e-under-load/run-N.log and load-N.log; the tally (runs, passed,
# seconds a run, load benches completed beside them, machine) in bench/results/e2e_under_load.json.
#   bash scripts/e2e_under_load.sh            # 10 runs
#   bash scripts/e2e_under_load.sh 3          # 3 runs
#   PYTHON=/path/to/python bash scripts/e2e_under_load.sh 3
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
PY=${PYTHON:-.venv/bin/python}
OUT=test-output/e2e-under-load
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_WAIT_POLICY=PASSIVE PYTHONPATH=$PWD

# The load: 20 socket students taking 3-question quizzes on their own server, one run after another.
set -m
( n=0; while :; do n=$((n + 1)); "$PY" bench/load_sessions.py --sessions 20 --clients socket \
    --out "$OUT/load-$n" >"$OUT/load-$n.log" 2>&1; done ) &
LOAD=$!
set +m
trap 'kill -- -$LOAD 2>/dev/null' EXIT

passed=0
seconds=()
for run in $(seq "$RUNS"); do
  start=$SECONDS
  if "$PY" -m pytest tests/e2e -q -x -p no:cacheprovider >"$OUT/run-$run.log" 2>&1; then
    passed=$((passed + 1)); echo "run $run: passed ($(tail -1 "$OUT/run-$run.log"))"
  else
    echo "run $run: FAILED (see $OUT/run-$run.log)"; break
  fi
  seconds+=($((SECONDS - start)))
done
echo "$passed of $RUNS runs passed; load benchmark runs completed beside: $(ls "$OUT"/load-*/load_sessions.json 2>/dev/null | wc -l)"
"$PY" bench/e2e_load_summary.py --runs "$RUNS" --passed "$passed" --seconds "${seconds[@]}" --logs "$OUT" >/dev/null
[[ $passed -eq $RUNS ]]
