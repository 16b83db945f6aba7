//! The default front end's 2048-point real FFT, written for the Cortex-M4F: the Hann window
//! and the digit-reversal permutation in one pass, a radix-4 decimation-in-time complex FFT of
//! 1024 points (five stages), and the real-input split fused with the power spectrum.
//!
//! ```text
//! x[0..2048] (real) -> z[rev4(i)] = (x[2i] w[2i], x[2i+1] w[2i+1])   (window + permutation,
//!                                                                       fused with stage 1)
//!   -> Z = FFT_1024(z)                                                 (radix 4, in place)
//!   -> X[k], X[1024-k] from Z[k], Z[1024-k] -> 4 |X|^2 ("folded")      (real split + power)
//! ```
//!
//! The folded layout keeps the power in the FFT's buffer: `buf[2k] = 4 |X[k]|^2` and
//! `buf[2k + 1] = 4 |X[1024 - k]|^2` for `k` in `0..=512` (so bin `b <= 512` is at `2b`, bin
//! `b > 512` at `2049 - 2b`). The factor 4 (the split's two halves) is a power of two, so it
//! is folded exactly into the filterbank's normalisation
//! ([`crate::filterbank::MelFilterbank::apply_folded`]).
//!
//! Only plain f32 additions and multiplications in a fixed order: the host and the device
//! compute the same bits. Twiddles come from one quarter-wave table of 513 `f32` (2 KiB of
//! flash), shared with the real split. Tested against the f64 DFT and microfft.

use crate::window::{HANN_HALF, cos_turn};

/// Real points.
pub const N: usize = 2048;
/// Complex points of the inner FFT.
const NC: usize = N / 2;
/// A complex value, `[re, im]`.
type C = [f32; 2];

/// `cos(2 pi m / 2048)` for `m` in `0..=512`.
static COS_Q: [f32; N / 4 + 1] = cos_table();

// Const evaluation: an index out of bounds here fails the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const fn cos_table() -> [f32; N / 4 + 1] {
    let mut t = [0.0f32; N / 4 + 1];
    let mut m = 0;
    while m <= N / 4 {
        t[m] = cos_turn(m) as f32;
        m += 1;
    }
    t
}

#[inline(always)]
fn cq(m: usize) -> f32 {
    COS_Q.get(m).copied().unwrap_or(0.0)
}

/// `(cos, sin)` of `2 pi m / 2048` for `m` in `0..1536`, from the quarter-wave table.
#[cfg(test)]
fn cos_sin(m: usize) -> (f32, f32) {
    const Q: usize = N / 4;
    if m <= Q {
        (cq(m), cq(Q - m))
    } else if m <= 2 * Q {
        (-cq(2 * Q - m), cq(m - Q))
    } else {
        (-cq(m - 2 * Q), -cq(3 * Q - m))
    }
}

/// Base-4 digit reversal of a 10-bit index (the radix-4 permutation of 1024 points).
#[inline(always)]
pub fn rev4(i: usize) -> usize {
    let r = (i as u32).reverse_bits() >> 22;
    (((r << 1) & 0x2AA) | ((r >> 1) & 0x155)) as usize
}

/// Hann window value `n` (`0..2048`) of the largest window.
#[cfg(test)]
fn hann(n: usize) -> f32 {
    let m = if n <= N / 2 { n } else { N - n };
    HANN_HALF.get(m).copied().unwrap_or(0.0)
}

/// The Hann window's pair `(w[2i], w[2i+1])` for a complex index `i` in `0..512` (`LOW`) or
/// `512..1024` (mirrored: `w[n] = w[2048 - n]`).
#[inline(always)]
fn hann_pair<const LOW: bool>(i: usize) -> (f32, f32) {
    let h = |m: usize| HANN_HALF.get(m).copied().unwrap_or(0.0);
    if LOW {
        (h(2 * i), h(2 * i + 1))
    } else {
        (h(N - 2 * i), h(N - 1 - 2 * i))
    }
}

