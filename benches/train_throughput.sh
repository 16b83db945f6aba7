#!/usr/bin/env bash
# Baseline training throughput (segments/s, batch 32): Burn flex vs PyTorch CPU, same session.
# Usage: benches/train_throughput.sh   (from the repository root; needs python3 + torch)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# dev profile: dependencies and workspace crates are already opt-level 3 there, and this
# reuses the shared build instead of compiling Burn again in release
cargo bench --profile dev -p tinygenre-benches --bench train_throughput -- --noplot 2>&1 | tee /tmp/tg_burn_bench.txt
burn_ms=$(python3 - <<'PY'
import json, glob, os
d = os.environ["CARGO_TARGET_DIR"] + "/criterion/train_throughput/baseline_flex_batch32/new/estimates.json"
print(json.load(open(d))["mean"]["point_estimate"] / 1e6)
PY
)
for t in 1 2; do python3 benches/train_throughput_torch.py "$t" 10 | tee "/tmp/tg_torch_$t.txt"; done
python3 - "$burn_ms" <<'PY'
import re, sys
burn = 32 / (float(sys.argv[1]) / 1000)
print(f"burn flex: {float(sys.argv[1]):.1f} ms/step, {burn:.1f} segments/s")
for t in (1, 2):
    s = open(f"/tmp/tg_torch_{t}.txt").read()
    torch = float(re.search(r"([0-9.]+) segments/s", s).group(1))
    print(f"ratio burn/torch ({t} thread{'s' if t > 1 else ''}): {burn / torch:.3f}")
PY
