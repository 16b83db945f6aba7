//! The int8 convolution's inner products: the only module of infer-core with `unsafe` code
//! (`asm!` blocks, each with its safety comment, on Cortex-M cores with the DSP extension:
//! `SMLAD`, `SXTB16`, `SXTAB16`; every one has a portable twin, the only version elsewhere).
//! `fft4` (M4F only) holds the front end's FFT and filterbank loops (paired f32 loads and
//! stores), whose twins are the portable code in `rfft.rs` and `filterbank/folded.rs`.
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
//! [`dot4_channels`] runs every output channel of a chunk in one pass (the accumulators loaded
//! and stored in the loop, four groups per step); [`widen_into`] builds the column (one `LDM`
//! and eight `SXTAB16` per sixteen values).
//!
//! [`dot4`] has a portable twin with the same arithmetic (wrapping 32-bit sums of exact
//! products); on other targets it is the only version. The portable twins are tested here and
//! against the scalar reference kernel ([`crate::conv::pixel_i8`]) on the host; the assembly
//! by the firmware's `kernels` binary under QEMU (against the twins and the scalar kernel) and
//! by its bit-identical cross-check.
//!
//! [`quad9x4_max`] does the same for a layer with one input channel (nine MACs per output): one
//! `LDM` of five words per pixel, four `SMLAD`-family instructions and one `SMLABB`, and the
//! max over each of four pooling windows' four pixels, against weights widened once per channel
//! ([`widen9`], two `SXTB16` per four weights).
//!
//! [`sqrt_f32`] is the square root of the front end's magnitude spectrum (`power = 1`): the
//! FPU's `VSQRT.F32` on a hard-float Cortex-M, `libm::sqrtf` elsewhere. Both are IEEE 754's
//! correctly rounded square root, so the bits are the same; the instruction keeps libm's
//! software routine and its table (about 0.5 KiB) out of the firmware.
#![allow(unsafe_code)]

/// `sqrt(x)`, correctly rounded (IEEE 754), as [`libm::sqrtf`] gives it.
#[cfg(not(all(tinygenre_dsp, target_abi = "eabihf")))]
#[inline]
pub fn sqrt_f32(x: f32) -> f32 {
    sqrt_f32_portable(x)
}

/// The portable twin of [`sqrt_f32`]: `libm::sqrtf` (the firmware's `kernels` binary checks the
/// instruction against it, bit for bit).
#[inline]
pub fn sqrt_f32_portable(x: f32) -> f32 {
    libm::sqrtf(x)
}

/// `sqrt(x)`, correctly rounded (IEEE 754): the FPU's `VSQRT.F32`.
#[cfg(all(tinygenre_dsp, target_abi = "eabihf"))]
#[inline]
pub fn sqrt_f32(x: f32) -> f32 {
    let r: u32;
    // SAFETY: `VSQRT.F32` through s0, which is saved on the stack and restored (FPU register
    // classes need the `vfp2` target feature, which stable Rust cannot enable for ARM, so the
    // value moves through core registers); the hard-float ABI (`eabihf`) guarantees the FPU is
    // present and enabled before Rust code runs.
    unsafe {
        core::arch::asm!(
            "vpush {{s0}}",
            "vmov s0, {x}",
            "vsqrt.f32 s0, s0",
            "vmov {r}, s0",
            "vpop {{s0}}",
            x = in(reg) x.to_bits(),
            r = lateout(reg) r,
            options(pure, nomem, preserves_flags)
        );
    }
    f32::from_bits(r)
}

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

