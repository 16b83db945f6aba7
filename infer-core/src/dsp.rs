//! The int8 convolution's inner product, four output pixels at a time: the only module of
//! infer-core with `unsafe` code (one `asm!` block, on Cortex-M cores with the DSP extension).
//!
//! The column holds the four pixels' inputs with the input zero point already subtracted, as
//! int16 in `[-255, 255]`, in groups of four taps `x0..x3`. Each group is eight 32-bit words:
//! for each pixel `p`, word `2p` packs `(x0, x2)` and word `2p + 1` packs `(x1, x3)` (low half
//! first). That order matches what `SXTB16` makes of four int8 weights `w0..w3` loaded as one
//! word: `SXTB16 w` gives `(w0, w2)` and `SXTB16 w, ROR #8` gives `(w1, w3)`, so each `SMLAD`
//! does two multiply-accumulates with no shuffling, and the weights stay int8 in flash.
//!
//! Per group of four taps and four pixels (16 MACs): one `LDR` and two `SXTB16` for the
//! weights, two `LDM` of four words for the inputs, eight `SMLAD`; the loop is unrolled twice.
//!
//! [`dot4`] has a portable twin with the same arithmetic (wrapping 32-bit sums of exact
//! products); on other targets it is the only version. Both are tested against the scalar
//! reference kernel ([`crate::conv::pixel_i8`]), the portable one on the host and the assembly
//! one by the firmware's cross-check under QEMU.
//!
//! [`quad9x4_max`] does the same for a layer with one input channel (nine MACs per output): one
//! `LDM` of five words per pixel, four `SMLAD`-family instructions and one `SMLABB`, and the
//! max over each of four pooling windows' four pixels, against weights widened once per channel
//! ([`widen9`], two `SXTB16` per four weights).
#![allow(unsafe_code)]

/// One group of four taps for four pixels: `[pixel][2]` words, see the module docs.
pub type Group = [i32; 8];

/// `acc[p] += sum_g sum_j x[g][p][j] * w[4g + j]` (wrapping) over the groups that both `col`
/// and `w` (4 bytes per group, int8) cover.
#[inline]
pub fn dot4(col: &[Group], w: &[u8], acc: &mut [i32; 4]) {
    let n = col.len().min(w.len() / 4);
    let (Some(col), Some(w)) = (col.get(..n), w.get(..4 * n)) else {
        return;
    };
    dot4_impl(col, w, acc);
}

