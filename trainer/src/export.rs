//! Export of a trained baseline to infer-core's model file (`docs/model-format.md`): f32 as
//! trained, or int8 by post-training quantisation calibrated on training segments.
//!
//! Quantisation follows TFLite / CMSIS-NN:
//! - weights: symmetric int8, one scale per output channel for convolutions (`max|w| / 127`),
//!   one per tensor for the dense layer;
//! - activations: asymmetric int8, one `(scale, zero_point)` per tensor from the min/max seen on
//!   the calibration segments (the input after normalisation and positional encoding, each
//!   block's pooled output, the logits), widened to include 0;
//! - bias: int32 with scale `input_scale * weight_scale[c]`;
//! - requantisation: infer-core's [`Requantizer`] (Q31 multiplier + shift) of
//!   `input_scale * weight_scale[c] / output_scale`.
//!
//! Layout conversions (Burn -> file): convolution weights `[out, in, 3, 3]` -> `[out][3][3][in]`
//! (OHWI); the dense input is flattened (channel, mel, frame) by Burn and (mel, frame, channel)
//! by infer-core, so its weight columns are permuted.

use std::path::Path;

use anyhow::{Context, bail, ensure};
use infer_core::config::FrontendConfig;
use infer_core::executor::{self, Act};
use infer_core::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use infer_core::format::{self, InputSpec, PosEnc as FilePosEnc, bytes};
use infer_core::model::{Model, N_BLOCKS};
use infer_core::quant::{self, QParams, Requantizer};
use rayon::prelude::*;

use crate::models::PosEnc;
use crate::models::plain::{self, PlainBaseline};
use crate::train::{self, DataSource, Examples, RunConfig};

/// Seconds of audio per model input (the study's 3 s segments).
pub const SEGMENT_SECONDS: f64 = 3.0;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 weights as trained.
    F32,
    /// int8 post-training quantisation calibrated on this many training segments.
    Int8 {
        /// Calibration segments (the first `n` of a seeded shuffle of the training set).
        calibrate: usize,
    },
}

/// The front end and segment length of a model input of `n_mels x frames`.
///
/// Real data uses the baseline's front end and segments from [`crate::loader::input_spec`]
/// ([`FrontendConfig::DEFAULT`], librosa's defaults, on 3 s segments: 66150 samples, 130 frames).
/// Inputs of other sizes (the in-memory toy set, which has no audio) get the default front end
/// with `n_mels` bands and the shortest segment giving `frames` frames.
///
/// # Errors
/// When `n_mels` or `frames` cannot be described by a valid front end.
pub fn frontend_for(n_mels: usize, frames: usize) -> anyhow::Result<(FrontendConfig, u32)> {
    let (fe, seg, f) = crate::loader::input_spec(crate::models::ModelKind::Baseline);
    if fe.n_mels as usize == n_mels && f == frames {
        let samples = (seg.seconds * fe.sample_rate as f32).round() as u32;
        return Ok((fe, samples));
    }
    let fe = FrontendConfig {
        n_mels: u32::try_from(n_mels)?,
        ..FrontendConfig::DEFAULT
    };
    fe.validate()
        .map_err(|e| anyhow::anyhow!("no front end with {n_mels} mel bands: {e}"))?;
    ensure!(frames >= 1, "a model input needs at least one frame");
    let seg = (SEGMENT_SECONDS * f64::from(fe.sample_rate)).round() as usize;
    let samples = if fe.n_frames(seg) == frames {
        seg
    } else {
        (frames - 1) * fe.hop_length as usize
    };
    ensure!(
        fe.n_frames(samples) == frames,
        "no segment length gives {frames} frames"
    );
    Ok((fe, u32::try_from(samples)?))
}

fn file_posenc(p: PosEnc) -> FilePosEnc {
    match p {
        PosEnc::None => FilePosEnc::None,
        PosEnc::Coord => FilePosEnc::Coord,
        PosEnc::Sinusoidal => FilePosEnc::Sinusoidal,
    }
}

/// Convolution weights `[out, in, 3, 3]` -> `[out][3][3][in]`.
fn ohwi(c: &plain::PlainConv) -> Vec<f32> {
    let (co, ci) = (c.out_channels, c.in_channels);
    let mut w = vec![0f32; co * 9 * ci];
    for o in 0..co {
        for i in 0..ci {
            for k in 0..9 {
                w[(o * 9 + k) * ci + i] = c.weight[(o * ci + i) * 9 + k];
            }
        }
    }
    w
}

