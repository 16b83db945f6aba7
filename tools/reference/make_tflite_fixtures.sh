#!/usr/bin/env bash
# Regenerates tests/fixtures/tflite/: trains two toy baselines, exports them to int8 with the
# trainer, and runs tools/reference/tflite_parity.py (tflite-micro) on fixed inputs.
#   pip install --pre tflite-micro   # provides the interpreter, the schema and flatbuffers
#   tools/reference/make_tflite_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build -p trainer
T=target/debug/trainer
# small: 4 classes, 32 x 32 input (pooled to 1 x 1 x 8)
$T run --toy 4:12:4:32:32 --epochs 3 --batch 16 --seed 5 --out "$work/small"
$T export --run "$work/small" --int8 --calibrate 100 --out "$work/small.postcard"
# the study's input size: 10 classes, 128 x 130, all five blocks at 128..8 channels
$T run --toy 10:3:2:128:130 --epochs 1 --batch 16 --seed 5 --out "$work/baseline"
$T export --run "$work/baseline" --int8 --calibrate 40 --out "$work/baseline.postcard"
python3 tools/reference/tflite_parity.py "$work/small.postcard" tests/fixtures/tflite small --inputs 6 --seed 1
python3 tools/reference/tflite_parity.py "$work/baseline.postcard" tests/fixtures/tflite baseline --inputs 3 --seed 2
rm -f tests/fixtures/tflite/*.tflite.tmp
ls -l tests/fixtures/tflite
