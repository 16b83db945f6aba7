//! Classify one audio file with a trained run (Burn): cut it into the run's segments and compute
//! each segment's log-mel exactly as training did ([`loader::input_spec`]: 3 s segments through
//! librosa's default front end, or the whole track through the HTK front end for `arbitrary`,
//! cropped from its start), normalise with the run's scalar mean and standard deviation, and take
//! the majority vote over the segments' predictions (ties broken by summed probabilities, as in
//! evaluation).

use std::path::Path;

use anyhow::{Context, ensure};

use crate::base::metrics;
use crate::data::cache;
use crate::evaluate::inference::{self, argmax};
use crate::run::checkpoint;
use crate::run::config::RunFile;
use crate::run::examples::{Examples, FeatureStore};
use crate::run::loader;

/// One segment's prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentPrediction {
    /// Start of the segment in the file, seconds.
    pub start_seconds: f64,
    /// Softmax probability of each genre.
    pub probs: Vec<f32>,
}

/// The classification of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    /// Genre names, index = class id.
    pub genres: Vec<String>,
    /// Each segment's prediction, in time order.
    pub segments: Vec<SegmentPrediction>,
    /// Segments voting for each genre (arg-max).
    pub votes: Vec<usize>,
    /// Mean probability of each genre over the segments.
    pub mean_probs: Vec<f64>,
    /// The majority vote.
    pub genre: usize,
    /// Whether the file was shorter than one segment (zero-padded).
    pub padded: bool,
}