/// Gathers a frame from a ring of `N` samples whose oldest sample is at the even position
/// `pos`, windows it and runs the FFT's first stage on it: the same values as the frame in
/// natural order, windowed, [`permute_in_place`] and the first stage of [`cfft1024_dit`]
/// (`x[n] = ring[(pos + n) % N]`), without the passes over memory in between. Group `g` of the
/// first stage takes the points `i = r + 256 t` (`t` in `0..4`, `r = rev4(4g)`).
///
/// Returns `false` (and leaves `buf` as it was) for an odd `pos`, which the default front end
/// never has (its hop is even); the caller then takes the in-place path.
pub fn load_ring_windowed_first_stage(ring: &[f32; N], pos: usize, buf: &mut [f32; N]) -> bool {
    first_stage::<true>(ring, pos, buf)
}

/// [`load_ring_windowed_first_stage`], with the M4F's loop when `ASM` (and the target has it).
#[inline(always)]
fn first_stage<const ASM: bool>(ring: &[f32; N], pos: usize, buf: &mut [f32; N]) -> bool {
    // the M4F's block streams (`dsp::fft4`, the same arithmetic) for the default hop
    #[cfg(tinygenre_dsp)]
    if ASM && crate::dsp::fft4::first_stage_blocks(ring, pos, &HANN_HALF, buf) {
        return true;
    }
    if !pos.is_multiple_of(2) {
        return false;
    }
    let (z, _) = buf.as_chunks_mut::<2>();
    let (ring, _) = ring.as_chunks::<2>();
    let (Ok(z), Ok(ring)) = (<&mut [C; NC]>::try_from(z), <&[C; NC]>::try_from(ring)) else {
        return false;
    };
    let p0 = pos / 2;
    let x = |i: usize, (w0, w1): (f32, f32)| {
        let [x0, x1] = ring.get((p0 + i) % NC).copied().unwrap_or([0.0; 2]);
        [x0 * w0, x1 * w1]
    };
    let (groups, _) = z.as_chunks_mut::<4>();
    for (g, [a, b, c, d]) in groups.iter_mut().enumerate() {
        let r = rev4(4 * g);
        *a = x(r, hann_pair::<true>(r));
        let bw = x(r + NC / 4, hann_pair::<true>(r + NC / 4));
        let cw = x(r + NC / 2, hann_pair::<false>(r + NC / 2));
        let dw = x(r + 3 * NC / 4, hann_pair::<false>(r + 3 * NC / 4));
        butterfly(a, b, c, d, bw, cw, dw);
    }
    true
}

/// The digit-reversal permutation in place (`buf` holds the windowed frame in natural order):
/// the same values [`load_ring_windowed_first_stage`] starts from.
pub fn permute_in_place(buf: &mut [f32; N]) {
    let (z, _) = buf.as_chunks_mut::<2>();
    let Ok(z) = <&mut [C; NC]>::try_from(z) else {
        return;
    };
    for i in 0..NC {
        let j = rev4(i);
        if i < j && j < NC {
            z.swap(i, j);
        }
    }
}

/// One radix-4 decimation-in-time stage on groups of `L` points (`Q = L / 4`), twiddles
/// `W_L^{j}, W_L^{2j}, W_L^{3j}` (`W_L = e^{-2 pi i / L}`) for the `j`-th butterfly of a group.
#[inline(always)]
fn stage<const L: usize, const Q: usize, const ASM: bool>(z: &mut [C; NC]) {
    let step = N / L; // W_L^j = W_2048^{j * step}
    for j in 0..Q {
        let (w1, w2, w3) = twiddles(j * step);
        // the M4F's paired loads and stores (`dsp::fft4`, the same arithmetic)
        #[cfg(tinygenre_dsp)]
        match if ASM { L } else { 0 } {
            16 => {
                crate::dsp::fft4::groups16(z, j, [w1, w2, w3]);
                continue;
            }
            64 => {
                crate::dsp::fft4::groups64(z, j, [w1, w2, w3]);
                continue;
            }
            256 => {
                crate::dsp::fft4::groups256(z, j, [w1, w2, w3]);
                continue;
            }
            _ => {}
        }
        let (groups, _) = z.as_chunks_mut::<L>();
        for g in groups {
            let (a, rest) = g.split_at_mut(Q);
            let (b, rest) = rest.split_at_mut(Q);
            let (c, d) = rest.split_at_mut(Q);
            let (Some(a), Some(b), Some(c), Some(d)) =
                (a.get_mut(j), b.get_mut(j), c.get_mut(j), d.get_mut(j))
            else {
                continue;
            };
            let (bw, cw, dw) = (mul_conj(*b, w1), mul_conj(*c, w2), mul_conj(*d, w3));
            butterfly(a, b, c, d, bw, cw, dw);
        }
    }
}

