#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the test suite's device tests, then a short throughput benchmark
# (length-bucketed training chars/s on the GPU in bf16 at batch 512 vs the same model on this
# machine's CPU at batch 128, measured in the same run). Finishes in well under 5 minutes.
#
#   benchmarks/gpu_check.sh            # uses .venv/bin/python if present, else python3 (or $PYTHON)
#
# Needs the project installed (pip install -e '.[dev]') with a CUDA build of PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONUNBUFFERED=1
TANGSTUDIO_HOME="$(mktemp -d)"
export TANGSTUDIO_HOME
trap 'rm -rf "$TANGSTUDIO_HOME"' EXIT

"$PY" - <<'PYEOF'
import sys
import torch
if not torch.cuda.is_available():
    sys.exit("gpu_check: no CUDA GPU visible to PyTorch (torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
p = torch.cuda.get_device_properties(0)
print(f"GPU {p.name}, {p.total_memory / 2**30:.0f} GiB · torch {torch.__version__} · CUDA {torch.version.cuda} · "
      f"cuDNN {torch.backends.cudnn.version()} · bf16 {torch.cuda.is_bf16_supported()} · {torch.cuda.device_count()} device(s)")
PYEOF

echo "== device tests (tests/test_training_gpu.py)"
timeout 180 "$PY" -m pytest tests/test_training_gpu.py -q -p no:cacheprovider

echo "== throughput: GPU vs CPU, same model, same run"
timeout 100 "$PY" benchmarks/bench_train.py --gpu-vs-cpu
