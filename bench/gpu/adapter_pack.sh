#!/usr/bin/env bash
# Build the git-ignored .adapter_gpu/ bundle that takes tutor adapter v2's training and ARC evaluation to the
# GPU machine (bench/gpu/ADAPTER.md). Run it in the checkout that the device tool sends, after the last merge:
#   bash bench/gpu/adapter_pack.sh                 # HEADROOM_MIB=8: MiB kept free per call for files added later
# Each call may carry 64 MiB, the working tree included, so the bundle is cut to fit what the tree leaves:
#   .adapter_gpu/p1 = site.tar.xz (wheels the image lacks, pre-installed for Python 3.12) + data.tar.gz (ARC-Easy,
#   OpenBookQA test) + the first bytes of smol.ggsq (the embedded GGUF, losslessly squeezed: gguf_squeeze.py);
#   .adapter_gpu/p2.. = the rest of smol.ggsq. It prints the run calls: stage p1 (.. pN-1), then run pN.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
if [ -z "${PY:-}" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH=$PWD
MIB=1048576
export PIP_ROOT_USER_ACTION=ignore
HEADROOM_MIB=${HEADROOM_MIB:-8}
out=.adapter_gpu cache=.adapter_gpu/cache
mkdir -p "$cache/wheels"
git check-ignore -q "$out" || { echo "error: $out is not git-ignored (add /$out/ to .gitignore)"; exit 2; }

# 1. Wheels the GPU image lacks (its list: bench/gpu/gpu_image_packages.txt), the versions pinned here.
#    bitsandbytes is left out: the embedded model trains as plain LoRA (quantization: none).
te=$("$PY" -c "from importlib.metadata import version; print(version('typing_extensions'))")
WHEELS=(trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 outlines==1.3.3 outlines_core==0.2.14
        diskcache==5.6.3 genson==1.4.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0
        rpds-py==2026.9.1 pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
        "typing-extensions==$te" gguf==0.19.0 bm25s==0.3.16)
plat=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
      --platform manylinux1_x86_64 --platform any)
python3 -m pip download -q --no-deps "${plat[@]}" -d "$cache/wheels" "${WHEELS[@]}" 2>&1 | grep -v "^WARNING: Location" || true
printf '%s\n' "${WHEELS[@]}" | sed 's/==.*//' > "$cache/wheels.txt"
if [ ! -f "$cache/site.tar.xz" ] || [ -n "$(find "$cache/wheels" -newer "$cache/site.tar.xz")" ]; then
  rm -rf "$cache/site"
  # Installed here for the GPU's Python 3.12, as `pip install --target` would there; xz packs it 1/3 smaller
  # than the wheels' own zip compression.
  python3 -m pip install -q --no-index --no-deps --no-compile "${plat[@]}" --target "$cache/site" "$cache"/wheels/*.whl
  rm -rf "$cache/site/bin"
  tar -C "$cache/site" -cf - . | xz -9 -T1 > "$cache/site.tar.xz.tmp" && mv "$cache/site.tar.xz.tmp" "$cache/site.tar.xz"
fi

# 2. The evaluation data (../shared does not travel).
shared=${SHARED_DATA:-}
for d in ../shared/data /work/shared/data; do [ -z "$shared" ] && [ -f "$d/arc_easy_test.jsonl" ] && shared=$d; done
[ -n "$shared" ] || { echo "error: no shared data folder (set SHARED_DATA)"; exit 2; }
tar -C "$shared" -czf "$cache/data.tar.gz" arc_easy_test.jsonl openbookqa_test.jsonl

# 3. The embedded model's GGUF, squeezed once (about a minute on one core; checked byte for byte).
gguf=$("$PY" -c "from llm.embedded import locate_gguf; print(locate_gguf())")
sha=$("$PY" -c "from llm.embedded import GGUF_SHA256; print(GGUF_SHA256)")
if [ "$(cat "$cache/smol.ggsq.sha" 2>/dev/null)" != "$sha" ]; then
  "$PY" bench/gpu/gguf_squeeze.py pack "$gguf" "$cache/smol.ggsq"
  echo "$sha" > "$cache/smol.ggsq.sha"
fi

# 4. Cut to fit: what each call may carry = 64 MiB - the tree (tracked + untracked-not-ignored) - headroom.
tree=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
per_call=$(( 64 * MIB - tree - HEADROOM_MIB * MIB - 65536 ))
size() { stat -c %s "$1"; }
fixed=$(( $(size "$cache/site.tar.xz") + $(size "$cache/data.tar.gz") ))
ggsq=$(size "$cache/smol.ggsq")
first=$(( per_call - fixed ))
[ "$first" -gt 0 ] || { echo "error: tree ${tree} B leaves no room for the wheels"; exit 3; }
parts=$(( 1 + (ggsq - first + per_call - 1) / per_call ))
[ "$ggsq" -le "$first" ] && parts=1
rm -rf "$out"/p[0-9]*
offset=0
for i in $(seq 1 "$parts"); do
  mkdir -p "$out/p$i"
  count=$per_call
  if [ "$i" = 1 ]; then count=$first; cp "$cache/site.tar.xz" "$cache/data.tar.gz" "$out/p1/"; fi
  dd if="$cache/smol.ggsq" of="$out/p$i/smol.ggsq.part$i" bs=4M iflag=skip_bytes,count_bytes skip="$offset" \
     count="$count" status=none
  offset=$(( offset + count ))
  printf 'PARTS=%s\nGGSQ_SHA256=%s\nGGUF_SHA256=%s\n' "$parts" "$(sha256sum "$cache/smol.ggsq" | cut -d' ' -f1)" \
    "$sha" > "$out/p$i/parts.env"
  cp "$cache/wheels.txt" "$out/p$i/"
done
[ "$offset" -ge "$ggsq" ] || { echo "error: split lost bytes"; exit 3; }

echo "tree $(awk -v b="$tree" 'BEGIN{printf "%.2f", b/1048576}') MiB, headroom $HEADROOM_MIB MiB, per call $(awk -v b="$per_call" 'BEGIN{printf "%.2f", b/1048576}') MiB"
echo "wheels $(du -b "$cache/site.tar.xz" | cut -f1) B (site.tar.xz), data $(size "$cache/data.tar.gz") B, smol.ggsq $ggsq B (GGUF $(size "$gguf") B)"
for i in $(seq 1 "$parts"); do
  echo "  $out/p$i: $(du -cb "$out/p$i"/* | tail -1 | cut -f1) B, with the tree $(( ( $(du -cb "$out/p$i"/* | tail -1 | cut -f1) + tree ) / 1024 )) KiB of 65536"
done
echo "run calls ($parts), issued back to back (the machine stays warm 30 s):"
for i in $(seq 1 "$parts"); do
  script=adapter_stage.sh; [ "$i" = "$parts" ] && script=adapter_run.sh
  echo "  $i. carry=[\"$out/p$i\"]  command: bash bench/gpu/$script $out/p$i"
done
