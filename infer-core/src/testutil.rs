//! Seeded random models and inputs for tests (infer-core's own, the `tests` crate's and the
//! trainer's cross-check): shared builders instead of one copy per test file. Behind the
//! `testutil` feature (never in the device build).

use crate::config::FrontendConfig;
use crate::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use crate::format::{InputSpec, PosEnc, bytes};
use crate::quant::{QParams, Requantizer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::format;
use std::string::String;
use std::vec::Vec;

/// The baseline's channels.
pub const CH: [usize; 5] = [128, 64, 32, 16, 8];

/// Front end + input spec for `n_mels` x `frames`.
pub fn spec(
    n_mels: usize,
    frames: usize,
    posenc: PosEnc,
    quant: Option<QParams>,
) -> (FrontendConfig, InputSpec) {
    let fe = FrontendConfig {
        n_mels: n_mels as u32,
        ..FrontendConfig::DEFAULT
    };
    let samples = (frames as u32 - 1) * fe.hop_length;
    assert_eq!(fe.n_frames(samples as usize), frames);
    let input = InputSpec {
        segment_samples: samples,
        n_mels: n_mels as u16,
        frames: frames as u16,
        mean: -30.0,
        std: 20.0,
        posenc,
        quant,
    };
    (fe, input)
}

/// `n` class names `class0..`.
pub fn classes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class{i}")).collect()
}

/// A random f32 baseline (He-scaled weights).
pub fn random_f32(seed: u64, n_mels: usize, frames: usize, posenc: PosEnc) -> OwnedModel {
    let mut rng = StdRng::seed_from_u64(seed);
    let (frontend, input) = spec(n_mels, frames, posenc, None);
    let mut layers = Vec::new();
    let mut ci = posenc.in_channels();
    for &co in &CH {
        let std = (2.0 / (9.0 * ci as f32)).sqrt() * 1.7;
        let w: Vec<f32> = (0..co * 9 * ci)
            .map(|_| rng.random_range(-std..std))
            .collect();
        let b: Vec<f32> = (0..co).map(|_| rng.random_range(-0.1..0.1)).collect();
        layers.push(OwnedLayer::conv_f32(ci as u16, co as u16, &w, &b));
        ci = co;
    }
    let nf = 8 * (n_mels >> 5) * (frames >> 5);
    let w: Vec<f32> = (0..10 * nf).map(|_| rng.random_range(-0.3..0.3)).collect();
    let b: Vec<f32> = (0..10).map(|_| rng.random_range(-0.1..0.1)).collect();
    layers.push(OwnedLayer::dense_f32(nf as u16, 10, &w, &b));
    OwnedModel {
        name: "random-f32".into(),
        classes: classes(10),
        input,
        layers,
        frontend,
    }
}

/// Random int8 parameters of one layer with valid requantisers.
#[allow(clippy::too_many_arguments)]
pub fn int8_params(
    rng: &mut StdRng,
    n_w: usize,
    n_out: usize,
    fan_in: usize,
    s_in: f32,
    out: QParams,
    per_tensor: bool,
) -> OwnedParams {
    let w: Vec<i8> = (0..n_w).map(|_| rng.random_range(-127..=127)).collect();
    let n_s = if per_tensor { 1 } else { n_out };
    let mut scales = Vec::new();
    let mut mults = Vec::new();
    let mut shifts = Vec::new();
    for _ in 0..n_s {
        let eff = rng.random_range(1.0..2.5) / ((fan_in as f64).sqrt() * 73.0);
        let s_w = (eff * f64::from(out.scale) / f64::from(s_in)) as f32;
        // test support (host only): `eff` is in [4e-4, 0.035], which `from_scale` always takes
        #[allow(clippy::unwrap_used)]
        let r = Requantizer::from_scale(f64::from(s_in) * f64::from(s_w) / f64::from(out.scale))
            .unwrap();
        scales.push(s_w);
        mults.push(r.multiplier());
        shifts.push(r.shift());
    }
    let bias: Vec<i32> = (0..n_out).map(|_| rng.random_range(-3000..3000)).collect();
    OwnedParams::Int8 {
        weights: bytes::i8_bytes(&w),
        weight_scales: bytes::f32_le(&scales),
        bias: bytes::i32_le(&bias),
        multipliers: bytes::i32_le(&mults),
        shifts: bytes::i8_bytes(&shifts),
        output: out,
    }
}

/// A random int8 baseline with valid quantisation parameters.
pub fn random_i8(seed: u64, n_mels: usize, frames: usize, posenc: PosEnc) -> OwnedModel {
    let mut rng = StdRng::seed_from_u64(seed);
    let in_q = QParams {
        scale: 0.03,
        zero_point: 5,
    };
    let (frontend, input) = spec(n_mels, frames, posenc, Some(in_q));
    let mut layers = Vec::new();
    let mut ci = posenc.in_channels();
    let mut s_in = in_q.scale;
    for (b, &co) in CH.iter().enumerate() {
        // block 3 uses a zero point above -128 so the ReLU clamp is exercised
        let zp = if b == 2 { -100 } else { -128 };
        let out = QParams {
            scale: rng.random_range(0.01..0.05),
            zero_point: zp,
        };
        let params = int8_params(&mut rng, co * 9 * ci, co, 9 * ci, s_in, out, false);
        layers.push(OwnedLayer::Conv {
            in_ch: ci as u16,
            out_ch: co as u16,
            params,
        });
        ci = co;
        s_in = out.scale;
    }
    let nf = 8 * (n_mels >> 5) * (frames >> 5);
    let out = QParams {
        scale: 0.1,
        zero_point: 3,
    };
    let params = int8_params(&mut rng, 10 * nf, 10, nf, s_in, out, true);
    layers.push(OwnedLayer::Dense {
        in_features: nf as u16,
        out_features: 10,
        params,
    });
    OwnedModel {
        name: "random-i8".into(),
        classes: classes(10),
        input,
        layers,
        frontend,
    }
}

/// Random log-mel values in `[-80, 10)` dB.
pub fn random_logmel(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-80.0..10.0)).collect()
}