/// Portable form, also the reference for the assembly one.
#[cfg_attr(tinygenre_dsp, allow(dead_code))]
#[inline]
pub fn dot4_portable(col: &[Group], w: &[u8], acc: &mut [i32; 4]) {
    let (w4, _) = w.as_chunks::<4>();
    for (g, wb) in col.iter().zip(w4) {
        let [w0, w1, w2, w3] = wb.map(|b| i32::from(b as i8));
        for (a, px) in acc.iter_mut().zip(g.as_chunks::<2>().0) {
            let [x02, x13] = *px;
            let (x0, x2) = (i32::from(x02 as i16), x02 >> 16);
            let (x1, x3) = (i32::from(x13 as i16), x13 >> 16);
            // two SMLADs: each adds two exact 16x16 products to the accumulator, wrapping
            *a = a
                .wrapping_add(x0 * w0 + x2 * w2)
                .wrapping_add(x1 * w1 + x3 * w3);
        }
    }
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn dot4_impl(col: &[Group], w: &[u8], acc: &mut [i32; 4]) {
    dot4_portable(col, w, acc);
}

#[cfg(tinygenre_dsp)]
#[inline]
fn dot4_impl(col: &[Group], w: &[u8], acc: &mut [i32; 4]) {
    let n = col.len();
    if n == 0 || w.len() < 4 * n {
        return;
    }
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    // SAFETY: the loop reads exactly `n` groups: `n` words from `w` (4 bytes per group, the
    // caller's slice holds `4 * n`, checked above; `LDR` may be unaligned on ARMv7-M, which
    // cortex-m-rt leaves enabled) and `n * 32` bytes from `col` (`n` `Group`s of eight
    // word-aligned `i32`s, as `LDM` needs). `n >= 1`, so the loop, which tests its end after each
    // pair of groups and is entered at the second copy when `n` is odd, stops at `n` exactly.
    // r7 (Thumb frame pointer, which `asm!` may not name as an operand) is saved on the stack
    // and restored before the block ends; no other register outside the operand list is
    // written, and the flags are declared clobbered (no `preserves_flags`). It writes no memory
    // but the stack slot of r7, which it pops again.
    unsafe {
        core::arch::asm!(
            "push {{r7}}",
            "mov r7, r0",
            "tst r1, #1",
            "bne 3f",
            "2:",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "3:",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "cmp r12, r7",
            "bne 2b",
            "pop {{r7}}",
            inout("r0") w.as_ptr().wrapping_add(4 * n) => _,
            inout("r1") n => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            inout("r8") a0,
            inout("r9") a1,
            inout("r10") a2,
            inout("r11") a3,
            inout("r12") w.as_ptr() => _,
            inout("lr") col.as_ptr() => _,
        );
    }
    *acc = [a0, a1, a2, a3];
}

/// [`dot4`] for consecutive output channels: `acc[o] += col . w[o * stride..][..4 n]` for
/// every `o` in `0..acc.len()`, `n = col.len()` groups. Does nothing unless `n >= 1` and `w`
/// holds every channel's `4 n` bytes.
#[inline]
pub fn dot4_channels(col: &[Group], w: &[u8], stride: usize, acc: &mut [[i32; 4]]) {
    let n = col.len();
    let Some(last) = acc.len().checked_sub(1) else {
        return;
    };
    let need = last.checked_mul(stride).and_then(|v| v.checked_add(4 * n));
    if n == 0 || stride < 4 * n || need.is_none_or(|need| need > w.len()) {
        return;
    }
    dot4_channels_impl(col, w, stride, acc);
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn dot4_channels_impl(col: &[Group], w: &[u8], stride: usize, acc: &mut [[i32; 4]]) {
    for (o, a) in acc.iter_mut().enumerate() {
        dot4_portable(col, w.get(o * stride..).unwrap_or(&[]), a);
    }
}

#[cfg(tinygenre_dsp)]
#[inline]
fn dot4_channels_impl(col: &[Group], w: &[u8], stride: usize, acc: &mut [[i32; 4]]) {
    let n = col.len();
    // SAFETY: the caller checked `n >= 1`, `stride >= 4 n`, `acc` non-empty and that `w` holds
    // `(acc.len() - 1) * stride + 4 n` bytes. Per channel the inner loop reads exactly `n`
    // (one group if `n` is odd, two if `n & 2`, then four at a time: `LSLS #29` puts bit 2 of
    // `4 n` in N and bit 3 in C, which the loop bodies leave alone)
    // words of weights from r12 (`LDR` may be unaligned on ARMv7-M) and `n` groups of eight
    // word-aligned `i32` from `col` (r14, reset from the stack for each channel), as `dot4`;
    // then r12 skips `stride - 4 n` bytes to the next channel. The four accumulators of the
    // channel (`[i32; 4]`, word-aligned) are loaded from and stored back to `acc` through r6,
    // which stops at the end of `acc`. r6 and r7 (not nameable as operands; every operand has a
    // fixed register, so neither holds one) are pushed first and popped last; the four
    // parameters pushed after them are dropped by `add sp, #16` before that pop, so the stack is
    // balanced. Every other register written is an operand or declared clobbered, the flags are
    // clobbered, and the only memory written is `acc` and the stack below the entry `sp`.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "push {{r0, r1, r2, r3}}",
            "mov r6, r4",
            "1:",
            "ldm r6, {{r8, r9, r10, r11}}",
            "ldr lr, [sp]",
            "ldr r4, [sp, #4]",
            "add r7, r12, r4",
            "lsls r5, r4, #29",
            "bpl 4f",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "4:",
            "bcc 5f",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "5:",
            "cmp r12, r7",
            "beq 6f",
            "2:",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "ldr r4, [r12], #4",
            "sxtb16 r5, r4, ror #8",
            "sxtb16 r4, r4",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r8, r0, r4, r8",
            "smlad r8, r1, r5, r8",
            "smlad r9, r2, r4, r9",
            "smlad r9, r3, r5, r9",
            "ldm lr!, {{r0, r1, r2, r3}}",
            "smlad r10, r0, r4, r10",
            "smlad r10, r1, r5, r10",
            "smlad r11, r2, r4, r11",
            "smlad r11, r3, r5, r11",
            "cmp r12, r7",
            "bne 2b",
            "6:",
            "stm r6!, {{r8, r9, r10, r11}}",
            "ldr r4, [sp, #8]",
            "add r12, r4",
            "ldr r4, [sp, #12]",
            "cmp r6, r4",
            "bne 1b",
            "add sp, #16",
            "pop {{r6, r7}}",
            inout("r0") col.as_ptr() => _,
            inout("r1") 4 * n => _,
            inout("r2") stride - 4 * n => _,
            inout("r3") acc.as_mut_ptr_range().end => _,
            inout("r4") acc.as_mut_ptr() => _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            inout("r12") w.as_ptr() => _,
            out("lr") _,
        );
    }
}

/// One pooling window of a one-input-channel layer, `[pixel][word]`: a pixel's nine taps
/// `x0..x8` (input zero point subtracted, 0 in the padding) as `(x0, x2)`, `(x1, x3)`, `(x4, x6)`,
/// `(x5, x7)`, `(x8, _)` (low half first; only the low half of the last word is read).
pub type Quad9 = [[i32; 5]; 4];

