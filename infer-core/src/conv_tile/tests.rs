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
            mults.extend(r.multiplier.to_le_bytes());
            shifts.push(r.shift as u8);
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

/// A whole layer through the tile equals the reference conv then the reference pool, odd
/// sizes (the pool's floor drops the last row and column) and edges included.
#[test]
fn whole_layer_equals_reference_conv_then_pool() {
    let mut rng = StdRng::seed_from_u64(8);
    for (mels, frames, ci, co) in [(7, 9, 3, 5), (8, 8, 16, 8), (5, 12, 1, 128), (6, 3, 33, 2)] {
        let layer = Layer::random(&mut rng, ci, co, false);
        let conv = layer.conv();
        let input: Vec<i8> = (0..mels * frames * ci).map(|_| rng.random()).collect();
        let mut full = vec![0i8; mels * frames * co];
        crate::conv::conv3x3_relu_ref_i8(&conv, &input, mels, frames, &mut full).unwrap();
        let mut want = vec![0i8; (mels / 2) * (frames / 2) * co];
        pool::maxpool2x2_ref(&full, mels, frames, co, &mut want).unwrap();
        let mut got = vec![0i8; want.len()];
        conv3x3_relu_pool_i8(&conv, &input, mels, frames, &mut got).unwrap();
        assert_eq!(got, want, "{mels}x{frames} {ci}->{co}");
        assert!(got.iter().any(|&v| v != got[0]));
        assert_eq!(
            conv3x3_relu_pool_i8(&conv, &input[1..], mels, frames, &mut got),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            conv3x3_relu_pool_i8(&conv, &input, mels, frames, &mut got[1..]),
            Err(Error::OutputTooSmall)
        );
    }
}

/// The pooled requantisation shortcut relies on monotonicity for right shifts.
#[test]
fn requant_is_monotonic_for_right_shifts() {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..100_000 {
        let r = Requantizer {
            multiplier: rng.random_range((1 << 30)..i32::MAX),
            shift: rng.random_range(-31..=0),
        };
        let a = rng.random_range(-(1 << 26)..(1 << 26));
        let b = a + rng.random_range(0..1000);
        assert!(r.apply(a) <= r.apply(b), "{r:?} {a} {b}");
    }
}