/// Dense weights `[out][(c, m, t)]` -> `[out][(m, t, c)]` for `channels x mels x frames`
/// features.
fn dense_hwc(d: &plain::PlainDense, channels: usize, mels: usize, frames: usize) -> Vec<f32> {
    let n = d.in_features;
    let mut w = vec![0f32; d.out_features * n];
    for o in 0..d.out_features {
        for c in 0..channels {
            for m in 0..mels {
                for t in 0..frames {
                    w[o * n + (m * frames + t) * channels + c] =
                        d.weight[o * n + (c * mels + m) * frames + t];
                }
            }
        }
    }
    w
}

fn check_shapes(p: &PlainBaseline) -> anyhow::Result<(usize, usize, usize)> {
    ensure!(
        p.convs.len() == N_BLOCKS,
        "the baseline has {} convolutions, the model file format {N_BLOCKS}",
        p.convs.len()
    );
    let mut ci = p.posenc.in_channels();
    for (b, c) in p.convs.iter().enumerate() {
        ensure!(
            c.in_channels == ci
                && c.weight.len() == c.out_channels * ci * 9
                && c.bias.len() == c.out_channels,
            "convolution {b}: inconsistent shapes ({} -> {}, {} weights)",
            c.in_channels,
            c.out_channels,
            c.weight.len()
        );
        ci = c.out_channels;
    }
    let (m, t) = (p.n_mels >> N_BLOCKS, p.frames >> N_BLOCKS);
    ensure!(
        p.dense.in_features == ci * m * t
            && p.dense.weight.len() == p.dense.in_features * p.dense.out_features
            && p.dense.bias.len() == p.dense.out_features,
        "dense layer: {} features, expected {ci} x {m} x {t}",
        p.dense.in_features
    );
    Ok((ci, m, t))
}

/// The f32 model file of a baseline (weights as trained).
///
/// # Errors
/// Inconsistent shapes, too many classes, or sizes no front end describes.
pub fn to_f32(p: &PlainBaseline, name: &str, classes: &[String]) -> anyhow::Result<OwnedModel> {
    let (c5, m5, t5) = check_shapes(p)?;
    ensure!(
        classes.len() == p.dense.out_features,
        "{} class names for {} outputs",
        classes.len(),
        p.dense.out_features
    );
    let (frontend, segment_samples) = frontend_for(p.n_mels, p.frames)?;
    let mut layers = Vec::with_capacity(N_BLOCKS + 1);
    for c in &p.convs {
        layers.push(OwnedLayer::Conv {
            in_ch: u16::try_from(c.in_channels)?,
            out_ch: u16::try_from(c.out_channels)?,
            params: OwnedParams::F32 {
                weights: bytes::f32_le(&ohwi(c)),
                bias: bytes::f32_le(&c.bias),
            },
        });
    }
    layers.push(OwnedLayer::Dense {
        in_features: u16::try_from(p.dense.in_features)?,
        out_features: u16::try_from(p.dense.out_features)?,
        params: OwnedParams::F32 {
            weights: bytes::f32_le(&dense_hwc(&p.dense, c5, m5, t5)),
            bias: bytes::f32_le(&p.dense.bias),
        },
    });
    let model = OwnedModel {
        name: name.to_string(),
        classes: classes.to_vec(),
        input: InputSpec {
            segment_samples,
            n_mels: u16::try_from(p.n_mels)?,
            frames: u16::try_from(p.frames)?,
            mean: p.input_mean,
            std: p.input_std,
            posenc: file_posenc(p.posenc),
            quant: None,
        },
        layers,
        frontend,
    };
    // Everything infer-core checks at load time, checked now.
    let bytes = model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    Model::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("exported f32 model is invalid: {e}"))?;
    Ok(model)
}

/// Activation ranges seen during calibration: index 0 the encoded input, `b` block `b`'s pooled
/// output, [`N_BLOCKS`] + 1 the logits.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranges {
    /// Minimum per tensor.
    pub min: [f32; N_BLOCKS + 2],
    /// Maximum per tensor.
    pub max: [f32; N_BLOCKS + 2],
    /// Range of the logits that decide the class: from `LOGIT_SLACK` below the lowest
    /// second-largest logit of a segment to the highest largest one.
    pub top_two: [f32; 2],
}

