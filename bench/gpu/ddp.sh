# One call on nvidia-h100-x2: multi-GPU scaling of the project's fast QLoRA path (bench/throughput_ddp.py).
#   bash bench/gpu/pack.sh BUNDLE        # builds .gpu9/ (this call needs only .gpu9/ddp and .gpu9/tools)
#   run(kind=nvidia-h100-x2, carry=[".gpu9/ddp", ".gpu9/tools"], command="bash .gpu9/tools/ddp.sh .gpu9/ddp")
# Installs bitsandbytes (from the Unsloth bundle) and Liger, then times batch 2 and 4 per GPU on 1 and on 2
# GPUs (torchrun, one process a GPU, NCCL with the machine's NVLink-multicast-off settings kept), writes
# $OUT/ddp_{gpus}gpu_b{bs}.json, a profile of one batch-4 step on one GPU, and the log.
set -o pipefail
mkdir -p /tmp/u /tmp/site
[ -d /tmp/u/site-uns ] || tar -xJf "$1/site-uns.tar.xz" -C /tmp/u || exit 3
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$1"/liger*.whl || exit 4
for d in /tmp/u/site-uns/bitsandbytes /tmp/u/site-uns/bitsandbytes-*.dist-info; do ln -sfn "$d" /tmp/site/; done
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv | tee "$OUT/run.log"
env | grep -E "NCCL_NVLS_ENABLE|TORCH_SYMM_MEM_DISABLE_MULTICAST|NVSHMEM_DISABLE_NVLS" | tee -a "$OUT/run.log"
for bs in ${BATCHES:-2 4}; do
  for n in 1 2; do
    extra=""
    [ "$n" = 1 ] && [ "$bs" = 4 ] && extra="--profile $OUT/profile_1gpu_b4.txt"
    timeout "${STEP_TIMEOUT:-240}" torchrun --standalone --nproc_per_node "$n" bench/throughput_ddp.py --bs "$bs" \
      --json "$OUT/ddp_${n}gpu_b${bs}.json" $extra 2>&1 | grep -v "Warning\|warn(" | tail -n 5 | tee -a "$OUT/run.log"
  done
done
python3 - "$OUT" <<'PY' | tee -a "$OUT/run.log"
import json, pathlib, sys
rows = {p.stem: json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("ddp_*.json"))}
for bs in (2, 4):
    one, two = rows.get(f"ddp_1gpu_b{bs}"), rows.get(f"ddp_2gpu_b{bs}")
    if one and two:
        print(f"batch {bs}/GPU: 1 GPU {one['tokens_per_s']:.0f} tok/s, 2 GPUs {two['tokens_per_s']:.0f} tok/s, "
              f"scaling {two['tokens_per_s'] / one['tokens_per_s']:.2f}x, peak rank0 {two['peak_gib_rank0']} GiB")
PY
