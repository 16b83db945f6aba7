//! Host inference: a Burn network over a set of examples ([`predict`]), and an exported model
//! run by infer-core on one log-mel segment ([`segment`], [`logits`]), with the class decision
//! ([`argmax`], [`softmax`]) shared by evaluation, classification and the device cross-check.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use infer_core::executor::{self, Act};
use infer_core::model::Model as FileModel;
use infer_core::quant::QParams;

pub use crate::base::metrics::{argmax, softmax};
use crate::models::Model;
use crate::run::config::Normalisation;
use crate::run::examples::{Examples, batch_input, crop_example};

/// Predictions on a set of examples.
#[derive(Clone, Debug)]
pub struct Predictions {
    /// Softmax probabilities, one vector per example.
    pub probs: Vec<Vec<f32>>,
    /// Mean cross-entropy against the examples' labels.
    pub loss: f64,
}

impl Predictions {
    /// Fraction of examples whose arg-max is the label.
    pub fn accuracy(&self, labels: &[usize]) -> f64 {
        let ok = self
            .probs
            .iter()
            .zip(labels)
            .filter(|(p, y)| argmax(p) == **y)
            .count();
        ok as f64 / labels.len().max(1) as f64
    }
}

/// Run `model` (in eval mode: `model.valid()`) over `ex`, each example cropped from its start to
/// `frames` and normalised.
pub fn predict(
    model: &Model,
    ex: &Examples,
    frames: usize,
    norm: Normalisation,
    batch: usize,
    device: &Device,
) -> anyhow::Result<Predictions> {
    let (m, n) = (ex.n_mels, ex.len());
    let mut probs = Vec::with_capacity(n);
    let mut loss = 0f64;
    let idx: Vec<usize> = (0..n).collect();
    for chunk in idx.chunks(batch.max(1)) {
        let b = chunk.len();
        let x = batch_input(ex, chunk, &vec![0; b], frames, norm)?;
        let xt = Tensor::<4>::from_data(TensorData::new(x, [b, 1, m, frames]), device);
        let logp = log_softmax(model.forward(xt), 1); // [b, classes]
        let c = logp.dims()[1];
        let v = logp
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for (k, &i) in chunk.iter().enumerate() {
            let row = &v[k * c..(k + 1) * c];
            loss -= row.get(ex.labels[i]).copied().unwrap_or(f32::NEG_INFINITY) as f64;
            probs.push(row.iter().map(|l| l.exp()).collect());
        }
    }
    Ok(Predictions {
        probs,
        loss: loss / n.max(1) as f64,
    })
}

/// Crops (from the start) or pads (with `pad`, e.g. the normalisation mean, i.e. 0 after
/// normalisation, as the trainer pads) example `i` to `[n_mels, frames]`.
///
/// # Errors
/// The example cannot be read from the feature cache, or has an inconsistent size.
pub fn segment(ex: &Examples, i: usize, frames: usize, pad: f32) -> anyhow::Result<Vec<f32>> {
    let mut out = vec![pad; ex.n_mels * frames];
    crop_example(ex, i, 0, frames, &mut out, |s| s)?;
    Ok(out)
}

/// Logits of an exported model on one `[n_mels, frames]` log-mel segment, as reals (int8
/// logits dequantised).
///
/// # Errors
/// infer-core errors (wrong size, non-finite input).
pub fn logits(model: &FileModel<'_>, mel: &[f32]) -> Result<Vec<f32>, infer_core::Error> {
    fn run<A: Act>(
        model: &FileModel<'_>,
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