/// One group of [`dot4_channels`]' loop: four int8 weights through r12 widened by `SXTB16`
/// into r4, r5, the four pixels' eight column words through lr (two `LDM`), eight `SMLAD`
/// into the accumulators r8-r11.
#[cfg(tinygenre_dsp)]
macro_rules! dot4_group {
    () => {
        concat!(
            "ldr r4, [r12], #4\n",
            "sxtb16 r5, r4, ror #8\n",
            "sxtb16 r4, r4\n",
            "ldm lr!, {{r0, r1, r2, r3}}\n",
            "smlad r8, r0, r4, r8\n",
            "smlad r8, r1, r5, r8\n",
            "smlad r9, r2, r4, r9\n",
            "smlad r9, r3, r5, r9\n",
            "ldm lr!, {{r0, r1, r2, r3}}\n",
            "smlad r10, r0, r4, r10\n",
            "smlad r10, r1, r5, r10\n",
            "smlad r11, r2, r4, r11\n",
            "smlad r11, r3, r5, r11\n",
        )
    };
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
            dot4_group!(),
            "3:",
            dot4_group!(),
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
    // (one group if `n` is odd, two if `n & 2`, four if `n & 4`, then eight at a time: `LSLS
    // #29` puts bit 2 of `4 n` in N and bit 3 in C, which the loop bodies leave alone; bit 2 of
    // the groups left is read from r7 - r12)
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
            dot4_group!(),
            "4:",
            "bcc 5f",
            dot4_group!(),
            dot4_group!(),
            "5:",
            "sub r5, r7, r12",
            "tst r5, #16",
            "beq 7f",
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            "7:",
            "cmp r12, r7",
            "beq 6f",
            "2:",
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
            dot4_group!(),
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

/// Column build: `dst[g][2p]`, `dst[g][2p + 1]` = [`sxtab16`], [`sxtab16_ror8`] of `zpn` and
/// the `g`-th four values of `src`, for every group both hold (`zpn` packs the negated input
/// zero point twice). Four groups per loop step with one `LDM` where `src` is word-aligned.
#[inline]
pub fn widen_into(src: &[i8], zpn: i32, dst: &mut [Group], p: usize) {
    let n = (src.len() / 4).min(dst.len());
    let (Some(src), Some(dst)) = (src.get(..4 * n), dst.get_mut(..n)) else {
        return;
    };
    if p >= 4 {
        return;
    }
    let done = widen4_impl(src, zpn, dst, p);
    let (quads, _) = src.as_chunks::<4>();
    for (q, d) in quads.iter().zip(dst.iter_mut()).skip(done) {
        let w = i32::from_le_bytes(q.map(|v| v as u8));
        if let Some(pair) = d.get_mut(2 * p..2 * p + 2) {
            pair.copy_from_slice(&[sxtab16(zpn, w), sxtab16_ror8(zpn, w)]);
        }
    }
}

/// The assembly part of [`widen_into`]: the groups it did (none off the DSP targets).
#[cfg(not(tinygenre_dsp))]
#[inline(always)]
fn widen4_impl(_src: &[i8], _zpn: i32, _dst: &mut [Group], _p: usize) -> usize {
    0
}

#[cfg(tinygenre_dsp)]
#[inline(always)]
fn widen4_impl(src: &[i8], zpn: i32, dst: &mut [Group], p: usize) -> usize {
    let n4 = src.len().min(4 * dst.len()) / 16 * 4;
    if n4 == 0 || !(src.as_ptr() as usize).is_multiple_of(4) || p >= 4 {
        return 0;
    }
    // SAFETY: reads `4 * n4` bytes of `src` (word-aligned, checked above, as `LDM` needs;
    // `n4 <= src.len() / 4`) and writes two words per group into `n4` groups of `dst` (`n4 <=
    // dst.len()`), at byte offset `8 p < 32` of each 32-byte `Group`, word-aligned for `STRD`.
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
            dst = inout(reg) dst.as_mut_ptr().cast::<i32>().wrapping_add(2 * p) => _,
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

#[cfg(tinygenre_dsp)]
pub mod fft4;
mod k9;
pub mod wino;
pub mod wino_chunk;
pub mod wino_gemm;
pub use k9::{
    Layer9, Quad9, Requant9, W9, conv9_channels, conv9_channels_checked, dot9_portable,
    quad9x4_max, quad9x4_requant, requant9, requant9_consts, widen9,
};

#[cfg(test)]
mod tests;
