//! Evaluation of a finished run: its Burn network on the test split (`trainer eval --run`), and
//! an exported model run by infer-core on the host beside it (`trainer eval --model`).

use std::path::Path;

use crate::base::metrics::{self, Metrics};
use crate::base::progress::Progress;
use crate::evaluate::inference::{self, argmax, predict, softmax};
use crate::run::checkpoint::load_model;
use crate::run::config::{DataSource, METRICS_JSON, RunConfig, RunFile};
use crate::run::examples::Examples;
use crate::run::loader::{discover, prepare, prepare_discovered};

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
        selected_epoch: None,
    }
}

/// Re-evaluate a run's last checkpoint on its test split (optionally reading the audio from
/// `data` instead of the path recorded in the run, and cutting the test tracks at `test_hop`
/// seconds instead of the run's own test hop).
pub fn evaluate_run(
    run_dir: &Path,
    data: Option<&Path>,
    test_hop: Option<f32>,
) -> anyhow::Result<Metrics> {
    let file = RunFile::read(run_dir)?;
    let mut cfg = file.run.clone();
    if let Some(p) = data {
        cfg.data = DataSource::Path {
            path: p.to_path_buf(),
        };
    }
    cfg.override_test_hop(test_hop)?;
    let prepared = prepare(&cfg)?;
    let device = cfg.device.device()?;
    let model = load_model(run_dir, &file, &device)?;
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
    let (epochs, seconds) = match std::fs::read(run_dir.join(METRICS_JSON)) {
        Ok(b) => serde_json::from_slice::<Metrics>(&b)
            .map(|m| (m.epochs, m.seconds))
            .unwrap_or((cfg.epochs, 0.0)),
        Err(_) => (cfg.epochs, 0.0),
    };
    Ok(assemble(&file, ev, seconds, epochs))
}

/// `trainer eval --model`: an exported model run by infer-core on the host, optionally beside
/// the Burn model of its run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelEval {
    /// The model file.
    pub model_file: String,
    /// The model's name.
    pub name: String,
    /// `f32` or `int8`.
    pub precision: String,
    /// Size of the model file (flash), bytes.
    pub file_bytes: usize,
    /// Test segments evaluated.
    pub segments: usize,
    /// Fraction of test segments classified correctly by infer-core.
    pub segment_accuracy: f64,
    /// Fraction of test tracks whose majority vote is correct.
    pub track_accuracy: f64,
    /// Segment confusion matrix (rows = true genre, columns = predicted).
    pub confusion_segments: Vec<Vec<usize>>,
    /// The Burn model's segment accuracy on the same segments (when the run is known).
    pub float_segment_accuracy: Option<f64>,
    /// The Burn model's track accuracy (when the run is known).
    pub float_track_accuracy: Option<f64>,
    /// Fraction of segments where infer-core's top-1 equals the Burn model's (when the run is
    /// known).
    pub top1_agreement_with_float: Option<f64>,
    /// The reference model file's segment accuracy on the same segments (`--reference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_segment_accuracy: Option<f64>,
    /// Fraction of segments where this model's top-1 equals the reference model file's
    /// (`--reference`, e.g. the f32 export beside an int8 one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top1_agreement_with_reference: Option<f64>,
}

/// The logits of an exported model (`bytes`, read from `path`) on every example of `test`, run
/// with infer-core in parallel; checks that the model's input and classes fit the data.
/// A model's classes must be the dataset's genres, by name and in order (a model scores folder
/// `g` with its class `g`).
///
/// # Errors
/// Names that differ: both lists are named.
pub fn check_classes(path: &Path, classes: &[&str], genres: &[String]) -> anyhow::Result<()> {
    let same = classes.len() == genres.len()
        && classes
            .iter()
            .zip(genres)
            .all(|(c, g)| c.eq_ignore_ascii_case(g));
    anyhow::ensure!(
        same,
        "{}: the model's classes {:?} are not the data's genre folders {:?}",
        path.display(),
        classes,
        genres
    );
    Ok(())
}

fn model_logits(
    path: &Path,
    bytes: &[u8],
    test: &Examples,
    n_genres: usize,
) -> anyhow::Result<Vec<Vec<f32>>> {
    use rayon::prelude::*;
    let model = infer_core::model::Model::from_bytes(bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (n_mels, frames) = (model.dims().mels[0], model.dims().frames[0]);
    anyhow::ensure!(
        test.n_mels == n_mels,
        "{}: the model takes {n_mels} mel bands, the data has {}",
        path.display(),
        test.n_mels
    );
    anyhow::ensure!(
        model.classes().len() == n_genres,
        "{}: {} classes, the data {n_genres}",
        path.display(),
        model.classes().len()
    );
    let mean = model.input().mean;
    let label = format!("evaluation ({})", path.display());
    let progress = Progress::new(&label, test.len(), "segments");
    let logits = (0..test.len())
        .into_par_iter()
        .map(|i| {
            progress.inc();
            let seg = inference::segment(test, i, frames, mean)?;
            inference::logits(&model, &seg)
                .map_err(|e| anyhow::anyhow!("{}: test segment {i}: {e}", path.display()))
        })
        .collect();
    progress.finish();
    logits
}

/// Fraction of rows where the two score vectors have the same arg-max.
fn top1_agreement(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| argmax(x) == argmax(y))
        .count();
    same as f64 / a.len().max(1) as f64
}

