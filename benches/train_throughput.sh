#!/usr/bin/env bash
# Baseline training throughput (segments/s, batch 32) on the CPU, same session: Burn flex, Burn
# LibTorch (when .venv-libtorch is there: `scripts/setup --libtorch`) and PyTorch (1 and 2 threads).
# Usage: benches/train_throughput.sh   (from the repository root; needs python3 + torch, or the
# LibTorch venv, whose torch then runs the PyTorch rows too)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
features=()
[[ -n "${LIBTORCH:-}" || -e .venv-libtorch/libtorch/version.py ]] && features=(--features libtorch)
py=python3
python3 -c "import torch" 2>/dev/null || py=.venv-libtorch/bin/python
# dev profile: dependencies and workspace crates are already opt-level 3 there, and this
# reuses the shared build instead of compiling Burn again in release
cargo bench --profile dev -p tinygenre-benches "${features[@]}" --bench train_throughput -- --noplot 2>&1 | tee /tmp/tg_burn_bench.txt
for t in 1 2; do "$py" benches/train_throughput_torch.py "$t" 10 | tee "/tmp/tg_torch_$t.txt"; done
python3 - <<'PY'
import json, os, re
est = os.environ["CARGO_TARGET_DIR"] + "/criterion/train_throughput/baseline_{}_batch32/new/estimates.json"
torch = {t: float(re.search(r"([0-9.]+) segments/s", open(f"/tmp/tg_torch_{t}.txt").read()).group(1)) for t in (1, 2)}
print(f"torch cpu (1 thread): {torch[1]:.1f} segments/s")
print(f"torch cpu (2 threads): {torch[2]:.1f} segments/s")
for name in ("flex", "libtorch"):
    if name == "libtorch" and "baseline_libtorch_batch32" not in open("/tmp/tg_burn_bench.txt").read():
        continue  # built without the libtorch feature
    ms = json.load(open(est.format(name)))["mean"]["point_estimate"] / 1e6
    burn = 32 / (ms / 1000)
    print(f"burn {name}: {ms:.1f} ms/step, {burn:.1f} segments/s; "
          f"ratio burn/torch {burn / torch[1]:.3f} (1 thread), {burn / torch[2]:.3f} (2 threads)")
PY
