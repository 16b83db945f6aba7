#!/usr/bin/env bash
# Baseline training throughput on a GPU: Burn's GPU backend against PyTorch CUDA on the same
# machine, as segments/s and a ratio. One command, on a machine with an NVIDIA GPU:
#
#   benches/gpu.sh [wgpu|cuda|libtorch-cuda] [steps]      (defaults: wgpu 50)
#
# Builds the `train_steps` example with the backend's cargo feature (dev profile, as the tests and
# the main job: dependencies at opt-level 3), runs `steps` Adam steps of the baseline on a batch of
# 32 [1, 128, 130] segments after a warm-up, then the same step in PyTorch on CUDA
# (benches/train_throughput_torch.py). Needs: Rust, python3 with a CUDA build of torch, and
#   wgpu: a Vulkan driver (the NVIDIA driver's libnvidia-vulkan / ICD file); builds offline;
#   cuda: the CUDA driver at run time; Burn 0.22's CUDA runtime downloads an LLVM bundle while it
#         builds, so building needs network access.
#   libtorch-cuda: `scripts/setup --libtorch` (pip's torch 2.9.1+cu128; builds offline once it is
#         there) and an NVIDIA driver for CUDA 12.8; the PyTorch side then runs on that same torch,
#         so both use the same cuDNN and cuBLAS.
# Not part of CI: no GPU there.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-wgpu}"
steps="${2:-50}"
case "$backend" in
    wgpu | cuda) feature="$backend" ;;
    libtorch-cuda) feature=libtorch ;;
    *) echo "usage: benches/gpu.sh [wgpu|cuda|libtorch-cuda] [steps]" >&2; exit 2 ;;
esac
py=python3
[[ "$backend" == libtorch-cuda ]] && py=.venv-libtorch/bin/python
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi
cargo build -p tinygenre-benches --features "$feature" --example train_steps
"$CARGO_TARGET_DIR/debug/examples/train_steps" "$backend" "$steps" | tee /tmp/tg_gpu_burn.txt
"$py" benches/train_throughput_torch.py 1 "$steps" cuda | tee /tmp/tg_gpu_torch.txt
python3 - <<'PY'
import re
get = lambda f: float(re.search(r"([0-9.]+) segments/s", open(f).read()).group(1))
burn, torch = get("/tmp/tg_gpu_burn.txt"), get("/tmp/tg_gpu_torch.txt")
print(f"burn {burn:.1f} segments/s, torch cuda {torch:.1f} segments/s, ratio burn/torch {burn / torch:.3f}")
PY
