//! The kernels against their definitions (the portable forms on the host).

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
