//! A deterministic baseline-shaped model for the cross-check, built without training.
//!
//! Seeded random float weights (He-normal convolutions, Glorot-normal dense layer) with the
//! baseline's architecture (five `conv3x3-ReLU-maxpool2` blocks then dense); the input
//! normalisation and every activation range are calibrated on a few synthetic clips run through
//! the float model, then the model is quantised the TFLite way (per-channel symmetric weights,
//! asymmetric activations, int32 bias, Q31 requantisers). So the int8 activations use their
//! range instead of saturating or collapsing to the zero point, and the float twin gives the
//! reference the int8 model approximates. Same seed, same bytes.

use anyhow::bail;
use infer_core::config::FrontendConfig;
use infer_core::format::owned::{OwnedLayer, OwnedModel};
use infer_core::format::{InputSpec, PosEnc};
use infer_core::frontend::LogMel;
use infer_core::model::N_BLOCKS;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use super::{SEGMENT_SAMPLES, to_i16};
use crate::base::dataset::GTZAN_GENRES;
use crate::{data::synth, ship::export};

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct TestModelSpec {
    /// Output channels of the five blocks (at most the baseline's `[128, 64, 32, 16, 8]`).
    pub channels: [u16; N_BLOCKS],
    /// Seed of the weights.
    pub seed: u64,
}

impl TestModelSpec {
    /// The baseline's full size (Cheng et al.: 128, 64, 32, 16, 8 channels).
    pub const BASELINE: TestModelSpec = TestModelSpec {
        channels: [128, 64, 32, 16, 8],
        seed: 9,
    };
    /// A narrow variant (about 25x fewer MACs) that keeps every layer kind, for quick checks.
    pub const SMALL: TestModelSpec = TestModelSpec {
        channels: [16, 16, 16, 16, 8],
        seed: 9,
    };
}

/// The float model and its int8 quantisation (same weights).
#[derive(Debug, Clone)]
pub struct TestModels {
    /// f32 weights and activations.
    pub float: OwnedModel,
    /// int8, calibrated on synthetic clips.
    pub int8: OwnedModel,
}

/// Clips the calibration runs through the float model: one 3 s clip per genre.
fn calibration_segments() -> Vec<Vec<i16>> {
    (0..GTZAN_GENRES.len())
        .map(|g| {
            let x = synth::render_clip(g, 3.0, 0xCA11_B000 + g as u64);
            let mut s = to_i16(&x);
            s.resize(SEGMENT_SAMPLES, 0);
            s
        })
        .collect()
}

