//! The tile kernel against the scalar reference kernels.

use super::*;
use crate::quant::Requantizer;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::vec::Vec;

struct Layer {
    in_ch: usize,
    out_ch: usize,
    weights: Vec<u8>,
    bias: Vec<u8>,
    mults: Vec<u8>,
    shifts: Vec<u8>,
    izp: i32,
    ozp: i32,
}

impl Layer {
    fn random(rng: &mut StdRng, in_ch: usize, out_ch: usize, left_shift: bool) -> Layer {
        let weights = (0..9 * in_ch * out_ch)
            .map(|_| rng.random_range(-127i8..=127) as u8)
            .collect();
        let bias = (0..out_ch)
            .flat_map(|_| rng.random_range(-40_000i32..40_000).to_le_bytes())
            .collect();
        let mut mults = Vec::new();
        let mut shifts = Vec::new();
        for _ in 0..out_ch {
            let scale = if left_shift {
                rng.random_range(1.0..4.0)
            } else {
                rng.random_range(0.05..1.0) / (9.0 * in_ch as f64).sqrt() / 60.0
            };
            let r = Requantizer::from_scale(scale).unwrap();
            mults.extend(r.multiplier().to_le_bytes());
            shifts.push(r.shift() as u8);
        }
        let ozp = rng.random_range(-128..=20);
        Layer {
            in_ch,
            out_ch,
            weights,
            bias,
            mults,
            shifts,
            izp: rng.random_range(-128..=127),
            ozp,
        }
    }

    fn conv(&self) -> Conv3x3<'_> {
        Conv3x3 {
            in_ch: self.in_ch,
            out_ch: self.out_ch,
            params: ConvParams::Int8 {
                weights: &self.weights,
                bias: &self.bias,
                multipliers: &self.mults,
                shifts: &self.shifts,
                input_zero_point: self.izp,
                output_zero_point: self.ozp,
                act_min: self.ozp.max(-128),
            },
        }
    }
}

/// Random shapes (odd channel counts, channel counts that are not multiples of 4, the
/// widest layers), random padding patterns (any subset of the nine taps missing, as at the
/// image edges and corners), both pool modes, right and left shifts: the tile equals the
/// scalar reference kernel and pool, bit for bit.
#[test]
fn tile_equals_scalar_reference() {
    let mut rng = StdRng::seed_from_u64(21);
    let shapes = [
        (3, 128),
        (1, 1),
        (3, 5),
        (5, 3),
        (7, 9),
        (13, 17),
        (43, 6),
        (64, 32),
        (128, 64),
        (100, 7),
        (129, 3),
        (384, 2),
    ];
    let mut distinct = 0;
    for (case, &(ci, co)) in shapes.iter().cycle().take(3 * shapes.len()).enumerate() {
        let layer = Layer::random(&mut rng, ci, co, case % 5 == 4);
        let conv = layer.conv();
        let inputs: Vec<Vec<Vec<i8>>> = (0..TILE)
            .map(|_| {
                (0..9)
                    .map(|_| (0..ci).map(|_| rng.random::<i8>()).collect())
                    .collect()
            })
            .collect();
        let taps: [Taps<'_, i8>; TILE] = core::array::from_fn(|p| {
            core::array::from_fn(|k| {
                // about one tap in four is padding
                (rng.random_range(0..4) != 0).then(|| inputs[p][k].as_slice())
            })
        });
        for pool in [TilePool::Quad, TilePool::Pairs] {
            let (mut f0, mut f1) = (vec![0i8; co], vec![0i8; co]);
            conv_pool_i8(&conv, &taps, pool, &mut f0, &mut f1);
            let (mut r0, mut r1) = (vec![0i8; co], vec![0i8; co]);
            conv_pool_scalar(&conv, &taps, pool, &mut r0, &mut r1);
            assert_eq!(f0, r0, "case {case} ({ci}, {co}) {pool:?}");
            assert_eq!(f1, r1, "case {case} ({ci}, {co}) {pool:?}");
            distinct += f0.iter().filter(|&&v| v != f0[0]).count();
        }
    }
    // the outputs are spread out, not all clamped
    assert!(distinct > 200, "{distinct}");
}

