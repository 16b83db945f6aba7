//! The one-input-channel kernels (block 1: nine MACs per output): [`quad9x4_max`] and the
//! all-channels pass [`conv9_channels`], with their portable twins.
#![allow(unsafe_code)]

use super::{sxtb16, sxtb16_ror8};

/// One pooling window of a one-input-channel layer, `[pixel][word]`: a pixel's nine taps
/// `x0..x8` (input zero point subtracted, 0 in the padding) as `(x0, x2)`, `(x1, x3)`, `(x4, x6)`,
/// `(x5, x7)`, `(x8, _)` (low half first; only the low half of the last word is read).
pub type Quad9 = [[i32; 5]; 4];

/// One channel's nine int8 weights widened in the same order: `(w0, w2)`, `(w1, w3)`, `(w4, w6)`,
/// `(w5, w7)`, `(w8, _)` (see [`widen9`]).
pub type W9 = [i32; 5];

/// One more pixel of a [`quad9_window!`]: its nine taps through r12 into r7, and lr = max(lr, r7).
#[cfg(tinygenre_dsp)]
macro_rules! quad9_pixel_max {
    () => {
        concat!(
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
            quad9_pixel_max!(),
            quad9_pixel_max!(),
            quad9_pixel_max!(),
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

#[inline(always)]
fn quad9x4_requant_impl<const STRIDE: usize>(w: &W9, x: &[Quad9; 4], k: &Requant9, out: &mut [i8]) {
    let m = quad9x4_max_impl(w, x);
    for (f, &m) in m.iter().enumerate() {
        if let Some(y) = out.get_mut(f * STRIDE) {
            *y = requant9(m, k);
        }
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
    l.values_ok(n) && conv9_channels_checked(l, n, wins, out)
}

/// [`conv9_channels`] for a layer whose [`Layer9::values_ok`] the caller has checked (once per
/// layer rather than per call): checks only the lengths. Were the values not checked, the
/// outputs would be wrong, never memory unsafe.
pub fn conv9_channels_checked<const STRIDE: usize>(
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
        && l.shifts.len() >= n;
    if ok {
        conv9_channels_impl::<STRIDE>(l, n, wins, out);
    }
    ok
}

impl Layer9<'_> {
    /// Whether the first `n` channels suit [`conv9_channels`]: every shift a right shift
    /// (`-31..=-1`), every multiplier non-negative, the zero point an int8.
    pub fn values_ok(&self, n: usize) -> bool {
        (-128..=127).contains(&self.ozp)
            && self.shifts.len() >= n
            && self.multipliers.len() >= 4 * n
            && self
                .shifts
                .iter()
                .take(n)
                .all(|&s| (-31..=-1).contains(&(s as i8)))
            && self
                .multipliers
                .as_chunks::<4>()
                .0
                .iter()
                .take(n)
                .all(|m| i32::from_le_bytes(*m) >= 0)
    }
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
