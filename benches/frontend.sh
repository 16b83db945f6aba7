#!/usr/bin/env bash
# Front end on a 30 s clip: infer-core (criterion) vs librosa 0.11 melspectrogram + power_to_db,
# both single-threaded, same machine, same session. Prints both times and the ratio.
# Usage: benches/frontend.sh   (from anywhere; needs python3 with librosa)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
taskset -c 0 cargo bench --profile dev -p tinygenre-benches --bench frontend -- --noplot
taskset -c 0 python3 benches/frontend_librosa.py 20 | tee /tmp/tg_librosa_frontend.txt
python3 - <<'PY'
import json, os, re
d = os.environ["CARGO_TARGET_DIR"] + "/criterion/frontend_30s"
lib = open("/tmp/tg_librosa_frontend.txt").read()
for name in ("default_2048_slaney", "htk1024"):
    ours = json.load(open(f"{d}/{name}/new/estimates.json"))["median"]["point_estimate"] / 1e6
    theirs = float(re.search(rf"librosa {name}: median ([0-9.]+) ms", lib).group(1))
    print(f"{name}: infer-core {ours:.2f} ms, librosa {theirs:.2f} ms, librosa/infer-core = {theirs / ours:.2f}x")
PY
