# Stage one carried folder on the device machine: GGUF parts to /tmp/stage, the Unsloth bundle to /tmp/u.
# bash .gpu9/tools/stage.sh .gpu9/a ; then .gpu9/b ; then run.sh with .gpu9/c (calls back to back, machine warm)
set -e
mkdir -p /tmp/stage /tmp/u
cp "$1"/smol.part* /tmp/stage/
[ -f "$1/site-uns.tar.xz" ] && tar -xJf "$1/site-uns.tar.xz" -C /tmp/u
ls -l /tmp/stage; nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
python3 -c "import torch,transformers,peft,triton,accelerate;print(torch.__version__,transformers.__version__,peft.__version__,triton.__version__,accelerate.__version__)"
