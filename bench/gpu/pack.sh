# Build the git-ignored .gpu9/ bundle that bench/gpu/stage.sh and run.sh carry to the GPU machine.
#   bash bench/gpu/pack.sh /path/to/site-uns.tar.xz   # the Unsloth bundle from ../shared/tools/unsloth_bundle.sh
# One call carries at most 64 MiB including the ~12 MB working tree, so the GGUF (98 MB, for the correctness
# check) travels in four 25 MB parts: .gpu9/a = bundle + part0, .gpu9/b = parts 1-2, .gpu9/c = part3 + wheels.
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=${1:?path to site-uns.tar.xz}
gguf=$(.venv/bin/python -c "from llm.embedded import locate_gguf; print(locate_gguf())")
rm -rf .gpu9 && mkdir -p .gpu9/a .gpu9/b .gpu9/c .gpu9/tools /tmp/gpu9split
split -b 25000000 -d -a 1 "$gguf" /tmp/gpu9split/smol.part
cp "$bundle" .gpu9/a/site-uns.tar.xz && mv /tmp/gpu9split/smol.part0 .gpu9/a/
mv /tmp/gpu9split/smol.part1 /tmp/gpu9split/smol.part2 .gpu9/b/ && mv /tmp/gpu9split/smol.part3 .gpu9/c/
python3 -m pip download -q --no-deps --only-binary=:all: -d .gpu9/c liger-kernel==0.8.5 gguf==0.19.0
cp ../shared/tools/qlora_reference_bench.py ../shared/tools/unsloth_reference_bench.py .gpu9/tools/
cp bench/gpu/stage.sh bench/gpu/run.sh bench/gpu/ddp.sh .gpu9/tools/
mkdir -p .gpu9/ddp && cp "$bundle" .gpu9/ddp/site-uns.tar.xz && cp .gpu9/c/liger_kernel-*.whl .gpu9/ddp/
du -sh .gpu9/*
