#!/usr/bin/env bash
# The one script to run when a GPU is lent. In under 8 minutes (every step has a timeout, and none
# starts or runs past 7¾ minutes), on one NVIDIA GPU (the first, if several are visible):
#   1. the device tests (tests/test_training_gpu.py: bf16 training of every architecture, resume);
#   2. training speed, GPU against this machine's CPU in the same script: bench_train's fixed model
#      (emb 128, 2×LSTM 256; GPU bf16 batch 512, CPU fp32 batch 128);
#   3. the new default model's recipe (RECIPE below) through the real trainer: ms per step and
#      chars/s on the GPU, then the same on the CPU;
#   4. a 2-process torchrun on the one GPU (ranks share it through gloo; NCCL wants one GPU per
#      rank), against the 1-process run of step 3.
# It ends with a Markdown section (docs/benchmarks.md's columns) to paste into docs/benchmarks.md.
# A failed step is reported in that section and the others still run; the exit status is 1 if any
# failed.
#
#   benchmarks/gpu_check.sh                   # uses .venv/bin/python if present, else python3 (or $PYTHON)
#   benchmarks/gpu_check.sh --dry-run-on-cpu  # every step but the GPU-only ones, on the CPU, tiny settings
#
# Needs the project installed (pip install -e '.[dev]') with a CUDA build of PyTorch.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONUNBUFFERED=1
BUDGET=465      # seconds: no step starts, or runs, past 7¾ minutes
DEVICE=cuda
RUN_FOR=(--minutes 0.3)  # each timed run trains 18 s, so it ends on time whatever the speed
GPU_LOG=10      # a train line every 10 steps on the GPU, every 5 on the CPU: the timed windows
CPU_LOG=5
# The new default model's recipe: scripts/default_recipes.sh's winner (r-base), from the shipped
# model; keep the two in step.
RECIPE=(--init-from default --forms regulated --batch-size 64 --dropout 0.15)
CAP_SCALE=1
if [ "${1:-}" = "--dry-run-on-cpu" ]; then
  DEVICE=cpu GPU_LOG=2 CPU_LOG=2
  RUN_FOR=(--steps 8)      # tiny runs: a step count gives the timed windows even on a loaded machine
  BUDGET=1800 CAP_SCALE=4  # a busy 2-core machine: the budget is the GPU machine's, not this one's
  RECIPE=(--embed 16 --hidden 32 --layers 1 --batch-size 16)
else
  export CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-0}"  # one GPU, even on a machine with several
fi
TANGSTUDIO_HOME="$(mktemp -d)"
OUT="$(mktemp -d)"
export TANGSTUDIO_HOME
trap 'rm -rf "$TANGSTUDIO_HOME" "$OUT"' EXIT
: >"$OUT/steps.tsv"

# step NAME CAP_SECONDS COMMAND...: run it under a timeout (its cap, or what is left of the budget),
# its output shown and kept; record the exit status and seconds for the summary.
step() {
  local name=$1 cap=$(($2 * CAP_SCALE)) start=$SECONDS rc
  shift 2
  [ "$cap" -gt $((BUDGET - SECONDS)) ] && cap=$((BUDGET - SECONDS))
  if [ "$cap" -lt 5 ]; then
    echo "!! $name skipped: the ${BUDGET} s budget is spent"
    printf '%s\tskipped\t0\n' "$name" >>"$OUT/steps.tsv"
    return 1
  fi
  echo "== $name (up to ${cap} s): $*"
  timeout -k 5 "$cap" "$@" 2>&1 | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && echo "!! $name timed out after ${cap} s"
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" >>"$OUT/steps.tsv"
  return "$rc"
}

# train_args RUN DEVICE LOG: `tangstudio train` arguments in TRAIN for a timed run (RUN_FOR):
# no evaluation before the end and a small one then, no samples, no checkpoint before the end.
train_args() {
  TRAIN=(train --headless --device "$2" "${RUN_FOR[@]}" --log-every "$3" --eval-every 100000
    --eval-poems 100 --samples 0 --checkpoint-every 30 "${RECIPE[@]}" --run-name "$1")
}
# read NAME: the run's step time and chars/s into $OUT/NAME.json; it reads what a run that was cut
# short logged too (and says so), so a slow start costs the figure's precision, not the figure.
read_step() { step "read-$1" 10 "$PY" benchmarks/gpu_check.py recipe "$OUT" "$1" "$TANGSTUDIO_HOME/runs/$1"; }

step info 30 "$PY" benchmarks/gpu_check.py info "$OUT" --device "$DEVICE" || exit 1
step device-tests 90 "$PY" -m pytest tests/test_training_gpu.py -q -p no:cacheprovider
if [ "$DEVICE" = cuda ]; then
  step throughput 60 "$PY" benchmarks/gpu_check.py throughput "$OUT"
fi
train_args recipe-gpu "$DEVICE" "$GPU_LOG"
step recipe-gpu 85 "$PY" -m tangstudio "${TRAIN[@]}"
read_step recipe-gpu
train_args recipe-cpu cpu "$CPU_LOG"
step recipe-cpu 70 "$PY" -m tangstudio "${TRAIN[@]}"
read_step recipe-cpu
train_args ddp "$DEVICE" "$GPU_LOG"
step torchrun-2 85 "$PY" -m torch.distributed.run --standalone --nproc-per-node=2 -m tangstudio "${TRAIN[@]}"
step two-ranks 5 grep -q "2 process(es)" "$OUT/torchrun-2.log"
read_step ddp

echo
echo "== paste into docs/benchmarks.md"
"$PY" benchmarks/gpu_check.py table "$OUT" "$SECONDS"