/// One channel's nine int8 weights widened in the same order: `(w0, w2)`, `(w1, w3)`, `(w4, w6)`,
/// `(w5, w7)`, `(w8, _)` (see [`widen9`]).
pub type W9 = [i32; 5];

/// `SXTB16 x`: bytes 0 and 2 of `x`, sign-extended, as two int16 halves (low half first).
#[inline(always)]
pub fn sxtb16(x: i32) -> i32 {
    sxtb16_impl(x)
}

/// `SXTB16 x, ROR #8`: bytes 1 and 3 of `x`, sign-extended, as two int16 halves.
#[inline(always)]
pub fn sxtb16_ror8(x: i32) -> i32 {
    sxtab16_ror8(0, x)
}

#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn sxtb16_impl(x: i32) -> i32 {
    let lo = i32::from(x as i8) & 0xffff;
    let hi = i32::from((x >> 16) as i8);
    (hi << 16) | lo
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn sxtb16_impl(x: i32) -> i32 {
    let y: i32;
    // SAFETY: one register-to-register instruction: reads `x`, writes `y`, touches no memory,
    // no stack and no flags.
    unsafe {
        core::arch::asm!(
            "sxtb16 {y}, {x}",
            x = in(reg) x,
            y = lateout(reg) y,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    y
}

/// `SXTAB16 a, x`: `a`'s two int16 halves plus bytes 0 and 2 of `x`, sign-extended (each half
/// wrapping on its own).
#[inline(always)]
pub fn sxtab16(a: i32, x: i32) -> i32 {
    sxtab16_impl(a, x)
}

/// `SXTAB16 a, x, ROR #8`: `a`'s halves plus bytes 1 and 3 of `x`.
#[inline(always)]
pub fn sxtab16_ror8(a: i32, x: i32) -> i32 {
    sxtab16_ror8_impl(a, x)
}

#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn sxtab16_ror8_impl(a: i32, x: i32) -> i32 {
    sxtab16_impl(a, x.rotate_right(8))
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn sxtab16_ror8_impl(a: i32, x: i32) -> i32 {
    let y: i32;
    // SAFETY: one register-to-register instruction (the rotation is part of it): reads `a` and
    // `x`, writes `y`, touches no memory, no stack and no flags.
    unsafe {
        core::arch::asm!(
            "sxtab16 {y}, {a}, {x}, ror #8",
            a = in(reg) a,
            x = in(reg) x,
            y = lateout(reg) y,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    y
}

#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn sxtab16_impl(a: i32, x: i32) -> i32 {
    let lo = (a as i16).wrapping_add(i16::from(x as i8));
    let hi = ((a >> 16) as i16).wrapping_add(i16::from((x >> 16) as i8));
    (i32::from(hi) << 16) | i32::from(lo as u16)
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn sxtab16_impl(a: i32, x: i32) -> i32 {
    let y: i32;
    // SAFETY: one register-to-register instruction: reads `a` and `x`, writes `y`, touches no
    // memory, no stack and no flags.
    unsafe {
        core::arch::asm!(
            "sxtab16 {y}, {a}, {x}",
            a = in(reg) a,
            x = in(reg) x,
            y = lateout(reg) y,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    y
}

/// Column build: `dst[g][2P]`, `dst[g][2P + 1]` = [`sxtab16`], [`sxtab16_ror8`] of `zpn` and
/// the `g`-th four values of `src`, for every group both hold (`zpn` packs the negated input
/// zero point twice). Four groups per loop step with one `LDM` where `src` is word-aligned.
#[inline]
pub fn widen_into<const P: usize>(src: &[i8], zpn: i32, dst: &mut [Group]) {
    let n = (src.len() / 4).min(dst.len());
    let (Some(src), Some(dst)) = (src.get(..4 * n), dst.get_mut(..n)) else {
        return;
    };
    let done = widen4_impl::<P>(src, zpn, dst);
    let (quads, _) = src.as_chunks::<4>();
    for (q, d) in quads.iter().zip(dst.iter_mut()).skip(done) {
        let w = i32::from_le_bytes(q.map(|v| v as u8));
        if let Some(pair) = d.get_mut(2 * P..2 * P + 2) {
            pair.copy_from_slice(&[sxtab16(zpn, w), sxtab16_ror8(zpn, w)]);
        }
    }
}

/// The assembly part of [`widen_into`]: the groups it did (none off the DSP targets).
#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn widen4_impl<const P: usize>(_src: &[i8], _zpn: i32, _dst: &mut [Group]) -> usize {
    0
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn widen4_impl<const P: usize>(src: &[i8], zpn: i32, dst: &mut [Group]) -> usize {
    let n4 = src.len().min(4 * dst.len()) / 16 * 4;
    if n4 == 0 || !(src.as_ptr() as usize).is_multiple_of(4) || P >= 4 {
        return 0;
    }
    // SAFETY: reads `4 * n4` bytes of `src` (word-aligned, checked above, as `LDM` needs;
    // `n4 <= src.len() / 4`) and writes two words per group into `n4` groups of `dst` (`n4 <=
    // dst.len()`), at byte offset `8 P < 32` of each 32-byte `Group`, word-aligned for `STRD`.
    // `n4` is a positive multiple of four, so the loop, four groups a step, ends at zero.
    // Registers written: the operands and the declared clobbers; flags clobbered by `SUBS`.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldm {src}!, {{r4, r5, r8, r9}}",
            "sxtab16 r10, {zpn}, r4",
            "sxtab16 r11, {zpn}, r4, ror #8",
            "strd r10, r11, [{dst}], #32",
            "sxtab16 r10, {zpn}, r5",
            "sxtab16 r11, {zpn}, r5, ror #8",
            "strd r10, r11, [{dst}], #32",
            "sxtab16 r10, {zpn}, r8",
            "sxtab16 r11, {zpn}, r8, ror #8",
            "strd r10, r11, [{dst}], #32",
            "sxtab16 r10, {zpn}, r9",
            "sxtab16 r11, {zpn}, r9, ror #8",
            "strd r10, r11, [{dst}], #32",
            "subs {n}, #4",
            "bne 2b",
            src = inout(reg) src.as_ptr() => _,
            dst = inout(reg) dst.as_mut_ptr().cast::<i32>().wrapping_add(2 * P) => _,
            n = inout(reg) n4 => _,
            zpn = in(reg) zpn,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            options(nostack),
        );
    }
    n4
}

/// One window of [`quad9x4_max`]'s assembly: four pixels (`LDM` of five words each through
/// r12, four `SMUAD`/`SMLAD` and one `SMLABB` against the weights in r5, r8-r11), their max in
/// lr; r0-r4 and r7 are scratch.
#[cfg(tinygenre_dsp)]
macro_rules! quad9_window {
    () => {
        concat!(
            "ldm r12!, {{r0, r1, r2, r3, r4}}\n",
            "smuad lr, r0, r5\n",
            "smlad lr, r1, r8, lr\n",
            "smlad lr, r2, r9, lr\n",
            "smlad lr, r3, r10, lr\n",
            "smlabb lr, r4, r11, lr\n",
            "ldm r12!, {{r0, r1, r2, r3, r4}}\n",
            "smuad r7, r0, r5\n",
            "smlad r7, r1, r8, r7\n",
            "smlad r7, r2, r9, r7\n",
            "smlad r7, r3, r10, r7\n",
            "smlabb r7, r4, r11, r7\n",
            "cmp r7, lr\n",
            "it gt\n",
            "movgt lr, r7\n",
            "ldm r12!, {{r0, r1, r2, r3, r4}}\n",
            "smuad r7, r0, r5\n",
            "smlad r7, r1, r8, r7\n",
            "smlad r7, r2, r9, r7\n",
            "smlad r7, r3, r10, r7\n",
            "smlabb r7, r4, r11, r7\n",
            "cmp r7, lr\n",
            "it gt\n",
            "movgt lr, r7\n",
            "ldm r12!, {{r0, r1, r2, r3, r4}}\n",
            "smuad r7, r0, r5\n",
            "smlad r7, r1, r8, r7\n",
            "smlad r7, r2, r9, r7\n",
            "smlad r7, r3, r10, r7\n",
            "smlabb r7, r4, r11, r7\n",
            "cmp r7, lr\n",
            "it gt\n",
            "movgt lr, r7\n",
        )
    };
}

/// Requantises the max in lr with the constants at the address stored at `[sp]`
/// ([`Requant9`]) and stores the byte through r6, post-incremented by `{stride}`; r0-r4 and r7
/// are scratch.
#[cfg(tinygenre_dsp)]
macro_rules! requant9_store {
    () => {
        concat!(
            "ldr r0, [sp]\n",
            "ldm r0, {{r0, r1, r2, r3, r4, r7}}\n",
            "add lr, lr, r4\n",
            "bic lr, lr, lr, asr #31\n",
            "umlal r1, r2, lr, r0\n",
            "lsr r2, r2, r3\n",
            "qadd r2, r2, r7\n",
            "ssat r2, #8, r2\n",
            "strb r2, [r6], #{stride}\n",
        )
    };
}

/// A channel's nine int8 weights (`[3][3]`, as the model stores them) in [`W9`] order.
#[inline(always)]
pub fn widen9(w: &[u8; 9]) -> W9 {
    let [a0, a1, a2, a3, b0, b1, b2, b3, c] = *w;
    let a = i32::from_le_bytes([a0, a1, a2, a3]);
    let b = i32::from_le_bytes([b0, b1, b2, b3]);
    [
        sxtb16(a),
        sxtb16_ror8(a),
        sxtb16(b),
        sxtb16_ror8(b),
        i32::from(c as i8),
    ]
}

/// For each of four windows, the largest of its four pixel sums `sum_k x[p][k] * w[k]`
/// (exact: at most `9 * 255 * 128` in magnitude).
#[inline(always)]
pub fn quad9x4_max(w: &W9, x: &[Quad9; 4]) -> [i32; 4] {
    quad9x4_max_impl(w, x)
}

/// A channel's requantisation constants for [`quad9x4_requant`]: `[multiplier, nudge low
/// word, nudge high word, right shift of the high word, bias, output zero point]` (see
/// `conv_tile::FastRequant`).
pub type Requant9 = [i32; 6];

/// [`quad9x4_max`], then per window `clamp(((max(m + bias, 0) * mult + nudge) >> 32 >> shift)
/// + ozp, -128, 127)` (the ReLU'd requantisation of `conv_tile::FastRequant`, bit for bit),
/// stored to `out[w * STRIDE]` for the four windows `w`. Does nothing unless `out` reaches
/// `out[3 * STRIDE]`.
#[inline(always)]
pub fn quad9x4_requant<const STRIDE: usize>(w: &W9, x: &[Quad9; 4], k: &Requant9, out: &mut [i8]) {
    if out.len() <= 3 * STRIDE {
        return;
    }
    quad9x4_requant_impl::<STRIDE>(w, x, k, out);
}

/// The requantisation step of [`quad9x4_requant`], portable.
#[inline(always)]
pub fn requant9(m: i32, k: &Requant9) -> i8 {
    let [mult, lo, hi, sh, bias, ozp] = *k;
    let a = m.wrapping_add(bias).max(0).unsigned_abs();
    let nudge = (u64::from(hi as u32) << 32) | u64::from(lo as u32);
    let h = ((u64::from(a) * u64::from(mult as u32)).wrapping_add(nudge) >> 32) as u32;
    ((h >> (sh as u32 & 31)) as i32)
        .saturating_add(ozp)
        .clamp(-128, 127) as i8
}

#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn quad9x4_requant_impl<const STRIDE: usize>(w: &W9, x: &[Quad9; 4], k: &Requant9, out: &mut [i8]) {
    let m = quad9x4_max_impl(w, x);
    for (f, &m) in m.iter().enumerate() {
        if let Some(y) = out.get_mut(f * STRIDE) {
            *y = requant9(m, k);
        }
    }
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn quad9x4_requant_impl<const STRIDE: usize>(w: &W9, x: &[Quad9; 4], k: &Requant9, out: &mut [i8]) {
    // SAFETY: reads the 80 words of `x` (four `Quad9`s, word-aligned for `LDM`) through r12 and
    // the six words of `k` (word-aligned) through r0, reloaded from the stack slot pushed at
    // entry; writes four bytes, `out[0]`, `out[STRIDE]`, `out[2 * STRIDE]`, `out[3 * STRIDE]`,
    // through r6 (the caller checked `out.len() > 3 * STRIDE`). r6 and r7 (not nameable as
    // operands; every operand has a fixed register, so neither holds one) are pushed first and
    // popped last, after `add sp, #4` drops the pushed pointer to `k`, so the stack is
    // balanced. Every other register written is an operand or declared clobbered, the flags
    // are clobbered; memory written: `out`'s four bytes and the stack below the entry `sp`.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "mov r6, r0",
            "push {{r1}}",
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            "add sp, #4",
            "pop {{r6, r7}}",
            stride = const STRIDE,
            in("r5") w[0],
            in("r8") w[1],
            in("r9") w[2],
            in("r10") w[3],
            in("r11") w[4],
            inout("r12") x.as_ptr() => _,
            inout("r0") out.as_mut_ptr() => _,
            inout("r1") k.as_ptr() => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("lr") _,
        );
    }
}

/// A one-input-channel layer's parameters and outputs for [`conv9_channels`].
#[derive(Debug, Clone, Copy)]
pub struct Layer9<'a> {
    /// `[out][9]` int8 weights.
    pub weights: &'a [u8],
    /// `[out]` int32 biases (little-endian).
    pub bias: &'a [u8],
    /// `[out]` Q31 multipliers (little-endian), all `>= 0`.
    pub multipliers: &'a [u8],
    /// `[out]` shifts, all in `-31..=-1` (right shifts).
    pub shifts: &'a [u8],
    /// Output zero point (the ReLU clamp).
    pub ozp: i32,
}

/// Every output channel `o < n` of a one-input-channel layer over up to three groups of four
/// windows: `out[g][w][o]` = [`quad9x4_max`] of channel `o`'s widened weights on `wins[g]`,
/// requantised as [`requant9`] with [`Layer9`]'s constants. Returns `false` and does nothing
/// unless the layer holds `n` channels, every shift is a right shift and every multiplier
/// non-negative, `n <= STRIDE`, and `wins` and `out` hold the same number (1 to 3) of groups.
pub fn conv9_channels<const STRIDE: usize>(
    l: &Layer9<'_>,
    n: usize,
    wins: &[[Quad9; 4]],
    out: &mut [&mut [[i8; STRIDE]; 4]],
) -> bool {
    let groups = wins.len();
    let ok = n >= 1
        && n <= STRIDE
        && (1..=3).contains(&groups)
        && out.len() == groups
        && l.weights.len() >= 9 * n
        && l.bias.len() >= 4 * n
        && l.multipliers.len() >= 4 * n
        && l.shifts.len() >= n
        && (-128..=127).contains(&l.ozp)
        && l.shifts
            .iter()
            .take(n)
            .all(|&s| (-31..=-1).contains(&(s as i8)))
        && l.multipliers
            .as_chunks::<4>()
            .0
            .iter()
            .take(n)
            .all(|m| i32::from_le_bytes(*m) >= 0);
    if ok {
        conv9_channels_impl::<STRIDE>(l, n, wins, out);
    }
    ok
}

/// Channel `o`'s [`Requant9`] (its shift a right shift, its multiplier non-negative).
#[inline(always)]
pub fn requant9_consts(l: &Layer9<'_>, o: usize) -> Requant9 {
    let word = |b: &[u8]| {
        b.get(4 * o..4 * o + 4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, i32::from_le_bytes)
    };
    let shift = l.shifts.get(o).map_or(-1, |&s| s as i8);
    let right = u32::from(shift.unsigned_abs()).clamp(1, 31);
    [
        word(l.multipliers),
        ((1u32 << 30) | ((1u32 << right) << 30)) as i32,
        ((1u32 << right) >> 2) as i32,
        (right - 1) as i32,
        word(l.bias),
        l.ozp,
    ]
}

#[cfg(not(tinygenre_dsp))]
fn conv9_channels_impl<const STRIDE: usize>(
    l: &Layer9<'_>,
    n: usize,
    wins: &[[Quad9; 4]],
    out: &mut [&mut [[i8; STRIDE]; 4]],
) {
    let (w9, _) = l.weights.as_chunks::<9>();
    for (o, w) in w9.iter().enumerate().take(n) {
        let wide = widen9(w);
        let k = requant9_consts(l, o);
        for (group, dst) in wins.iter().zip(out.iter_mut()) {
            let dst = dst.as_flattened_mut().get_mut(o..).unwrap_or(&mut []);
            quad9x4_requant::<STRIDE>(&wide, group, &k, dst);
        }
    }
}

/// [`conv9_channels`]'s working state, read and written by its assembly at fixed offsets.
#[cfg(tinygenre_dsp)]
#[repr(C)]
struct Ctx9 {
    /// Offset 0: the current channel's [`Requant9`] (`ozp` preset).
    k: Requant9,
    /// 24: the first group; 28: one past the last.
    wins: *const i32,
    wins_end: *const i32,
    /// 32: each group's output (row 0, channel 0).
    outs: [*mut i8; 3],
    /// 44: the next entry of `outs`.
    outp: *const *mut i8,
    /// 48: the current channel; 52: the channel count.
    o: usize,
    n: usize,
    /// 56, 60, 64, 68: the current channel's weights, bias, multiplier, shift.
    w: *const u8,
    b: *const u8,
    m: *const u8,
    s: *const u8,
}

#[cfg(tinygenre_dsp)]
fn conv9_channels_impl<const STRIDE: usize>(
    l: &Layer9<'_>,
    n: usize,
    wins: &[[Quad9; 4]],
    out: &mut [&mut [[i8; STRIDE]; 4]],
) {
    let mut outs = [core::ptr::null_mut(); 3];
    for (p, o) in outs.iter_mut().zip(out.iter_mut()) {
        *p = o.as_flattened_mut().as_mut_ptr();
    }
    let mut ctx = Ctx9 {
        k: [0, 0, 0, 0, 0, l.ozp],
        wins: wins.as_ptr().cast(),
        wins_end: wins.as_ptr_range().end.cast(),
        outs,
        outp: core::ptr::null(),
        o: 0,
        n,
        w: l.weights.as_ptr(),
        b: l.bias.as_ptr(),
        m: l.multipliers.as_ptr(),
        s: l.shifts.as_ptr(),
    };
    // SAFETY: the caller checked `1 <= n <= STRIDE`, that the layer's slices hold `n` channels
    // (9, 4, 4 and 1 bytes each: the per-channel loads, `LDR` unaligned and `LDRSB`, stay
    // inside them), that every shift is in -31..=-1 (so the shift amounts are in range), and
    // that `wins` and `out` hold the same 1 to 3 groups. Per channel and group the window
    // blocks read the group's 80 words (word-aligned `Quad9`s, as `LDM` needs) through r12,
    // which runs from `wins` to `wins_end`, and write `out[g][w][o]` for the four windows `w`
    // through r6 (`outs[g] + o`, post-incremented by `STRIDE`: four rows of `STRIDE >= n`
    // bytes). The context `ctx` (a live, exclusively borrowed local, word-aligned) is read and
    // written through r0, reloaded from the stack slot pushed at entry. r6 and r7 (not
    // nameable as operands; every operand has a fixed register, so neither holds one) are
    // pushed first and popped last, after `add sp, #4` drops the pushed context pointer; every
    // other register written is an operand or declared clobbered; the flags are clobbered.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "push {{r0}}",
            "3:",
            "ldr r0, [sp]",
            "ldr r1, [r0, #56]",
            "ldr r2, [r1]",
            "ldr r3, [r1, #4]",
            "ldrsb r11, [r1, #8]",
            "adds r1, #9",
            "str r1, [r0, #56]",
            "sxtb16 r5, r2",
            "sxtb16 r8, r2, ror #8",
            "sxtb16 r9, r3",
            "sxtb16 r10, r3, ror #8",
            "ldr r1, [r0, #64]",
            "ldr r2, [r1], #4",
            "str r1, [r0, #64]",
            "str r2, [r0]",
            "ldr r1, [r0, #60]",
            "ldr r2, [r1], #4",
            "str r1, [r0, #60]",
            "str r2, [r0, #16]",
            "ldr r1, [r0, #68]",
            "ldrsb r2, [r1], #1",
            "str r1, [r0, #68]",
            "rsbs r2, r2, #0",
            "movs r3, #1",
            "lsls r3, r3, r2",
            "lsls r4, r3, #30",
            "orr r4, r4, #0x40000000",
            "str r4, [r0, #4]",
            "lsrs r4, r3, #2",
            "str r4, [r0, #8]",
            "subs r4, r2, #1",
            "str r4, [r0, #12]",
            "ldr r12, [r0, #24]",
            "add r1, r0, #32",
            "str r1, [r0, #44]",
            "4:",
            "ldr r0, [sp]",
            "ldr r1, [r0, #44]",
            "ldr r6, [r1], #4",
            "str r1, [r0, #44]",
            "ldr r1, [r0, #48]",
            "add r6, r1",
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            quad9_window!(),
            requant9_store!(),
            "ldr r0, [sp]",
            "ldr r1, [r0, #28]",
            "cmp r12, r1",
            "bne 4b",
            "ldr r1, [r0, #48]",
            "adds r1, #1",
            "str r1, [r0, #48]",
            "ldr r2, [r0, #52]",
            "cmp r1, r2",
            "bne 3b",
            "add sp, #4",
            "pop {{r6, r7}}",
            stride = const STRIDE,
            inout("r0") &raw mut ctx => _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
        );
    }
}

