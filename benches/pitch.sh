#!/usr/bin/env bash
# Pitch shift of a 30 s clip: trainer::augment::pitch (criterion, in process) vs
# librosa.effects.pitch_shift (in process), both on one core, same machine, same session.
# Prints both medians and the ratio. Usage: benches/pitch.sh  (needs python3 with librosa)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
taskset -c 0 cargo bench --profile dev -p tinygenre-benches --bench pitch -- --noplot
taskset -c 0 python3 benches/pitch_librosa.py 10 | tee /tmp/tg_librosa_pitch.txt
python3 - <<'PY'
import json, os, re
d = os.environ["CARGO_TARGET_DIR"] + "/criterion/pitch_shift_30s"
lib = open("/tmp/tg_librosa_pitch.txt").read()
for steps in ("2", "-4"):
    ours = json.load(open(f"{d}/steps_{steps}/new/estimates.json"))["median"]["point_estimate"] / 1e6
    theirs = float(re.search(rf"librosa steps_{steps}\.0: median ([0-9.]+) ms", lib).group(1))
    print(f"steps {steps}: ours {ours:.1f} ms, librosa {theirs:.1f} ms, ours/librosa = {ours / theirs:.2f}x")
PY
