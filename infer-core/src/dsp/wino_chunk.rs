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
pub fn filter_groups(weights: &[u8], base: usize, stride: usize, u: &mut [i32]) -> bool {
    const GROUPS: usize = NP / 2;
    let end = stride
        .checked_mul(8)
        .and_then(|v| v.checked_add(base))
        .and_then(|v| v.checked_add(4 * GROUPS));
    if u.len() < POS * NP || end.is_none_or(|e| e > weights.len()) {
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