impl Ranges {
    fn empty() -> Self {
        Self {
            min: [f32::INFINITY; N_BLOCKS + 2],
            max: [f32::NEG_INFINITY; N_BLOCKS + 2],
            top_two: [f32::INFINITY, f32::NEG_INFINITY],
        }
    }
    fn add(&mut self, i: usize, v: &[f32]) {
        for &x in v {
            self.min[i] = self.min[i].min(x);
            self.max[i] = self.max[i].max(x);
        }
    }
    fn merge(mut self, o: Ranges) -> Ranges {
        for i in 0..N_BLOCKS + 2 {
            self.min[i] = self.min[i].min(o.min[i]);
            self.max[i] = self.max[i].max(o.max[i]);
        }
        self.top_two = [
            self.top_two[0].min(o.top_two[0]),
            self.top_two[1].max(o.top_two[1]),
        ];
        self
    }
    /// The ranges with the logits' range narrowed to [`Ranges::top_two`], for a classifier: only
    /// the top of the logits decides the class, and over the full range (some classes' logits
    /// reach -15) the int8 step can tie the two top classes. Lower logits saturate at -128, so
    /// the scores of unlikely classes become upper bounds. Unchanged when no segment had two
    /// logits.
    pub fn for_argmax(mut self) -> Self {
        if self.top_two[0] <= self.top_two[1] {
            self.min[N_BLOCKS + 1] = self.top_two[0];
            self.max[N_BLOCKS + 1] = self.top_two[1];
        }
        self
    }
    /// The activation quantisation of tensor `i`.
    pub fn qparams(&self, i: usize) -> QParams {
        QParams::from_range(self.min[i], self.max[i])
    }
}

/// How far below each calibration segment's second-largest logit the logits' int8 range reaches.
pub const LOGIT_SLACK: f32 = 0.25;

/// Runs the f32 model on `segments` (each `[n_mels, frames]` log-mel, not normalised) and
/// records every tensor's range (in parallel), and the range of each segment's two largest
/// logits (see [`Ranges::for_argmax`]).
///
/// # Errors
/// A segment of the wrong size or with non-finite values.
pub fn calibrate(f32_model: &OwnedModel, segments: &[&[f32]]) -> anyhow::Result<Ranges> {
    let bytes = f32_model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    let model = Model::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(
        !segments.is_empty(),
        "calibration needs at least one segment"
    );
    segments
        .par_iter()
        .enumerate()
        .map(|(k, mel)| -> anyhow::Result<Ranges> {
            let input = executor::encode_segment::<f32>(&model, mel)
                .map_err(|e| anyhow::anyhow!("calibration segment {k}: {e}"))?;
            let outs = executor::reference_forward::<f32>(&model, &input)
                .map_err(|e| anyhow::anyhow!("calibration segment {k}: {e}"))?;
            let mut r = Ranges::empty();
            r.add(0, &input);
            for (i, o) in outs.iter().enumerate() {
                r.add(i + 1, o);
                if i + 1 == N_BLOCKS + 1 && o.len() >= 2 {
                    let mut v = o.to_vec();
                    v.sort_by(|a, b| b.total_cmp(a));
                    r.top_two[0] = r.top_two[0].min(v[1] - LOGIT_SLACK);
                    r.top_two[1] = r.top_two[1].max(v[0]);
                }
            }
            Ok(r)
        })
        .try_reduce(Ranges::empty, |a, b| Ok(a.merge(b)))
}

fn requant(s_in: f32, s_w: f32, s_out: f32) -> anyhow::Result<Requantizer> {
    Requantizer::from_scale(f64::from(s_in) * f64::from(s_w) / f64::from(s_out)).map_err(|e| {
        anyhow::anyhow!("requantisation {s_in} * {s_w} / {s_out} is not representable: {e}")
    })
}