/// Builds the deterministic float and int8 models.
///
/// # Errors
/// Channel counts out of range, or a model that infer-core rejects (a bug here).
pub fn build(spec: TestModelSpec) -> anyhow::Result<TestModels> {
    let frontend = FrontendConfig::DEFAULT;
    let n_mels = frontend.n_mels as usize;
    let frames = frontend.n_frames(SEGMENT_SAMPLES);
    let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);

    // Input normalisation from the calibration clips' log-mel (one mean and std, as training does).
    let segments = calibration_segments();
    let mut lm = LogMel::new(&frontend)?;
    let mut mels = Vec::with_capacity(segments.len());
    for s in &segments {
        let mut mel = vec![0.0f32; n_mels * frames];
        lm.compute_i16(s, &mut mel)?;
        mels.push(mel);
    }
    let n = (mels.len() * n_mels * frames) as f64;
    let mean = mels.iter().flatten().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = mels
        .iter()
        .flatten()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;

    // Float weights, OHWI: [out][3][3][in].
    let mut in_ch = 1usize;
    let mut float_layers = Vec::new();
    let mut mels_b = n_mels;
    let mut frames_b = frames;
    for (b, &out) in spec.channels.iter().enumerate() {
        let out = usize::from(out);
        if out == 0 || out > infer_core::model::MAX_CHANNELS[b] {
            bail!("block {}: {out} channels out of range", b + 1);
        }
        let he = Normal::new(0.0, (2.0 / (9.0 * in_ch as f64)).sqrt())?;
        let w: Vec<f32> = (0..out * 9 * in_ch)
            .map(|_| he.sample(&mut rng) as f32)
            .collect();
        let small = Normal::new(0.0, 0.05)?;
        let bias: Vec<f32> = (0..out).map(|_| small.sample(&mut rng) as f32).collect();
        float_layers.push(OwnedLayer::conv_f32(in_ch as u16, out as u16, &w, &bias));
        in_ch = out;
        mels_b /= 2;
        frames_b /= 2;
    }
    let features = in_ch * mels_b * frames_b;
    let classes = GTZAN_GENRES.len();
    let glorot = Normal::new(0.0, (2.0 / (features + classes) as f64).sqrt())?;
    let dense_w: Vec<f32> = (0..features * classes)
        .map(|_| glorot.sample(&mut rng) as f32)
        .collect();
    let dense_b = vec![0.0f32; classes];
    float_layers.push(OwnedLayer::dense_f32(
        features as u16,
        classes as u16,
        &dense_w,
        &dense_b,
    ));
    let input = InputSpec {
        segment_samples: SEGMENT_SAMPLES as u32,
        n_mels: n_mels as u16,
        frames: frames as u16,
        mean: mean as f32,
        std: var.sqrt().max(1e-3) as f32,
        posenc: PosEnc::None,
        quant: None,
    };
    let float = OwnedModel {
        name: format!("crosscheck-test-f32-seed{}", spec.seed),
        classes: GTZAN_GENRES.iter().map(|s| s.to_string()).collect(),
        input,
        layers: float_layers,
        frontend,
    };

    // Calibrate on the calibration clips and quantise, exactly as `trainer export --int8` does.
    let mel_refs: Vec<&[f32]> = mels.iter().map(Vec::as_slice).collect();
    let ranges = export::calibrate(&float, &mel_refs)?;
    let mut int8 = export::quantize(&float, &ranges)?;
    int8.name = format!("crosscheck-test-int8-seed{}", spec.seed);
    Ok(TestModels { float, int8 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use infer_core::executor::{Executor, run_logmel};
    use infer_core::model::Model;

    /// Deterministic, and the int8 model tracks its float twin: its activations spread over
    /// the int8 range (neither saturated nor stuck at the zero point) and its top-1 class agrees
    /// with the float model on most calibration clips.
    #[test]
    fn small_test_model_is_deterministic_and_tracks_the_float_model() {
        let a = build(TestModelSpec::SMALL).unwrap();
        let b = build(TestModelSpec::SMALL).unwrap();
        assert_eq!(a.int8.encode().unwrap(), b.int8.encode().unwrap());

        let fb = a.float.encode().unwrap();
        let qb = a.int8.encode().unwrap();
        let fm = Model::from_bytes(&fb).unwrap();
        let qm = Model::from_bytes(&qb).unwrap();
        let mut fe = Executor::<f32>::new();
        let mut qe = Executor::<i8>::new();
        let mut lm = LogMel::new(&FrontendConfig::DEFAULT).unwrap();
        let (mut agree, mut saturated, mut total) = (0, 0usize, 0usize);
        let mut distinct = std::collections::BTreeSet::new();
        for (g, seed) in (0..10).zip(500u64..) {
            let mut s = to_i16(&synth::render_clip(g, 3.0, seed));
            s.resize(SEGMENT_SAMPLES, 0);
            let mut mel = vec![0.0f32; 128 * 130];
            lm.compute_i16(&s, &mut mel).unwrap();
            let mut fl = [0.0f32; 10];
            let mut ql = [0i8; 10];
            run_logmel(&fm, &mut fe, &mel, &mut (), &mut fl).unwrap();
            run_logmel(&qm, &mut qe, &mel, &mut (), &mut ql).unwrap();
            let top = |v: &[f32]| {
                (0..v.len())
                    .max_by(|&i, &j| v[i].total_cmp(&v[j]).then(j.cmp(&i)))
                    .unwrap()
            };
            let q = qm.logits_quant().unwrap();
            let deq: Vec<f32> = ql.iter().map(|&v| q.dequantize(v)).collect();
            agree += usize::from(top(&fl) == top(&deq));
            saturated += ql.iter().filter(|&&v| v == 127 || v == -128).count();
            total += ql.len();
            distinct.extend(ql);
        }
        assert!(agree >= 7, "int8 top-1 agrees with float on {agree}/10");
        assert!(
            saturated * 10 < total,
            "{saturated}/{total} logits saturated"
        );
        assert!(
            distinct.len() >= 20,
            "only {} distinct logits",
            distinct.len()
        );
    }
}
