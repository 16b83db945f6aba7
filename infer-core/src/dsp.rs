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
}
