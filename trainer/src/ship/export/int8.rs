//! int8 post-training quantisation of an f32 model file, TFLite / CMSIS-NN style:
//! - weights: symmetric int8, one scale per output channel for convolutions (`max|w| / 127`),
//!   one per tensor for the dense layer;
//! - activations: asymmetric int8, one `(scale, zero_point)` per tensor from the min/max seen on
//!   the calibration segments (the input after normalisation and positional encoding, each
//!   block's pooled output, the logits), widened to include 0;
//! - bias: int32 with scale `input_scale * weight_scale[c]`;
//! - requantisation: infer-core's [`Requantizer`] (Q31 multiplier + shift) of
//!   `input_scale * weight_scale[c] / output_scale`.

use anyhow::{bail, ensure};
use infer_core::executor;
use infer_core::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
use infer_core::format::{self, InputSpec, bytes};
use infer_core::model::{Model, N_BLOCKS};
use infer_core::quant::{self, QParams, Requantizer};
use rayon::prelude::*;

use crate::base::progress::Progress;

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
    let progress = Progress::new("calibration", segments.len(), "segments");
    let ranges = segments
        .par_iter()
        .enumerate()
        .map(|(k, mel)| -> anyhow::Result<Ranges> {
            progress.inc();
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
        .try_reduce(Ranges::empty, |a, b| Ok(a.merge(b)));
    progress.finish();
    eprintln!(
        "calibration: {} segments, {:.1} s",
        progress.done(),
        progress.seconds()
    );
    ranges
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
        mults.push(r.multiplier());
        shifts.push(r.shift());
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
    format::f32s(b).collect()
}
