//! Whole 32-channel chunks of Winograd's filter and input transforms
//! ([`super::wino::filter4`], [`super::wino::input4`]) into the product loop's buffers, with
//! every bound checked once per chunk and the per-group code straight-line.

use super::wino::{POS, TILES, filter4, input4};

/// Pairs per position in the transform buffers of a whole chunk (32 channels).
pub const NP: usize = 16;

/// Writes `x[k]` to `dst.add(k * STRIDE)` for `k` in `0..16`, straight-line.
///
/// # Safety
/// Every `dst.add(k * STRIDE)`, `k < 16`, must be valid for a write.
#[inline(always)]
unsafe fn put16<const STRIDE: usize>(dst: *mut i32, x: &[i32; POS]) {
    macro_rules! put {
        ($($k:literal)*) => {
            // SAFETY: the caller's contract.
            $(unsafe { dst.add($k * STRIDE).write(x[$k]) };)*
        };
    }
    put!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// `U` ([`filter4`]) of the 8 groups of four input channels (a whole chunk) of one output
/// channel: tap `k`'s group `g` is `weights[base + k * stride + 4 g..][..4]`; group `g`'s even
/// and odd pairs of position `p` go to `u[p * NP + 2 g]` and `u[p * NP + 2 g + 1]`. `false`
/// (and nothing written) unless `u` holds `16 NP` words and `weights` every byte read.
/// On the device one assembly loop (121 instructions a group).
pub fn filter_groups(weights: &[u8], base: usize, stride: usize, u: &mut [i32]) -> bool {
    if !filter_fits(weights, base, stride, u) {
        return false;
    }
    filter_groups_impl(weights, base, stride, u);
    true
}

/// Whether [`filter_groups`]'s reads and writes stay inside `weights` and `u`.
fn filter_fits(weights: &[u8], base: usize, stride: usize, u: &[i32]) -> bool {
    let end = stride
        .checked_mul(8)
        .and_then(|v| v.checked_add(base))
        .and_then(|v| v.checked_add(4 * (NP / 2)));
    u.len() >= POS * NP && end.is_some_and(|e| e <= weights.len())
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn filter_groups_impl(weights: &[u8], base: usize, stride: usize, u: &mut [i32]) {
    filter_groups_portable(weights, base, stride, u);
}

/// Portable twin of [`filter_groups`] (straight-line Rust over [`filter4`]).
pub fn filter_groups_portable(weights: &[u8], base: usize, stride: usize, u: &mut [i32]) -> bool {
    const GROUPS: usize = NP / 2;
    if !filter_fits(weights, base, stride, u) {
        return false;
    }
    let w = weights.as_ptr().wrapping_add(base);
    let up = u.as_mut_ptr();
    for g in 0..GROUPS {
        let at = |k: usize| {
            // SAFETY: `base + k stride + 4 g + 4 <= base + 8 stride + 4 GROUPS <= weights.len()`
            // for `k <= 8`, `g < GROUPS` (checked above): inside `weights` (`read_unaligned`:
            // any alignment).
            unsafe { w.add(k * stride + 4 * g).cast::<i32>().read_unaligned() }
        };
        let taps = [
            at(0),
            at(1),
            at(2),
            at(3),
            at(4),
            at(5),
            at(6),
            at(7),
            at(8),
        ];
        let (mut even, mut odd) = ([0i32; POS], [0i32; POS]);
        filter4(&taps, &mut even, &mut odd);
        // SAFETY: `p NP + 2 g + 1 < 16 NP <= u.len()` for `p < 16`, `2 g + 1 < NP`.
        unsafe {
            put16::<NP>(up.add(2 * g), &even);
            put16::<NP>(up.add(2 * g + 1), &odd);
        }
    }
    true
}

/// `SXTB16` of a tap word in place (`$sx`: empty for the even pair, `", ror #8"` for the odd).
#[cfg(tinygenre_dsp)]
macro_rules! widen {
    ($r:literal, $sx:literal) => {
        concat!("sxtb16 ", $r, ", ", $r, $sx, "\n")
    };
}

/// One row of `G''` along frames into `u`: `(x0, x0 + x1 + x2, x0 - x1 + x2, x2)` stored at
/// `r2 + $base + 64 k + $off`, `k = 0..4` (r6, r7 scratch).
#[cfg(tinygenre_dsp)]
macro_rules! g3_row {
    ($x0:literal, $x1:literal, $x2:literal, $base:literal, $off:literal) => {
        concat!(
            "str ",
            $x0,
            ", [r2, #",
            $base,
            "+",
            $off,
            "]\n",
            "str ",
            $x2,
            ", [r2, #",
            $base,
            "+192+",
            $off,
            "]\n",
            "sadd16 r6, ",
            $x0,
            ", ",
            $x2,
            "\n",
            "sadd16 r7, r6, ",
            $x1,
            "\n",
            "str r7, [r2, #",
            $base,
            "+64+",
            $off,
            "]\n",
            "ssub16 r7, r6, ",
            $x1,
            "\n",
            "str r7, [r2, #",
            $base,
            "+128+",
            $off,
            "]\n",
        )
    };
}

/// One pair of a group in [`filter_groups_impl`]'s assembly: the nine taps' words (tap `k` at
/// `r0 + k r1`: rows through r7) widened by `$sx` (`SXTB16`, with `, ror #8` for the odd
/// pair), `G''` along mels then frames, the 16 values to `r2 + 64 p + $off`.
#[cfg(tinygenre_dsp)]
macro_rules! filter_pair_asm {
    ($sx:literal, $off:literal) => {
        concat!(
            "ldr r3, [r0]\n",
            "ldr r4, [r0, r1]\n",
            "ldr r5, [r0, r1, lsl #1]\n",
            "add r6, r1, r1, lsl #1\n",
            "add r7, r0, r6\n",
            "ldr r8, [r7]\n",
            "ldr r9, [r7, r1]\n",
            "ldr r10, [r7, r1, lsl #1]\n",
            "add r7, r7, r6\n",
            "ldr r11, [r7]\n",
            "ldr r12, [r7, r1]\n",
            "ldr lr, [r7, r1, lsl #1]\n",
            widen!("r3", $sx),
            widen!("r4", $sx),
            widen!("r5", $sx),
            widen!("r8", $sx),
            widen!("r9", $sx),
            widen!("r10", $sx),
            widen!("r11", $sx),
            widen!("r12", $sx),
            widen!("lr", $sx),
            // row 0 (a: r3-r5) -> positions 0-3, row 3 (c: r11, r12, lr) -> 12-15
            g3_row!("r3", "r4", "r5", "0", $off),
            g3_row!("r11", "r12", "lr", "768", $off),
            // s = a + c; row 1 = s + b -> 4-7, row 2 = s - b -> 8-11 (b: r8-r10)
            "sadd16 r3, r3, r11\n",
            "sadd16 r4, r4, r12\n",
            "sadd16 r5, r5, lr\n",
            "sadd16 r11, r3, r8\n",
            "sadd16 r12, r4, r9\n",
            "sadd16 lr, r5, r10\n",
            g3_row!("r11", "r12", "lr", "256", $off),
            "ssub16 r3, r3, r8\n",
            "ssub16 r4, r4, r9\n",
            "ssub16 r5, r5, r10\n",
            g3_row!("r3", "r4", "r5", "512", $off),
        )
    };
}

#[cfg(tinygenre_dsp)]
#[inline]
fn filter_groups_impl(weights: &[u8], base: usize, stride: usize, u: &mut [i32]) {
    const _: () = assert!(NP == 16, "the assembly's store offsets are 64 p bytes");
    let w = weights.as_ptr().wrapping_add(base);
    // SAFETY: `filter_groups` checked `base + 8 stride + 4 GROUPS <= weights.len()` and `u.len()
    // >= 16 NP`. Group `g` (r0 = `w + 4 g`, r2 = `u + 2 g` words, `g < 8`, stopping when r0
    // reaches `w + 32`, pushed) reads tap `k`'s word at `w + k stride + 4 g` (`k <= 8`: inside
    // `weights`; `LDR` takes any alignment) and writes `u[p NP + 2 g]` and `u[p NP + 2 g + 1]`
    // (`p < 16`: inside `u`, word-aligned). r6 and r7 (not nameable as operands) are pushed
    // first and popped last, after the pushed end is dropped; every other register written is
    // an operand or declared clobbered, the flags are clobbered, and the only memory written
    // is `u` and the stack below the entry `sp`, restored.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "push {{r3}}",
            "1:",
            filter_pair_asm!("", "0"),
            filter_pair_asm!(", ror #8", "4"),
            "adds r0, #4",
            "adds r2, #8",
            "ldr r6, [sp]",
            "cmp r0, r6",
            "bne 1b",
            "add sp, #4",
            "pop {{r6, r7}}",
            inout("r0") w => _,
            in("r1") stride,
            inout("r2") u.as_mut_ptr() => _,
            inout("r3") w.wrapping_add(4 * (NP / 2)) => _,
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

/// `V` ([`input4`]) of the 8 groups of four channels (a whole chunk) of tile `t`: position
/// `k`'s group `g` is `px[k][c0 + 4 g..][..4]` (`None`: the padding, the zero point `zpb` in
/// every byte); group `g`'s even and odd pairs of position `p` go to `v[(p NP + 2 g) TILES +
/// t]` and `v[(p NP + 2 g + 1) TILES + t]`. `false` (and nothing written) unless `t < TILES`,
/// `v` holds `16 NP TILES` words and every pixel the bytes read.
pub fn input_groups(
    px: &[Option<&[i8]>; POS],
    c0: usize,
    zpb: u8,
    zp4: i32,
    t: usize,
    v: &mut [i32],
) -> bool {
    const GROUPS: usize = NP / 2;
    let need = c0 + 4 * GROUPS;
    if t >= TILES || v.len() < POS * NP * TILES || px.iter().flatten().any(|x| x.len() < need) {
        return false;
    }
    let pad = [zpb; 4 * GROUPS];
    // where each position's group 0 is (the padding: `pad`, as long as the chunk)
    let src: [*const u8; POS] = core::array::from_fn(|k| match px.get(k) {
        Some(Some(x)) => x.as_ptr().cast::<u8>().wrapping_add(c0),
        _ => pad.as_ptr(),
    });
    let vp = v.as_mut_ptr().wrapping_add(t);
    for g in 0..GROUPS {
        let at = |s: *const u8| {
            // SAFETY: `s` is one of `src`: a pixel's read ends at `c0 + 4 g + 4 <= need <=
            // x.len()`, the padding's at `4 g + 4 <= pad.len()` (checked above;
            // `read_unaligned`: any alignment).
            unsafe { s.add(4 * g).cast::<i32>().read_unaligned() }
        };
        let [
            s0,
            s1,
            s2,
            s3,
            s4,
            s5,
            s6,
            s7,
            s8,
            s9,
            s10,
            s11,
            s12,
            s13,
            s14,
            s15,
        ] = src;
        let d = [
            at(s0),
            at(s1),
            at(s2),
            at(s3),
            at(s4),
            at(s5),
            at(s6),
            at(s7),
            at(s8),
            at(s9),
            at(s10),
            at(s11),
            at(s12),
            at(s13),
            at(s14),
            at(s15),
        ];
        let (mut even, mut odd) = ([0i32; POS], [0i32; POS]);
        input4(&d, zp4, &mut even, &mut odd);
        // SAFETY: `(p NP + 2 g + 1) TILES + t < 16 NP TILES <= v.len()` for `p < 16`,
        // `2 g + 1 < NP`, `t < TILES`.
        unsafe {
            put16::<{ NP * TILES }>(vp.add(2 * g * TILES), &even);
            put16::<{ NP * TILES }>(vp.add((2 * g + 1) * TILES), &odd);
        }
    }
    true
}
