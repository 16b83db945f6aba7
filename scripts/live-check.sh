#!/usr/bin/env bash
# Firmware live mode against the host's Classifier: builds the `live` binary with the model,
# feeds it PCM clips under QEMU at a stated clock, and checks every hop line (int8 logits,
# smoothed posterior bits, decision, window) bit for bit with `stream_eval --firmware`, which
# also replays the firmware's per-chunk costs through the device's schedule
# (`infer_core::realtime`), checks the firmware's own `summary` line (duty cycle, worst hop
# latency, overruns) against that replay and prints it.
# Usage: scripts/live-check.sh [MODEL.postcard] [CLOCK_HZ] [FILE.wav|FILE.pcm ...]
#   default model: models/baseline-synth-int8.postcard; default clock: 168000000
#   default clip: 8 s of a synthetic chord with noise bursts (python3, no GTZAN needed)
# Needs qemu-system-arm and the thumbv7em-none-eabihf target (scripts/setup).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
model=$(cd "$(dirname "${1:-models/baseline-synth-int8.postcard}")" && pwd)/$(basename "${1:-models/baseline-synth-int8.postcard}")
clock=${2:-168000000}
shift $(($# >= 2 ? 2 : $#))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd firmware-example && TINYGENRE_MODEL="$model" cargo build --release --bin live)
elf=$root/firmware-example/target/thumbv7em-none-eabihf/release/live

clips=()
if (($# == 0)); then
    python3 - "$work/synth.pcm" <<'PY'
import math, random, struct, sys
random.seed(1)
sr, n = 22050, 8 * 22050
out = bytearray()
for i in range(n):
    t = i / sr
    bar = i // (sr * 2)
    root = 110 * 2 ** ((bar * 5 % 12) / 12)
    x = sum(math.sin(2 * math.pi * root * r * t) for r in (1, 1.25, 1.5)) * 0.2
    x += random.uniform(-1, 1) * 0.4 * math.exp(-((i % (sr // 2)) / sr) * 30)
    out += struct.pack('<h', max(-32768, min(32767, int(x * 20000))))
open(sys.argv[1], 'wb').write(out)
PY
    clips+=("$work/synth.pcm")
else
    for f in "$@"; do
        case "$f" in
        *.pcm) clips+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")") ;;
        *) python3 -c "import wave,sys; w=wave.open(sys.argv[1]); open(sys.argv[2],'wb').write(w.readframes(w.getnframes()))" "$f" "$work/$(basename "$f").pcm"
           clips+=("$work/$(basename "$f").pcm") ;;
        esac
    done
fi
{
    echo "clock_hz $clock"
    for c in "${clips[@]}"; do echo "clip $(($(stat -c %s "$c") / 2)) $c"; done
} > "$work/clips.txt"
(cd "$work" && timeout 900 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -monitor none -serial none -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$elf")
grep -E '^(clip|end|summary|stack|done)' "$work/out.txt"
report=$(cargo run -q -p infer-core --features std --example stream_eval -- "$model" "${clips[@]}" \
    --firmware "$work/out.txt")
grep '^summary' <<<"$report"
grep -v '^summary' <<<"$report" | tail -2
