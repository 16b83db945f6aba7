#!/usr/bin/env bash
# Builds the firmware (release) and prints its flash and static RAM use from the
# ELF's sections, and proves that no allocator is linked.
# Usage: scripts/firmware-size.sh [MODEL.postcard]   (default: build.rs's choice)
# Honours CARGO_TARGET_DIR. Needs llvm-size or GNU size, and nm.
set -euo pipefail
cd "$(dirname "$0")/../firmware-example"

if [[ $# -ge 1 ]]; then
    export TINYGENRE_MODEL="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
fi
elf=$(cargo build --release --bin firmware-example --features winograd --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[[ -n "$elf" && -f "$elf" ]] || { echo "error: firmware build failed" >&2; exit 1; }

SIZE=$(command -v llvm-size || command -v size) || { echo "error: no llvm-size or size" >&2; exit 1; }
"$SIZE" -A "$elf" | awk -v elf="$elf" '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
    $1 == ".data" { flash += $2; ram += $2 }
    $1 == ".bss" || $1 == ".uninit" { ram += $2 }
    $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { printf "%-14s %9d bytes\n", $1, $2 }
    END {
        printf "flash (.vector_table+.text+.rodata+.data): %d bytes (%.1f KiB)\n", flash, flash / 1024
        printf "static RAM (.data+.bss+.uninit):           %d bytes (%.1f KiB)\n", ram, ram / 1024
        printf "elf: %s\n", elf
    }'

if nm "$elf" | grep -Eq '__rust_alloc|__rdl_alloc|__rg_alloc|__rust_no_alloc_shim'; then
    echo "error: an allocator symbol is linked" >&2
    exit 1
fi
echo "no allocator linked (no __rust_alloc / __rdl_alloc / __rg_alloc symbols)"
