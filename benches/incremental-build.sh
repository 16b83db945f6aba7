#!/usr/bin/env bash
# Incremental build time of a one-line change (issue 27's measure of the crate boundaries):
# builds the trainer once (untimed), then changes one line of FILE (a string literal, so the
# crate's code really changes), times `cargo build` of the trainer binary, restores the line and
# times the build again. Prints both wall times; the tree is left as it was.
# Usage: benches/incremental-build.sh [FILE] [LINE_PATTERN] [REPLACEMENT]
#   default: the audio decoder's "unsupported file type" message (corpus/src/audio/error.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-corpus/src/audio/error.rs}
pattern=${2:-unsupported file type}
replacement=${3:-unsupported file kind}
# the features the tests build with (the tests crate turns on `teacher`), so Burn is not rebuilt
build=(cargo build -q -p trainer --features teacher)
grep -q "$pattern" "$file" || { echo "no '$pattern' in $file" >&2; exit 1; }
backup=$(mktemp)
cp -p "$file" "$backup"
trap 'cp -p "$backup" "$file"; rm -f "$backup"' EXIT
"${build[@]}"
time_build() {
    local t0 t1
    t0=$(date +%s.%N)
    "${build[@]}"
    t1=$(date +%s.%N)
    echo "$1: $(echo "$t1 - $t0" | bc) s"
}
sed -i "s/$pattern/$replacement/" "$file"
time_build "changed $file"
cp "$backup" "$file"
touch "$file"
time_build "restored $file"
