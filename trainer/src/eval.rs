//! Evaluation: batched inference on a plain (non-autodiff) device and re-evaluation of a
//! finished run (`trainer eval --run`).

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::metrics::{self, Metrics};
use crate::models::Model;
use crate::train::{self, Examples, Normalisation, RunFile};

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
            .filter(|(p, y)| {
                let best = p
                    .iter()
                    .enumerate()
                    .fold(0, |b, (i, &v)| if v > p[b] { i } else { b });
                best == **y
            })
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
        let x = train::batch_input(ex, chunk, &vec![0; b], frames, norm)?;
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

/// Fill a [`Metrics`] record from an evaluation and the run's config.
pub fn assemble(file: &RunFile, ev: metrics::Evaluation, seconds: f64, epochs: usize) -> Metrics {
    let mut per_class = ev.per_class;
    for (c, g) in per_class.iter_mut().zip(&file.genres) {
        c.genre = g.clone();
    }
    Metrics {
        segment_accuracy: ev.segment_accuracy,
        track_accuracy: ev.track_accuracy,
        genres: file.genres.clone(),
        per_class,
        confusion_segments: ev.confusion_segments,
        confusion_tracks: ev.confusion_tracks,
        epochs,
        seconds,
        model: file.run.model_name(),
        aug: file.run.aug.clone(),
        seed: file.run.seed,
        dataset_fingerprint: file.dataset_fingerprint.clone(),
    }
}

/// Re-evaluate a run's last checkpoint on its test split (optionally reading the audio from
/// `data` instead of the path recorded in the run).
pub fn evaluate_run(run_dir: &Path, data: Option<&Path>) -> anyhow::Result<Metrics> {
    let file = RunFile::read(run_dir)?;
    let mut cfg = file.run.clone();
    if let Some(p) = data {
        cfg.data = train::DataSource::Path {
            path: p.to_path_buf(),
        };
    }
    let prepared = train::prepare(&cfg)?;
    let device = cfg.device.device()?;
    let model = train::load_model(run_dir, &file, &device)?;
    let pred = predict(
        &model,
        &prepared.test,
        file.model.frames,
        file.normalisation(),
        cfg.batch,
        &device,
    )?;
    let ev = metrics::evaluate(
        file.genres.len(),
        &prepared.test.labels,
        &prepared.test.tracks,
        &pred.probs,
    );
    let (epochs, seconds) = match std::fs::read(run_dir.join("metrics.json")) {
        Ok(b) => serde_json::from_slice::<Metrics>(&b)
            .map(|m| (m.epochs, m.seconds))
            .unwrap_or((cfg.epochs, 0.0)),
        Err(_) => (cfg.epochs, 0.0),
    };
    Ok(assemble(&file, ev, seconds, epochs))
}