/// Quantises weights `[n_scales][per]` (one symmetric scale per row) and the bias; returns the
/// layer's parameters.
fn int8_params(
    w: &[f32],
    bias: &[f32],
    n_scales: usize,
    s_in: f32,
    out: QParams,
) -> anyhow::Result<OwnedParams> {
    let per = w.len() / n_scales;
    let mut q = vec![0i8; w.len()];
    let mut scales = Vec::with_capacity(n_scales);
    let (mut mults, mut shifts) = (Vec::new(), Vec::new());
    for (row, qrow) in w.chunks_exact(per).zip(q.chunks_exact_mut(per)) {
        let s = quant::quantize_symmetric(row, qrow);
        let r = requant(s_in, s, out.scale)?;
        scales.push(s);
        mults.push(r.multiplier);
        shifts.push(r.shift);
    }
    let qb: Vec<i32> = bias
        .iter()
        .enumerate()
        .map(|(c, &b)| quant::quantize_bias(b, s_in, scales[if n_scales == 1 { 0 } else { c }]))
        .collect();
    Ok(OwnedParams::Int8 {
        weights: bytes::i8_bytes(&q),
        weight_scales: bytes::f32_le(&scales),
        bias: bytes::i32_le(&qb),
        multipliers: bytes::i32_le(&mults),
        shifts: bytes::i8_bytes(&shifts),
        output: out,
    })
}

/// Quantises an f32 model file (from [`to_f32`]) with calibration `ranges`.
///
/// # Errors
/// A model that is not an f32 baseline, or scales a requantizer cannot represent.
pub fn quantize(f32_model: &OwnedModel, ranges: &Ranges) -> anyhow::Result<OwnedModel> {
    ensure!(
        f32_model.input.quant.is_none(),
        "{}: already quantised",
        f32_model.name
    );
    let in_q = ranges.qparams(0);
    let mut s_in = in_q.scale;
    let mut layers = Vec::with_capacity(f32_model.layers.len());
    for (i, layer) in f32_model.layers.iter().enumerate() {
        layers.push(match layer {
            OwnedLayer::Conv {
                in_ch,
                out_ch,
                params: OwnedParams::F32 { weights, bias },
            } => {
                // ReLU output: the range starts at 0.
                let out = QParams::from_range(0.0, ranges.max[i + 1]);
                let p = int8_params(&f32s(weights), &f32s(bias), usize::from(*out_ch), s_in, out)?;
                s_in = out.scale;
                OwnedLayer::Conv {
                    in_ch: *in_ch,
                    out_ch: *out_ch,
                    params: p,
                }
            }
            OwnedLayer::Dense {
                in_features,
                out_features,
                params: OwnedParams::F32 { weights, bias },
            } => {
                let out = ranges.qparams(N_BLOCKS + 1);
                OwnedLayer::Dense {
                    in_features: *in_features,
                    out_features: *out_features,
                    params: int8_params(&f32s(weights), &f32s(bias), 1, s_in, out)?,
                }
            }
            _ => bail!("{}: layer {i} is not f32", f32_model.name),
        });
    }
    let model = OwnedModel {
        name: f32_model.name.clone(),
        classes: f32_model.classes.clone(),
        input: InputSpec {
            quant: Some(in_q),
            ..f32_model.input
        },
        layers,
        frontend: f32_model.frontend,
    };
    let bytes = model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    Model::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("exported int8 model is invalid: {e}"))?;
    Ok(model)
}

fn f32s(b: &[u8]) -> Vec<f32> {
    (0..b.len() / 4).map(|i| format::f32_at(b, i)).collect()
}

/// Crops (from the start) or pads (with `pad`, e.g. the normalisation mean, i.e. 0 after
/// normalisation, as the trainer pads) example `i` to `[n_mels, frames]`.
///
/// # Errors
/// The example cannot be read from the feature cache, or has an inconsistent size.
pub fn segment(ex: &Examples, i: usize, frames: usize, pad: f32) -> anyhow::Result<Vec<f32>> {
    let mut out = vec![pad; ex.n_mels * frames];
    train::crop_example(ex, i, 0, frames, &mut out, |s| s)?;
    Ok(out)
}

/// The calibration segments: `n` training examples picked by a seeded shuffle (all if fewer).
///
/// # Errors
/// As [`segment`].
pub fn calibration_set(
    ex: &Examples,
    n: usize,
    frames: usize,
    pad: f32,
    seed: u64,
) -> anyhow::Result<Vec<Vec<f32>>> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut idx: Vec<usize> = (0..ex.len()).collect();
    idx.shuffle(&mut rand::rngs::Xoshiro256PlusPlus::seed_from_u64(
        seed ^ 0x6361_6c69_6272,
    ));
    idx.truncate(n);
    idx.iter().map(|&i| segment(ex, i, frames, pad)).collect()
}