/// The last stage (`L = 1024`, one group) as [`stage`] computes it, as one loop over the four
/// quarters.
#[inline(always)]
fn last_stage<const ASM: bool>(z: &mut [C; NC]) {
    // the M4F's paired loads and stores (`dsp::fft4`, the same arithmetic)
    #[cfg(tinygenre_dsp)]
    if ASM {
        crate::dsp::fft4::last_stage(z, &COS_Q);
        return;
    }
    last_stage_portable(z);
}

/// [`last_stage`]'s portable form (the only one off the M4F).
#[inline(always)]
fn last_stage_portable(z: &mut [C; NC]) {
    let (a, rest) = z.split_at_mut(NC / 4);
    let (b, rest) = rest.split_at_mut(NC / 4);
    let (c, d) = rest.split_at_mut(NC / 4);
    let quarters = a
        .iter_mut()
        .zip(b.iter_mut())
        .zip(c.iter_mut())
        .zip(d.iter_mut());
    for (j, (((a, b), c), d)) in quarters.enumerate() {
        let (w1, w2, w3) = twiddles(2 * j);
        let (bw, cw, dw) = (mul_conj(*b, w1), mul_conj(*c, w2), mul_conj(*d, w3));
        butterfly(a, b, c, d, bw, cw, dw);
    }
}

/// `(cos, sin)` of `2 pi m k / 2048` for `k` in 1, 2, 3 (`m < 512`): the first from the table,
/// the others by complex products (about 2e-7 from the exact values, against 6e-8 from the
/// table), so no quadrant branches.
#[inline(always)]
fn twiddles(m: usize) -> (C, C, C) {
    let (c1, s1) = (cq(m), cq(N / 4 - m));
    let (c2, s2) = (c1 * c1 - s1 * s1, s1 * c1 + c1 * s1);
    let (c3, s3) = (c1 * c2 - s1 * s2, s1 * c2 + c1 * s2);
    ([c1, s1], [c2, s2], [c3, s3])
}

/// `x W` with `W = (cos, -sin)` given as `[cos, sin]`.
#[inline(always)]
fn mul_conj(x: C, [c, s]: C) -> C {
    [x[0] * c + x[1] * s, x[1] * c - x[0] * s]
}

/// The 4-point DFT of `(a, b, c, d)` (`b`, `c`, `d` already twiddled) back into the four slots.
#[inline(always)]
fn butterfly(a: &mut C, b: &mut C, c: &mut C, d: &mut C, bw: C, cw: C, dw: C) {
    let t0 = [a[0] + cw[0], a[1] + cw[1]];
    let t1 = [a[0] - cw[0], a[1] - cw[1]];
    let t2 = [bw[0] + dw[0], bw[1] + dw[1]];
    let t3 = [bw[0] - dw[0], bw[1] - dw[1]];
    *a = [t0[0] + t2[0], t0[1] + t2[1]];
    *c = [t0[0] - t2[0], t0[1] - t2[1]];
    // X1 = t1 - i t3, X3 = t1 + i t3
    *b = [t1[0] + t3[1], t1[1] - t3[0]];
    *d = [t1[0] - t3[1], t1[1] + t3[0]];
}

/// The first stage: 4-point DFTs of consecutive points (no twiddles).
#[inline(always)]
fn stage4(z: &mut [C; NC]) {
    let (groups, _) = z.as_chunks_mut::<4>();
    for [a, b, c, d] in groups {
        let (bw, cw, dw) = (*b, *c, *d);
        butterfly(a, b, c, d, bw, cw, dw);
    }
}

/// Forward complex FFT of 1024 points in place, input digit-reversed, output in natural order
/// (`Z[k] = sum_n z[n] e^{-2 pi i k n / 1024}`).
pub fn cfft1024_dit(buf: &mut [f32; N]) {
    let (z, _) = buf.as_chunks_mut::<2>();
    let Ok(z) = <&mut [C; NC]>::try_from(z) else {
        return;
    };
    stage4(z);
    rest::<true>(z);
}

/// Stages 2 to 5 of [`cfft1024_dit`], after [`load_ring_windowed_first_stage`] (which did the
/// first).
pub fn cfft1024_dit_after_first_stage(buf: &mut [f32; N]) {
    let (z, _) = buf.as_chunks_mut::<2>();
    let Ok(z) = <&mut [C; NC]>::try_from(z) else {
        return;
    };
    rest::<true>(z);
}

