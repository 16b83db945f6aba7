#!/usr/bin/env bash
# Measures the firmware's cost table under QEMU (-icount shift=0) with `trainer crosscheck`
# and checks the RAM target: static RAM + peak stack of the whole pipeline <= 64 KiB, and flash
# <= 160 KiB.
# Usage: scripts/firmware-cost.sh [MODEL.postcard] [CLIPS]
#   default model: the deterministic baseline-shaped test model (`--test-model baseline`)
#   default clips: 2 synthetic 3 s clips (one segment each)
# The segment firmware as `trainer crosscheck` builds it (with its `winograd` feature).
# Writes target/firmware-cost.json. Needs qemu-system-arm and the thumbv7em-none-eabihf target.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ge 1 && -n "$1" ]]; then net=(--model "$1"); else net=(--test-model baseline); fi
clips=${2:-2}
report=target/firmware-cost.json
mkdir -p target
# TRAINER_FEATURES: the trainer's features (CI passes the tests' `teacher`, so the trainer is
# not built a second time)
cargo run -p trainer ${TRAINER_FEATURES:+--features "$TRAINER_FEATURES"} -- crosscheck "${net[@]}" --synthetic --clips "$clips" \
    --seconds 3 --out "$report"

num() { sed -n "s/^  \"$1\": \([0-9.e+-]*\),\{0,1\}$/\1/p" "$report"; }
printf '%-40s %s\n' \
    "CNN MACs per inference" "$(num macs_per_inference)" \
    "CNN instructions per MAC" "$(num instructions_per_mac)" \
    "CNN instructions per 3 s segment" "$(num cnn_instructions_per_segment)" \
    "front-end instructions per 3 s segment" "$(num frontend_instructions_per_segment)" \
    "flash bytes" "$(num flash_bytes)" \
    "static RAM bytes" "$(num static_ram_bytes)" \
    "peak stack bytes" "$(num peak_stack_bytes)" \
    "peak RAM bytes (static + stack)" "$(num peak_ram_bytes)" \
    "int8 logits bit-identical to host (%)" "$(num bit_identical_pct)"

ram=$(num peak_ram_bytes)
limit=$((64 * 1024))
if ((ram > limit)); then
    echo "error: peak RAM $ram bytes exceeds the target of $limit bytes" >&2
    exit 1
fi
echo "peak RAM $ram bytes <= $limit bytes: target met"
flash=$(num flash_bytes)
if ((flash > 160 * 1024)); then
    echo "error: flash $flash bytes exceeds the target of $((160 * 1024)) bytes" >&2
    exit 1
fi
echo "flash $flash bytes <= $((160 * 1024)) bytes: target met"
