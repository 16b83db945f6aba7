#!/usr/bin/env bash
# Runs the fuzz targets one after another with the limits of issue 24 (see README.md).
#   fuzz/run.sh [SECONDS] [CORPUS_DIR] [TARGET...]
# SECONDS per target (default 300), CORPUS_DIR as made by seeds.py (default /work/fuzz-corpus),
# targets default to wav au discover. Logs go to CORPUS_DIR/logs/TARGET.log; a crash, an abort,
# an allocation over -malloc_limit_mb or RSS over -rss_limit_mb stops the target with exit 1 and
# leaves the input in fuzz/artifacts/TARGET/.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
corpus=${2:-/work/fuzz-corpus}
shift 2 2>/dev/null || shift $#
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(wav au discover)
mkdir -p "$corpus/logs"
status=0
for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t"
    extra=()
    # discovery prints one warning line per unreadable file: keep the log to libFuzzer's lines
    [[ $t == discover ]] && extra=(-close_fd_mask=2)
    /usr/bin/time -v cargo +nightly fuzz run "$t" "$corpus/$t" -- \
        -rss_limit_mb=2048 -malloc_limit_mb=512 -max_total_time="$secs" -print_final_stats=1 \
        "${extra[@]}" >"$corpus/logs/$t.log" 2>&1
    rc=$?
    log="$corpus/logs/$t.log"
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    peak=$(grep -oE '^stat::peak_rss_mb: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log")
    wall=$(grep -E 'Elapsed \(wall clock\)' "$log" | awk '{print $NF}')
    crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    echo "$t: exit $rc; ${done_line:-stopped early}; executions ${runs:-?}; wall ${wall:-?};" \
        "peak RSS ${peak:-?} MB; $crashes files in fuzz/artifacts/$t"
    [[ $rc -ne 0 ]] && status=1
done
exit $status