type WholeLayer = fn(&Conv3x3<'_>, &[i8], usize, usize, &mut [i8]) -> Result<(), Error>;

/// `f` on random layers equals the reference conv then the reference pool (odd sizes, whose
/// pool floor drops the last row and column, and edges), and refuses short buffers.
fn whole_layer_equals_reference(f: WholeLayer, seed: u64, shapes: &[(usize, usize, usize, usize)]) {
    let mut rng = StdRng::seed_from_u64(seed);
    for &(mels, frames, ci, co) in shapes {
        let layer = Layer::random(&mut rng, ci, co, false);
        let conv = layer.conv();
        let input: Vec<i8> = (0..mels * frames * ci).map(|_| rng.random()).collect();
        let mut full = vec![0i8; mels * frames * co];
        crate::conv::conv3x3_relu_ref_i8(&conv, &input, mels, frames, &mut full).unwrap();
        let mut want = vec![0i8; (mels / 2) * (frames / 2) * co];
        pool::maxpool2x2_ref(&full, mels, frames, co, &mut want).unwrap();
        let mut got = vec![0i8; want.len()];
        f(&conv, &input, mels, frames, &mut got).unwrap();
        assert_eq!(got, want, "{mels}x{frames} {ci}->{co}");
        assert!(got.iter().any(|&v| v != got[0]));
        assert_eq!(
            f(&conv, &input[1..], mels, frames, &mut got),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            f(&conv, &input, mels, frames, &mut got[1..]),
            Err(Error::OutputTooSmall)
        );
    }
}

/// A whole layer through the tile equals the reference conv then the reference pool.
#[test]
fn whole_layer_equals_reference_conv_then_pool() {
    let shapes = [(7, 9, 3, 5), (8, 8, 16, 8), (5, 12, 1, 128), (6, 3, 33, 2)];
    whole_layer_equals_reference(conv3x3_relu_pool_i8, 8, &shapes);
}

/// The pooled requantisation shortcut relies on monotonicity for right shifts.
#[test]
fn requant_is_monotonic_for_right_shifts() {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..100_000 {
        let r = Requantizer::new(
            rng.random_range((1 << 30)..i32::MAX),
            rng.random_range(-31..=0),
        )
        .unwrap();
        let a = rng.random_range(-(1 << 26)..(1 << 26));
        let b = a + rng.random_range(0..1000);
        assert!(r.apply(a) <= r.apply(b), "{r:?} {a} {b}");
    }
}

/// The folded requantisation equals the reference one (`apply`, zero point, ReLU clamp) on
/// random multipliers, right shifts, zero points and accumulators, edges included.
#[test]
fn fast_requant_equals_reference() {
    let mut rng = StdRng::seed_from_u64(17);
    for i in 0..300_000 {
        let r = Requantizer::new(
            rng.random_range((1 << 30)..=i32::MAX),
            rng.random_range(-31..=-1),
        )
        .unwrap();
        let ozp = rng.random_range(-128..=127);
        let acc = match i % 4 {
            0 => rng.random_range(-(1 << 20)..(1 << 20)),
            1 => rng.random(),
            2 => rng.random_range(-3..=3),
            _ => rng.random_range(0..(1 << 12)),
        };
        let want = r.apply(acc).saturating_add(ozp).clamp(ozp.max(-128), 127) as i8;
        let fast = FastRequant::new(r, ozp, ozp).unwrap();
        assert_eq!(fast.apply(acc), want, "{r:?} ozp={ozp} acc={acc}");
    }
    let r = Requantizer::new(1 << 30, 1).unwrap();
    assert!(FastRequant::new(r, 0, 0).is_none());
    let r = Requantizer::new(1 << 30, -1).unwrap();
    assert!(FastRequant::new(r, 0, 3).is_none());
}

/// Four one-input-channel windows through `conv9_pool_windows` equal the scalar kernel and
/// pool on each, with random padding (any subset of the 4x4 patch missing).
#[test]
fn conv9_windows_equal_scalar_reference() {
    let mut rng = StdRng::seed_from_u64(23);
    let mut distinct = 0;
    for case in 0..40 {
        let co = [1, 3, 7, 128, 64][case % 5];
        let layer = Layer::random(&mut rng, 1, co, case % 7 == 6);
        let conv = layer.conv();
        let patches: [Patch<i8>; 4] = core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| (rng.random_range(0..5) != 0).then(|| rng.random()))
            })
        });
        let wins = patches.map(|p| pack_patch(&p, layer.izp));
        let mut got = [[0i8; MAX_OUT]; 4];
        conv9_pool_windows(&conv, &[wins], &mut [&mut got]);
        for (w, patch) in patches.iter().enumerate() {
            let cells: Vec<Vec<[i8; 1]>> = patch
                .iter()
                .map(|r| r.iter().map(|v| [v.unwrap_or(0)]).collect())
                .collect();
            let taps: [Taps<'_, i8>; TILE] = core::array::from_fn(|p| {
                let (dm, dt) = (p / 2, p % 2);
                core::array::from_fn(|k| {
                    let (i, j) = (dm + k / 3, dt + k % 3);
                    patch[i][j].map(|_| cells[i][j].as_slice())
                })
            });
            let mut want = vec![0i8; co];
            conv_pool_scalar(&conv, &taps, TilePool::Quad, &mut want, &mut []);
            assert_eq!(&got[w][..co], &want[..], "case {case} window {w}");
            distinct += want.iter().filter(|&&v| v != want[0]).count();
        }
    }
    assert!(distinct > 100, "{distinct}");
}

