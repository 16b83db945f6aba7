#!/usr/bin/env bash
# Builds the nRF52840 board crate (release) and prints its flash and static RAM use from the
# ELF's sections; fails over the limits below or when an allocator is linked.
# Usage: scripts/board-size.sh [MODEL.postcard]   (default: build.rs's choice,
#        TINYGENRE_BOARD_MODEL or models/tiny16k-int8.postcard, else models/genre-int8.postcard)
# Honours CARGO_TARGET_DIR. Needs llvm-size or GNU size (binutils reads ARM ELF), and nm.
#
# Limits, on the nRF52840's 1 MiB of flash and 256 KiB of RAM:
# - flash <= 256 KiB: the program with the ~100 KiB int8 baseline is ~160 KiB; a quarter of
#   the flash leaves room for a SoftDevice (S140: ~156 KiB), a bootloader and a second image
#   for updates, which a product with this chip usually carries.
# - static RAM <= 128 KiB: the queue, the front end and the CNN's buffers are statics (~66
#   KiB); half of the RAM leaves the other half to the stack (the classifier's peak is under
#   64 KiB in firmware-example's measurement, where the front end and executor sit on the
#   stack) and to a SoftDevice's RAM.
set -euo pipefail
cd "$(dirname "$0")/../board-nrf52840"

FLASH_LIMIT=$((256 * 1024))
RAM_LIMIT=$((128 * 1024))

if [[ $# -ge 1 ]]; then
    export TINYGENRE_BOARD_MODEL="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
fi
elf=$(cargo build --release --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[[ -n "$elf" && -f "$elf" ]] || { echo "error: board build failed" >&2; exit 1; }

SIZE=$(command -v llvm-size || command -v size) || { echo "error: no llvm-size or size" >&2; exit 1; }
sections=$("$SIZE" -A "$elf")
awk '$1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ { printf "%-14s %9d bytes\n", $1, $2 }' <<<"$sections"
read -r flash ram < <(awk '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
    $1 == ".data" { flash += $2; ram += $2 }
    $1 == ".bss" || $1 == ".uninit" { ram += $2 }
    END { print flash + 0, ram + 0 }' <<<"$sections")
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
echo "flash (.vector_table+.text+.rodata+.data): $flash bytes ($(kib "$flash")), limit $FLASH_LIMIT ($(kib "$FLASH_LIMIT"))"
echo "static RAM (.data+.bss+.uninit):           $ram bytes ($(kib "$ram")), limit $RAM_LIMIT ($(kib "$RAM_LIMIT"))"
echo "elf: $elf"

status=0
if ((flash > FLASH_LIMIT)); then
    echo "error: flash $flash bytes is over the limit of $FLASH_LIMIT" >&2
    status=1
fi
if ((ram > RAM_LIMIT)); then
    echo "error: static RAM $ram bytes is over the limit of $RAM_LIMIT" >&2
    status=1
fi
if nm "$elf" | grep -Eq '__rust_alloc|__rdl_alloc|__rg_alloc|__rust_no_alloc_shim'; then
    echo "error: an allocator symbol is linked" >&2
    status=1
else
    echo "no allocator linked (no __rust_alloc / __rdl_alloc / __rg_alloc symbols)"
fi
exit $status