/// Evaluates the model file `model_path` with infer-core over the test split of `cfg`'s data.
/// With `run_dir`, the run's Burn model is evaluated on the same segments too; with `reference`,
/// another model file (e.g. the f32 export beside an int8 one).
///
/// # Errors
/// Unreadable or invalid model file (the infer-core error is named), data errors, a model whose
/// input shape does not fit the data.
pub fn evaluate_model(
    model_path: &Path,
    cfg: &RunConfig,
    run_dir: Option<&Path>,
    reference: Option<&Path>,
) -> anyhow::Result<ModelEval> {
    use anyhow::Context;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let bytes = read(model_path)?;
    let model = infer_core::model::Model::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    // Features at the model's own sample rate (a 16 kHz model reads its audio at 16 kHz).
    let rate = model.frontend().sample_rate;
    let mut cfg = cfg.clone();
    if crate::models::frontend_at(rate).is_some() {
        cfg.sample_rate = rate;
    }
    let cfg = &cfg;
    // The classes by name first, from the folder names alone, before any feature is computed;
    // the dataset is discovered once and handed on.
    let prepared = match discover(cfg)? {
        Some(found) => {
            check_classes(model_path, model.classes(), &found.dataset.genres)?;
            prepare_discovered(cfg, found)?.0
        }
        None => {
            let prepared = prepare(cfg)?;
            check_classes(model_path, model.classes(), &prepared.genres)?;
            prepared
        }
    };
    let test = &prepared.test;
    anyhow::ensure!(!test.is_empty(), "the test split is empty");
    let n_classes = prepared.genres.len();
    eprintln!(
        "eval: {} test tracks, {} segments ({} split)",
        test.tracks
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        test.len(),
        cfg.split
    );
    let logits = model_logits(model_path, &bytes, test, n_classes)?;
    let probs: Vec<Vec<f32>> = logits.iter().map(|l| softmax(l)).collect();
    let (mut rs, mut ra) = (None, None);
    if let Some(r) = reference {
        let rb = read(r)?;
        let rm = infer_core::model::Model::from_bytes(&rb)
            .map_err(|e| anyhow::anyhow!("{}: {e}", r.display()))?;
        check_classes(r, rm.classes(), &prepared.genres)?;
        let rl = model_logits(r, &rb, test, n_classes)?;
        let rprobs: Vec<Vec<f32>> = rl.iter().map(|l| softmax(l)).collect();
        rs = Some(
            metrics::evaluate(n_classes, &test.labels, &test.tracks, &rprobs).segment_accuracy,
        );
        ra = Some(top1_agreement(&probs, &rprobs));
    }
    let ev = metrics::evaluate(n_classes, &test.labels, &test.tracks, &probs);
    let (mut fs, mut ft, mut agree) = (None, None, None);
    if let Some(run) = run_dir {
        let file = RunFile::read(run)?;
        let device = file.run.device.device()?;
        let burn = load_model(run, &file, &device)?;
        let pred = predict(
            &burn,
            test,
            file.model.frames,
            file.normalisation(),
            file.run.batch,
            &device,
        )?;
        let fev = metrics::evaluate(n_classes, &test.labels, &test.tracks, &pred.probs);
        fs = Some(fev.segment_accuracy);
        ft = Some(fev.track_accuracy);
        agree = Some(top1_agreement(&probs, &pred.probs));
    }
    Ok(ModelEval {
        model_file: model_path.display().to_string(),
        name: model.name().to_string(),
        precision: match model.precision() {
            infer_core::model::Precision::F32 => "f32".into(),
            infer_core::model::Precision::Int8 => "int8".into(),
        },
        file_bytes: bytes.len(),
        segments: test.len(),
        segment_accuracy: ev.segment_accuracy,
        track_accuracy: ev.track_accuracy,
        confusion_segments: ev.confusion_segments,
        float_segment_accuracy: fs,
        float_track_accuracy: ft,
        top1_agreement_with_float: agree,
        reference_segment_accuracy: rs,
        top1_agreement_with_reference: ra,
    })
}