impl Classification {
    /// Genre ids sorted by (votes, mean probability), best first.
    pub fn ranking(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.genres.len()).collect();
        ids.sort_by(|&a, &b| {
            (self.votes[b], self.mean_probs[b])
                .partial_cmp(&(self.votes[a], self.mean_probs[a]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        ids.sort_by_key(|&g| usize::from(g != self.genre)); // the vote's winner first
        ids
    }
}

/// The log-mel segments of `samples` (mono, at the sample rate of the run's front end,
/// [`loader::input_spec`]) as the run's model sees them, their start times in seconds, and
/// whether the signal was shorter than one segment (zero-padded).
pub fn segment_features(
    samples: &[f32],
    file: &RunFile,
) -> anyhow::Result<(Examples, Vec<f64>, bool)> {
    let (fe, seg, _) = loader::input_spec(file.model.kind, file.run.sample_rate);
    let sr = fe.sample_rate;
    ensure!(
        file.model.n_mels == fe.n_mels as usize,
        "the run's model takes {} mel bands but its front end computes {} (was it trained on the toy set?)",
        file.model.n_mels,
        fe.n_mels
    );
    let (cut, starts) = cut_with_starts(&seg, samples, sr)?;
    let mut features = Vec::with_capacity(cut.segments.len());
    for (i, s) in cut.segments.iter().enumerate() {
        let (n_mels, frames, x) =
            cache::log_mel(&fe, s).map_err(|e| anyhow::anyhow!("segment {i}: {e}"))?;
        ensure!(
            x.len() == n_mels * frames,
            "segment {i}: front end returned {} values for {n_mels} x {frames}",
            x.len()
        );
        features.push(x);
    }
    let n = features.len();
    let ex = Examples {
        n_mels: fe.n_mels as usize,
        features: FeatureStore::Memory(features),
        labels: vec![0; n],
        tracks: vec![0; n],
    };
    Ok((ex, starts, cut.padded))
}

/// Classify `samples` (mono, at the sample rate of the run's front end) with the run in
/// `run_dir`.
pub fn classify_samples(run_dir: &Path, samples: &[f32]) -> anyhow::Result<Classification> {
    let file = RunFile::read(run_dir)?;
    let (ex, starts, padded) = segment_features(samples, &file)?;
    let device = file.run.device.device()?;
    let model = checkpoint::load_model(run_dir, &file, &device)?;
    let pred = inference::predict(
        &model,
        &ex,
        file.model.frames,
        file.normalisation(),
        file.run.batch,
        &device,
    )?;
    Ok(summarise(file.genres.clone(), starts, pred.probs, padded))
}

/// Classifies `samples` (mono, at the model's sample rate) with an exported model file run by
/// infer-core on the host (f32 or int8): 3 s segments, per-segment posteriors and the vote.
///
/// # Errors
/// An invalid model file (infer-core's error, named), a model whose input is not a 3 s segment
/// of its own front end, front-end errors.
pub fn classify_model_samples(
    model_path: &Path,
    bytes: &[u8],
    samples: &[f32],
) -> anyhow::Result<Classification> {
    let model = infer_core::model::Model::from_bytes(bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    let fe = *model.frontend();
    let seg = crate::base::segment::SegmentConfig::default();
    let sr = fe.sample_rate;
    let (n_mels, frames) = (model.dims().mels[0], model.dims().frames[0]);
    let seg_samples = (seg.seconds * sr as f32).round() as usize;
    ensure!(
        fe.n_frames(seg_samples) == frames && fe.n_mels as usize == n_mels,
        "{}: the model takes {n_mels} x {frames} log-mel inputs, not a {} s segment of its front end",
        model_path.display(),
        seg.seconds
    );
    let (cut, starts) = cut_with_starts(&seg, samples, sr)?;
    let mut probs = Vec::with_capacity(cut.segments.len());
    for (i, s) in cut.segments.iter().enumerate() {
        let (m, f, x) = cache::log_mel(&fe, s).map_err(|e| anyhow::anyhow!("segment {i}: {e}"))?;
        let ex = Examples {
            n_mels: m,
            features: FeatureStore::Memory(vec![x]),
            labels: vec![0],
            tracks: vec![0],
        };
        ensure!(
            f == frames,
            "segment {i}: {f} frames, the model takes {frames}"
        );
        let x = inference::segment(&ex, 0, frames, model.input().mean)?;
        let logits = inference::logits(&model, &x)
            .map_err(|e| anyhow::anyhow!("{}: segment {i}: {e}", model_path.display()))?;
        probs.push(metrics::softmax(&logits));
    }
    let genres = model.classes().iter().map(|c| c.to_string()).collect();
    Ok(summarise(genres, starts, probs, cut.padded))
}

/// The segments of `samples` and the start of each, in seconds.
fn cut_with_starts(
    seg: &crate::base::segment::SegmentConfig,
    samples: &[f32],
    sr: u32,
) -> anyhow::Result<(crate::base::segment::Segments, Vec<f64>)> {
    let cut = seg.cut(samples, sr)?;
    let starts = seg
        .starts(samples.len(), sr)?
        .into_iter()
        .map(|s| s as f64 / f64::from(sr))
        .collect();
    Ok((cut, starts))
}

/// Votes and mean posteriors of per-segment posteriors.
fn summarise(
    genres: Vec<String>,
    starts: Vec<f64>,
    probs: Vec<Vec<f32>>,
    padded: bool,
) -> Classification {
    let n = genres.len();
    let mut votes = vec![0usize; n];
    let mut mean_probs = vec![0f64; n];
    for p in &probs {
        votes[argmax(p)] += 1;
        for (m, &v) in mean_probs.iter_mut().zip(p) {
            *m += v as f64 / probs.len() as f64;
        }
    }
    let refs: Vec<&[f32]> = probs.iter().map(Vec::as_slice).collect();
    let genre = metrics::vote(&refs, n);
    Classification {
        genres,
        segments: starts
            .into_iter()
            .zip(probs)
            .map(|(start_seconds, probs)| SegmentPrediction {
                start_seconds,
                probs,
            })
            .collect(),
        votes,
        mean_probs,
        genre,
        padded,
    }
}

/// Classify an audio file (WAV or .au; resampled to the front end's rate, down-mixed to mono).
pub fn classify_file(run_dir: &Path, audio: &Path) -> anyhow::Result<Classification> {
    let file = RunFile::read(run_dir)?;
    let (fe, _, _) = loader::input_spec(file.model.kind, file.run.sample_rate);
    // the decoder's errors name the file
    let samples = crate::base::audio::load_mono(audio, fe.sample_rate)?;
    classify_samples(run_dir, &samples).with_context(|| format!("classifying {}", audio.display()))
}

/// [`classify_model_samples`] on an audio file (decoded and resampled to the model's rate).
///
/// # Errors
/// As [`classify_model_samples`], and the file's read or decode errors.
pub fn classify_file_with_model(model_path: &Path, audio: &Path) -> anyhow::Result<Classification> {
    let bytes =
        std::fs::read(model_path).with_context(|| format!("reading {}", model_path.display()))?;
    let model = infer_core::model::Model::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    // the decoder's errors name the file
    let samples = crate::base::audio::load_mono(audio, model.frontend().sample_rate)?;
    classify_model_samples(model_path, &bytes, &samples)
        .with_context(|| format!("classifying {}", audio.display()))
}