#[inline(always)]
fn rest<const ASM: bool>(z: &mut [C; NC]) {
    stage::<16, 4, ASM>(z);
    stage::<64, 16, ASM>(z);
    stage::<256, 64, ASM>(z);
    last_stage::<ASM>(z);
}

/// The real-input split fused with the power spectrum: from the inner FFT's output `Z` (natural
/// order) to the folded layout of 4 `|X|^2` (module docs), in place.
pub fn split_power_folded(buf: &mut [f32; N]) {
    split::<true>(buf);
}

/// The whole ring-to-folded-power path ([`load_ring_windowed_first_stage`],
/// [`cfft1024_dit_after_first_stage`], [`split_power_folded`]) in portable Rust only, on every
/// target: the reference the firmware's `kernels` binary checks the M4F loops against.
/// Returns `false` (nothing computed) for an odd `pos`.
pub fn power_folded_from_ring_portable(ring: &[f32; N], pos: usize, buf: &mut [f32; N]) -> bool {
    if !first_stage::<false>(ring, pos, buf) {
        return false;
    }
    let (z, _) = buf.as_chunks_mut::<2>();
    if let Ok(z) = <&mut [C; NC]>::try_from(z) {
        rest::<false>(z);
    }
    split::<false>(buf);
    true
}

/// [`split_power_folded`], with the M4F's loop when `ASM` (and the target has it).
#[inline(always)]
fn split<const ASM: bool>(buf: &mut [f32; N]) {
    let (z, _) = buf.as_chunks_mut::<2>();
    let Ok(z) = <&mut [C; NC]>::try_from(z) else {
        return;
    };
    // k = 0: X[0] = Zr + Zi, X[1024] = Zr - Zi (4 |X|^2 = (2 X)^2)
    if let Some(z0) = z.first_mut() {
        let (s, d) = (z0[0] + z0[1], z0[0] - z0[1]);
        let (s, d) = (s + s, d + d);
        *z0 = [s * s, d * d];
    }
    // k = 1..512 with B = Z[1024 - k] (hi[512 - k]), into slot k
    #[cfg(tinygenre_dsp)]
    let done = ASM && {
        crate::dsp::fft4::split_power_pairs(z, &COS_Q);
        true
    };
    #[cfg(not(tinygenre_dsp))]
    let done = false;
    if !done {
        let (lo, hi) = z.split_at_mut(NC / 2);
        // slots 1..512 against slots 1023 down to 513
        for (k, (a, b)) in (1..).zip(lo.iter_mut().skip(1).zip(hi.iter().rev())) {
            let (pk, pn) = split_pair(*a, *b, k);
            *a = [pk, pn];
        }
    }
    // k = 512 pairs with itself (slot 512)
    if let Some(a) = z.get_mut(NC / 2) {
        let (pk, _) = split_pair(*a, *a, NC / 2);
        *a = [pk, pk];
    }
}

/// `4 |X[k]|^2` and `4 |X[1024 - k]|^2` from `A = Z[k]`, `B = Z[1024 - k]`.
#[inline(always)]
fn split_pair(a: C, b: C, k: usize) -> (f32, f32) {
    // Fe = A + conj(B), Fo = A - conj(B)
    let fe = [a[0] + b[0], a[1] - b[1]];
    let fo = [a[0] - b[0], a[1] + b[1]];
    let (c, s) = (cq(k), cq(NC / 2 - k));
    // U = W^k Fo with W^k = (c, -s); 2 X[k] = Fe - i U, 2 conj(X[1024-k]) = Fe + i U
    let ur = c * fo[0] + s * fo[1];
    let ui = c * fo[1] - s * fo[0];
    let (xr, xi) = (fe[0] + ui, fe[1] - ur);
    let (yr, yi) = (fe[0] - ui, fe[1] + ur);
    (xr * xr + xi * xi, yr * yr + yi * yi)
}

/// Windowed frame in natural order in, folded `4 |X|^2` out (module docs), in place: the
/// in-place form of [`load_ring_windowed_first_stage`], [`cfft1024_dit_after_first_stage`],
/// [`split_power_folded`].
pub fn power_folded_in_place(buf: &mut [f32; N]) {
    permute_in_place(buf);
    cfft1024_dit(buf);
    split_power_folded(buf);
}