/// Winograd F(2x2, 3x3) on four windows equals the direct tile kernel on each, bit for bit:
/// random shapes (channel counts odd, not multiples of four, of several chunks, the widest
/// layer's), random padding (any subset of each 4x4 window missing, as at the edges), fewer
/// than four windows, right and left shifts.
#[test]
fn winograd_equals_direct_tile() {
    use super::wino::{Window, conv_pool_wino_i8, window_taps};
    let mut rng = StdRng::seed_from_u64(29);
    let shapes = [
        (128, 64),
        (64, 32),
        (1, 3),
        (3, 5),
        (5, 2),
        (7, 9),
        (16, 8),
        (33, 17),
        (43, 6),
        (100, 7),
        (129, 3),
        (32, 128),
    ];
    let mut distinct = 0;
    for (case, &(ci, co)) in shapes.iter().cycle().take(3 * shapes.len()).enumerate() {
        let layer = Layer::random(&mut rng, ci, co, case % 7 == 6);
        let conv = layer.conv();
        let n = [4, 4, 3, 1, 2][case % 5];
        let data: Vec<Vec<Vec<i8>>> = (0..n)
            .map(|_| {
                (0..16)
                    .map(|_| (0..ci).map(|_| rng.random::<i8>()).collect())
                    .collect()
            })
            .collect();
        let wins: Vec<Window<'_>> = data
            .iter()
            .map(|w| {
                core::array::from_fn(|k| {
                    (rng.random_range(0..4) != 0 || case % 3 == 0).then(|| w[k].as_slice())
                })
            })
            .collect();
        // the general form (every shape through Winograd) and the whole-chunk form (the others
        // through the direct kernel)
        let mut got = vec![vec![0i8; co]; n];
        let mut outs: Vec<&mut [i8]> = got.iter_mut().map(|v| v.as_mut_slice()).collect();
        conv_pool_wino_i8::<true>(&conv, &wins, &mut outs);
        let mut whole = vec![vec![0i8; co]; n];
        let mut outs: Vec<&mut [i8]> = whole.iter_mut().map(|v| v.as_mut_slice()).collect();
        conv_pool_wino_i8::<false>(&conv, &wins, &mut outs);
        for (t, w) in wins.iter().enumerate() {
            let mut want = vec![0i8; co];
            conv_pool_i8(&conv, &window_taps(w), TilePool::Quad, &mut want, &mut []);
            assert_eq!(got[t], want, "case {case} ({ci}, {co}) window {t}");
            assert_eq!(
                whole[t], want,
                "case {case} ({ci}, {co}) window {t}, whole chunks"
            );
            distinct += want.iter().filter(|&&v| v != want[0]).count();
        }
    }
    assert!(distinct > 200, "{distinct}");
}

/// Extreme values: every weight -128 or 127 and every input at the far end from the zero
/// point, 128 input channels: the bound the int16 and int32 ranges were sized for.
#[test]
fn winograd_extremes_equal_direct_tile() {
    use super::wino::{Window, conv_pool_wino_i8, window_taps};
    let mut rng = StdRng::seed_from_u64(31);
    for (case, (w, x, zp)) in [(-128i8, 127i8, -128), (127, -128, 127), (-128, -128, 127)]
        .into_iter()
        .enumerate()
    {
        let mut layer = Layer::random(&mut rng, 128, 8, false);
        layer.weights.iter_mut().for_each(|v| *v = w as u8);
        layer.izp = zp;
        let conv = layer.conv();
        let px = vec![x; 128];
        let wins: Vec<Window<'_>> = (0..4)
            .map(|t| core::array::from_fn(|k| (t != 3 || k % 5 != 0).then_some(px.as_slice())))
            .collect();
        let mut got = vec![vec![0i8; 8]; 4];
        let mut outs: Vec<&mut [i8]> = got.iter_mut().map(|v| v.as_mut_slice()).collect();
        conv_pool_wino_i8::<false>(&conv, &wins, &mut outs);
        for (t, win) in wins.iter().enumerate() {
            let mut want = vec![0i8; 8];
            conv_pool_i8(&conv, &window_taps(win), TilePool::Quad, &mut want, &mut []);
            assert_eq!(got[t], want, "case {case} window {t}");
        }
    }
}

/// A whole layer through Winograd equals the reference conv then pool (a window count that is
/// not a multiple of four included).
#[test]
fn winograd_whole_layer_equals_reference() {
    let shapes = [(7, 9, 3, 5), (8, 8, 16, 8), (6, 10, 33, 2), (10, 7, 64, 32)];
    whole_layer_equals_reference(super::wino::conv3x3_relu_pool_wino_i8, 37, &shapes);
}