/// Exports a run directory: f32, or int8 calibrated on the run's training segments (obtained
/// through [`train::prepare`]; `data` overrides where the run's data is read from).
///
/// # Errors
/// Not a baseline run, unreadable checkpoint, data errors, quantisation errors.
pub fn export_run(
    run_dir: &Path,
    precision: Precision,
    data: Option<DataSource>,
) -> anyhow::Result<OwnedModel> {
    let (cfg, plain) = plain::load_baseline(run_dir)?;
    let file = train::RunFile::read(run_dir)?;
    let name = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let f32_model = to_f32(&plain, &name, &file.genres)
        .with_context(|| format!("exporting {}", run_dir.display()))?;
    let Precision::Int8 { calibrate: n } = precision else {
        return Ok(f32_model);
    };
    ensure!(n >= 1, "--calibrate must be at least 1");
    let cfg = RunConfig {
        data: data.unwrap_or(cfg.data),
        ..cfg
    };
    let prepared = train::prepare(&cfg)
        .with_context(|| format!("{}: loading calibration data", run_dir.display()))?;
    ensure!(
        prepared.train.n_mels == plain.n_mels,
        "the calibration data has {} mel bands, the model {}",
        prepared.train.n_mels,
        plain.n_mels
    );
    let set = calibration_set(&prepared.train, n, plain.frames, plain.input_mean, cfg.seed)?;
    ensure!(!set.is_empty(), "the run's training set is empty");
    let refs: Vec<&[f32]> = set.iter().map(Vec::as_slice).collect();
    let ranges = calibrate(&f32_model, &refs)?.for_argmax();
    quantize(&f32_model, &ranges)
}

/// Logits of an exported model on one `[n_mels, frames]` log-mel segment, as reals (int8
/// logits dequantised).
///
/// # Errors
/// infer-core errors (wrong size, non-finite input).
pub fn logits(model: &Model<'_>, mel: &[f32]) -> Result<Vec<f32>, infer_core::Error> {
    fn run<A: Act>(
        model: &Model<'_>,
        mel: &[f32],
        q: Option<QParams>,
    ) -> Result<Vec<f32>, infer_core::Error> {
        let mut exec = Box::new(executor::Executor::<A>::new());
        let mut out = vec![A::default(); model.classes().len()];
        executor::run_logmel(model, &mut exec, mel, &mut (), &mut out)?;
        Ok(out.iter().map(|v| v.to_real(q)).collect())
    }
    match model.precision() {
        infer_core::model::Precision::F32 => run::<f32>(model, mel, None),
        infer_core::model::Precision::Int8 => run::<i8>(model, mel, model.logits_quant()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontend_for_study_and_toy_inputs() {
        let (fe, s) = frontend_for(128, 130).unwrap();
        assert_eq!((fe, s), (FrontendConfig::DEFAULT, 66150));
        let (fe, s) = frontend_for(32, 40).unwrap();
        assert_eq!(fe.n_mels, 32);
        assert_eq!(fe.n_frames(s as usize), 40);
        assert!(frontend_for(0, 40).is_err());
    }

    #[test]
    fn layout_permutations_match_hand_indices() {
        let c = plain::PlainConv {
            out_channels: 2,
            in_channels: 3,
            weight: (0..54).map(|i| i as f32).collect(),
            bias: vec![0.0; 2],
        };
        let w = ohwi(&c);
        // [o=1][k=4 (centre)][i=2] <- [o=1][i=2][1][1] = (1*3 + 2)*9 + 4
        assert_eq!(w[(9 + 4) * 3 + 2], 49.0);
        let d = plain::PlainDense {
            out_features: 1,
            in_features: 12,
            weight: (0..12).map(|i| i as f32).collect(),
            bias: vec![0.0],
        };
        // 2 channels x 2 mels x 3 frames: file (m=1, t=2, c=1) <- Burn (c=1, m=1, t=2) = 6+3+2
        let w = dense_hwc(&d, 2, 2, 3);
        assert_eq!(w[(3 + 2) * 2 + 1], 11.0);
        assert_eq!(w[1], 6.0); // (m0 t0 c1) <- c1 m0 t0
    }
}