/// The folded power of bin `b` (`0..=1024`), for tests and readers.
pub fn folded_bin(folded: &[f32], b: usize) -> Option<f32> {
    if b <= NC / 2 {
        folded.get(2 * b).copied()
    } else if b <= NC {
        folded.get(2 * NC + 1 - 2 * b).copied()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn dft_power(x: &[f32]) -> Vec<f64> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (t, &v) in x.iter().enumerate() {
                    let ph = -2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                    re += v as f64 * ph.cos();
                    im += v as f64 * ph.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    #[test]
    fn rev4_is_an_involution_and_digit_reversal() {
        for i in 0..NC {
            assert_eq!(rev4(rev4(i)), i);
            let digits: Vec<usize> = (0..5).map(|d| (i >> (2 * d)) & 3).collect();
            let want = digits.iter().fold(0, |acc, &d| acc * 4 + d);
            assert_eq!(rev4(i), want, "{i}");
        }
    }

    #[test]
    fn cos_sin_matches_libm() {
        for m in 0..1536 {
            let (c, s) = cos_sin(m);
            let th = 2.0 * std::f64::consts::PI * m as f64 / N as f64;
            assert!((c as f64 - th.cos()).abs() < 1e-7, "{m}");
            assert!((s as f64 - th.sin()).abs() < 1e-7, "{m}");
        }
    }

    /// Power of the windowed frame against an f64 DFT, and the ring path equals the in-place
    /// path bit for bit at every ring offset tried.
    #[test]
    fn power_matches_f64_dft_and_ring_equals_in_place() {
        let mut rng = StdRng::seed_from_u64(5);
        for trial in 0..6 {
            let x: Vec<f32> = match trial {
                0 => (0..N).map(|n| if n == 700 { 1.0 } else { 0.0 }).collect(),
                1 => (0..N)
                    .map(|n| (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 22050.0).sin())
                    .collect(),
                _ => (0..N).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
            };
            let windowed: Vec<f32> = x.iter().enumerate().map(|(n, v)| v * hann(n)).collect();
            let want = dft_power(&windowed);
            let scale = want.iter().copied().fold(0.0, f64::max);
            let mut buf = [0.0f32; N];
            buf.copy_from_slice(&windowed);
            power_folded_in_place(&mut buf);
            for (b, w) in want.iter().enumerate() {
                let got = folded_bin(&buf, b).unwrap() as f64 / 4.0;
                assert!(
                    (got - w).abs() <= 2e-6 * scale,
                    "trial {trial} bin {b}: {got} vs {w}"
                );
            }
            for pos in [0usize, 1, 2, 510, 1024, 1536, 2046, 2047] {
                let mut ring = [0.0f32; N];
                for (n, v) in x.iter().enumerate() {
                    ring[(pos + n) % N] = *v;
                }
                let mut b2 = [0.0f32; N];
                if !load_ring_windowed_first_stage(&ring, pos, &mut b2) {
                    assert!(pos % 2 == 1);
                    continue;
                }
                cfft1024_dit_after_first_stage(&mut b2);
                split_power_folded(&mut b2);
                for b in 0..=NC {
                    assert_eq!(
                        folded_bin(&b2, b).map(f32::to_bits),
                        folded_bin(&buf, b).map(f32::to_bits),
                        "trial {trial} pos {pos} bin {b}"
                    );
                }
            }
        }
    }

    /// Against microfft's power spectrum (the previous fast path) on noise: same values to f32
    /// rounding.
    #[test]
    fn power_matches_microfft() {
        let mut rng = StdRng::seed_from_u64(9);
        let x: Vec<f32> = (0..N).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let mut a = [0.0f32; N];
        a.copy_from_slice(&x);
        crate::fft::power_spectrum_in_place(&mut a, N, 2).unwrap();
        let mut b = [0.0f32; N];
        b.copy_from_slice(&x);
        power_folded_in_place(&mut b);
        let scale = a[..=NC].iter().copied().fold(0.0, f32::max);
        for (k, want) in a.iter().enumerate().take(NC + 1) {
            let got = folded_bin(&b, k).unwrap() / 4.0;
            assert!(
                (got - want).abs() <= 1e-5 * scale,
                "bin {k}: {got} vs {want}"
            );
        }
    }
}
