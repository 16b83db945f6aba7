#!/usr/bin/env bash
# Regenerates tests/fixtures/tflite/: trains two toy baselines, exports them to int8 with the
# trainer, and runs tools/reference/tflite_parity.py (tflite-micro) on fixed inputs.
#   pip install --pre tflite-micro   # provides the interpreter, the schema and flatbuffers
#   tools/reference/make_tflite_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p tests/fixtures/tflite
cargo build -p trainer
T=target/debug/trainer
# small: 4 classes, 32 x 32 input (pooled to 1 x 1 x 8)
$T run --toy 4:20:10:32:32 --epochs 4 --batch 16 --seed 5 --out "$work/small"
$T export --run "$work/small" --int8 --calibrate 100 --out tests/fixtures/tflite/small.postcard
# the study's input size: 10 classes, 128 x 130, all five blocks at 128..8 channels
$T run --toy 10:3:2:128:130 --epochs 1 --batch 16 --seed 5 --out "$work/baseline"
$T export --run "$work/baseline" --int8 --calibrate 40 --out tests/fixtures/tflite/baseline.postcard
python3 tools/reference/tflite_parity.py tests/fixtures/tflite/small.postcard tests/fixtures/tflite small --inputs 6 --seed 1
python3 tools/reference/tflite_parity.py tests/fixtures/tflite/baseline.postcard tests/fixtures/tflite baseline --inputs 2 --seed 2
ls -l tests/fixtures/tflite