/// One pixel's sum, portable (also the reference for the assembly).
#[inline(always)]
pub fn dot9_portable(w: &W9, x: &[i32; 5]) -> i32 {
    let lo = |v: i32| i32::from(v as i16);
    let hi = |v: i32| v >> 16;
    let mut s = lo(x[4]) * lo(w[4]);
    for (&a, &b) in x.iter().zip(w).take(4) {
        s += lo(a) * lo(b) + hi(a) * hi(b);
    }
    s
}

#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn quad9x4_max_impl(w: &W9, x: &[Quad9; 4]) -> [i32; 4] {
    x.map(|q| {
        q.iter()
            .map(|px| dot9_portable(w, px))
            .fold(i32::MIN, i32::max)
    })
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn quad9x4_max_impl(w: &W9, x: &[Quad9; 4]) -> [i32; 4] {
    let (m0, m1, m2, m3): (i32, i32, i32, i32);
    // SAFETY: reads exactly the 80 words of `x` (four `Quad9`s: sixteen pixels of five
    // word-aligned `i32`s, as `LDM` needs) through r12, which is declared clobbered. r6 and r7
    // (not nameable as operands; every operand has a fixed register, so neither holds one)
    // are pushed first and popped last; in between r7 is a scratch
    // register, r6 holds window 0's max, and windows 1 and 2's maxes are pushed and popped
    // into r2 and r1, so the stack is balanced at the end. Every other register written is an
    // operand or declared clobbered, the flags are clobbered (no `preserves_flags`), and the
    // only memory written is the stack below the entry `sp`, all of it popped again.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            quad9_window!(),
            "mov r6, lr",
            quad9_window!(),
            "push {{lr}}",
            quad9_window!(),
            "push {{lr}}",
            quad9_window!(),
            "pop {{r1, r2}}",
            "mov r0, r6",
            "pop {{r6, r7}}",
            in("r5") w[0],
            in("r8") w[1],
            in("r9") w[2],
            in("r10") w[3],
            in("r11") w[4],
            inout("r12") x.as_ptr() => _,
            out("r0") m0,
            out("r1") m2,
            out("r2") m1,
            out("r3") _,
            out("r4") _,
            out("lr") m3,
        );
    }
    [m0, m1, m2, m3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The definition, from unpacked values: `acc[p] += sum_k x_p[k] * w[k]`.
    #[test]
    fn dot4_matches_the_definition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for n in [0usize, 1, 2, 3, 7, 96] {
            let x: Vec<[i16; 4]> = (0..4 * n)
                .map(|_| core::array::from_fn(|_| rng.random_range(-255..=255)))
                .collect();
            let w: Vec<u8> = (0..4 * n).map(|_| rng.random::<u8>()).collect();
            let col: Vec<Group> = (0..n)
                .map(|g| {
                    let mut out = [0i32; 8];
                    for p in 0..4 {
                        let v = x[4 * g + p];
                        let pack = |lo: i16, hi: i16| (i32::from(hi) << 16) | i32::from(lo as u16);
                        out[2 * p] = pack(v[0], v[2]);
                        out[2 * p + 1] = pack(v[1], v[3]);
                    }
                    out
                })
                .collect();
            let start = [5, -7, 1 << 20, i32::MAX - 10];
            let mut want = start;
            for (p, a) in want.iter_mut().enumerate() {
                for g in 0..n {
                    for j in 0..4 {
                        let prod = i32::from(x[4 * g + p][j]) * i32::from(w[4 * g + j] as i8);
                        *a = a.wrapping_add(prod);
                    }
                }
            }
            let mut got = start;
            dot4(&col, &w, &mut got);
            assert_eq!(got, want, "n={n}");
            // a short weight slice limits the groups
            let mut short = start;
            dot4(&col, &w[..w.len() / 8 * 4], &mut short);
            let mut half = start;
            dot4(&col[..n / 2], &w, &mut half);
            assert_eq!(short, half);
        }
    }

    /// Four windows of four pixels against the definition, from unpacked taps and weights.
    #[test]
    fn quad9x4_matches_the_definition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for _ in 0..200 {
            let w9: [u8; 9] = core::array::from_fn(|_| rng.random::<u8>());
            let x: [[[i32; 9]; 4]; 4] = core::array::from_fn(|_| {
                core::array::from_fn(|_| core::array::from_fn(|_| rng.random_range(-255..=255)))
            });
            let pack = |lo: i32, hi: i32| (hi << 16) | (lo & 0xffff);
            let q: [Quad9; 4] = x.map(|win| {
                win.map(|v| {
                    [
                        pack(v[0], v[2]),
                        pack(v[1], v[3]),
                        pack(v[4], v[6]),
                        pack(v[5], v[7]),
                        v[8] | (rng.random::<i32>() << 16),
                    ]
                })
            });
            let want = x.map(|win| {
                win.iter()
                    .map(|v| (0..9).map(|k| v[k] * i32::from(w9[k] as i8)).sum::<i32>())
                    .max()
                    .unwrap()
            });
            assert_eq!(quad9x4_max(&widen9(&w9), &q), want);
        }
    }

    /// The multi-channel pass equals one `dot4` per channel; bad lengths do nothing.
    #[test]
    fn dot4_channels_matches_dot4() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        for (n, ch, stride) in [(1, 1, 4), (3, 5, 13), (96, 64, 1152), (7, 2, 28)] {
            let col: Vec<Group> = (0..n)
                .map(|_| core::array::from_fn(|_| rng.random()))
                .collect();
            let w: Vec<u8> = (0..(ch - 1) * stride + 4 * n)
                .map(|_| rng.random())
                .collect();
            let start: Vec<[i32; 4]> = (0..ch)
                .map(|_| core::array::from_fn(|_| rng.random()))
                .collect();
            let mut want = start.clone();
            for (o, a) in want.iter_mut().enumerate() {
                dot4(&col, &w[o * stride..o * stride + 4 * n], a);
            }
            let mut got = start.clone();
            dot4_channels(&col, &w, stride, &mut got);
            assert_eq!(got, want, "{n} {ch} {stride}");
            let mut short = start.clone();
            dot4_channels(&col, &w[1..], stride, &mut short);
            assert_eq!(short, start);
        }
    }

    /// `SXTAB16` against its definition, lane by lane.
    #[test]
    fn sxtab16_matches_the_definition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        for _ in 0..10_000 {
            let (a, x): (i32, i32) = (rng.random(), rng.random());
            let b = x.to_le_bytes().map(|v| i16::from(v as i8));
            let lanes = |v: i32| [v as i16, (v >> 16) as i16];
            let [a0, a1] = lanes(a);
            assert_eq!(
                lanes(sxtab16(a, x)),
                [a0.wrapping_add(b[0]), a1.wrapping_add(b[2])]
            );
            assert_eq!(
                lanes(sxtab16_ror8(a, x)),
                [a0.wrapping_add(b[1]), a1.wrapping_add(b[3])]
            );
            assert_eq!(lanes(sxtb16(x)), [b[0], b[2]]);
            assert_eq!(lanes(sxtb16_ror8(x)), [b[1], b[3]]);
        }
    }
}
