#!/usr/bin/env bash
# Side-by-side benchmark: infer-core's int8 conv kernel vs Arm's CMSIS-NN (arm_convolve_s8 +
# arm_max_pool_s8) on the baseline's five conv3x3-ReLU-maxpool2 layer shapes, same
# deterministic data, both under QEMU mps2-an386 with -icount shift=0, instructions counted the
# same way (SysTick, 40 instructions per tick). Checks that the two give the same int8 outputs,
# and that ours through Winograd F(2x2, 3x3) (`conv_tile::wino`) gives the direct kernel's.
# A benchmark, not a CI test. Usage: scripts/bench-cmsis-nn.sh
# Needs: qemu-system-arm, the thumbv7em-none-eabihf target and gcc-arm-none-eabi
# (`scripts/setup --bench` installs it), and CMSIS-NN's sources in ../shared/peers/cmsis-nn
# (or CMSIS_NN_DIR). CMSIS-NN is compiled from there into target/, never copied into the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cmsis=${CMSIS_NN_DIR:-$root/../shared/peers/cmsis-nn}
[[ -d "$cmsis/Source" ]] || { echo "error: no CMSIS-NN sources in $cmsis" >&2; exit 1; }
command -v arm-none-eabi-gcc >/dev/null || { echo "error: arm-none-eabi-gcc missing: scripts/setup --bench" >&2; exit 1; }

out=$root/target/bench-cmsis-nn
mkdir -p "$out/obj"
cflags=(-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb -O3 -ffunction-sections
    -fdata-sections -I"$cmsis/Include" -I"$root/benches/cmsis-nn")
objs=()
for f in "$cmsis"/Source/ConvolutionFunctions/{arm_convolve_s8,arm_convolve_get_buffer_sizes_s8,arm_nn_mat_mult_kernel_s8_s16,arm_nn_mat_mult_kernel_row_offset_s8_s16}.c \
    "$cmsis"/Source/PoolingFunctions/arm_max_pool_s8.c \
    "$cmsis"/Source/NNSupportFunctions/arm_{nn_mat_mult_nt_t_s8,q7_to_q15_with_offset,s8_to_s16_unordered_with_offset,nn_mat_mul_core_4x_s8,nn_mat_mul_core_1x_s8}.c \
    "$root/benches/cmsis-nn/harness.c"; do
    [[ -f "$f" ]] || continue
    o="$out/obj/$(basename "$f" .c).o"
    arm-none-eabi-gcc "${cflags[@]}" -c "$f" -o "$o"
    objs+=("$o")
done
arm-none-eabi-gcc "${cflags[@]}" -nostartfiles -T "$root/benches/cmsis-nn/link.ld" -Wl,--gc-sections \
    "${objs[@]}" -lc -lgcc -o "$out/harness.elf"

(cd firmware-example && cargo build --release --bin layers)
ours=firmware-example/target/thumbv7em-none-eabihf/release/layers

qemu=(qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none
    -semihosting-config enable=on,target=native -icount shift=0 -kernel)
timeout 600 "${qemu[@]}" "$out/harness.elf" > "$out/cmsis.txt" 2>&1
timeout 600 "${qemu[@]}" "$ours" > "$out/ours.txt" 2>&1

field() { sed -n "s/.* $1=\([0-9a-f]*\).*/\1/p"; }
printf '| layer | MACs | ours, direct (conv+pool) | instr/MAC | ours, Winograd F(2x2,3x3) | instr/MAC | CMSIS-NN conv + pool | instr/MAC | direct / CMSIS-NN | Winograd / direct | outputs |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
tm=0 to=0 tw=0 tc=0 bad=0
for l in 0 1 2 3 4; do
    o=$(grep "^layer $l " "$out/ours.txt") c=$(grep "^layer $l " "$out/cmsis.txt")
    w=$(grep "^wino $l " "$out/ours.txt" || true)
    macs=$(field macs <<<"$o") oi=$(field conv_pool <<<"$o")
    ci=$(($(field conv <<<"$c") + $(field pool <<<"$c")))
    # a layer without a Winograd line (one input channel) counts the direct kernel in the total
    wi=$(field winograd <<<"$w") wi=${wi:-0}
    same=identical
    [[ $(field out_fnv <<<"$o") == $(field out_fnv <<<"$c") ]] || { same=DIFFER; bad=1; }
    if [[ -n $w && $(field out_fnv <<<"$w") != $(field out_fnv <<<"$o") ]]; then same="Winograd DIFFERS"; bad=1; fi
    tm=$((tm + macs)) to=$((to + oi)) tc=$((tc + ci)) tw=$((tw + (wi > 0 ? wi : oi)))
    awk -v l="$l" -v m="$macs" -v o="$oi" -v w="$wi" -v c="$ci" -v s="$same" 'BEGIN {
        if (w > 0) ws = sprintf("%d | %.3f", w, w / m); else ws = "- | -"
        wr = (w > 0) ? sprintf("%.2f", w / o) : "-"
        printf "| %d | %d | %d | %.3f | %s | %d | %.3f | %.2f | %s | %s |\n", l + 1, m, o, o / m, ws, c, c / m, o / c, wr, s }'
done
awk -v m="$tm" -v o="$to" -v w="$tw" -v c="$tc" 'BEGIN {
    printf "| all | %d | %d | %.3f | %d (layer 1 direct) | %.3f | %d | %.3f | %.2f | %.2f | |\n", m, o, o / m, w, w / m, c, c / m, o / c, w / o }'
grep "^wino_parts" "$out/ours.txt" || true
if ((bad)); then echo "error: the int8 outputs differ (CMSIS-NN's, or Winograd's from the direct kernel's)" >&2; exit 1; fi
