# Last call: the remaining GGUF part and the wheels in $1, then the whole benchmark (see bench/train_throughput.py).
set -o pipefail
[ -d /tmp/u/site-uns ] && ls /tmp/stage/smol.part0 || { echo "machine not warm: stage.sh missing"; exit 3; }
mkdir -p /tmp/smol /tmp/site
cp "$1"/smol.part* /tmp/stage/
cat /tmp/stage/smol.part0 /tmp/stage/smol.part1 /tmp/stage/smol.part2 /tmp/stage/smol.part3 > /tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf
sha256sum /tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf
python3 -m pip install -q --upgrade --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$1"/*.whl || exit 4
for d in /tmp/u/site-uns/bitsandbytes /tmp/u/site-uns/bitsandbytes-*.dist-info; do ln -sfn "$d" /tmp/site/; done
export PYTHONUNBUFFERED=1
python3 bench/train_throughput.py --tools .gpu9/tools --site /tmp/site --unsloth-site /tmp/u/site-uns \
  --correctness-model /tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf --work /tmp/ttwork --out "$OUT" \
  --budget-s "${BUDGET:-540}" ${STACKS:+--stacks $STACKS} ${MERGE:+--merge} 2>&1 | tee "$OUT/run.log"
