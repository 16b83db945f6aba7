//! The classic baseline on a run's split: the MFCC mean/std + RBF SVM of [`crate::classic`],
//! fitted on exactly the tracks the run's CNN trained on and scored on exactly its test tracks,
//! both read from the run's `split/train.txt` and `split/test.txt` (a `cv` fold, a `reproduce`
//! run, a `trainer run`).
//!
//! Features are those of `librosa.feature.mfcc` on the whole track (the default front end at
//! 22050 Hz, 20 MFCCs, mean and standard deviation over frames: 40 numbers), computed once per
//! track and kept for the other folds.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, ensure};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::base::audio;
use crate::base::dataset::Dataset;
use crate::base::fsio::write_json;
use crate::base::progress::Progress;
use crate::classic::{self, TrackFeatures};
use crate::data::cache::FrontendConfig;
use crate::data::split::Split;
use crate::run::config::{RunFile, SPLIT_DIR};

/// `classic.json`: the classic baseline's result on one fold, beside the fold's `metrics.json`.
pub const CLASSIC_JSON: &str = "classic.json";

/// The contents of `<fold>/classic.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassicFold {
    /// Fraction of test tracks classified correctly.
    pub track_accuracy: f64,
    /// Genre names, index = class id.
    pub genres: Vec<String>,
    /// Track confusion matrix, rows = true genre, columns = predicted.
    pub confusion_tracks: Vec<Vec<usize>>,
    /// Training tracks (relative paths, as in `split/train.txt`).
    pub train: Vec<String>,
    /// Test tracks (relative paths, as in `split/test.txt`), in the order of `predictions`.
    pub test: Vec<String>,
    /// Predicted genre of each test track.
    pub predictions: Vec<String>,
    /// Fingerprint of the dataset (the fold run's).
    pub dataset_fingerprint: String,
    /// Wall time of feature extraction (this fold's share) and fitting, seconds.
    pub seconds: f64,
}

impl ClassicFold {
    /// Read `classic.json` of a fold directory; `None` when it is missing or does not parse (a
    /// torn write counts as not done).
    pub fn read(fold_dir: &Path) -> Option<ClassicFold> {
        let b = std::fs::read(fold_dir.join(CLASSIC_JSON)).ok()?;
        serde_json::from_slice(&b).ok()
    }
}

/// A dataset and the classic features of the tracks computed so far.
pub struct ClassicData {
    dataset: Dataset,
    features: HashMap<usize, Vec<f32>>,
}

impl ClassicData {
    /// Discover the dataset at `root` (no features yet).
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        let dataset =
            Dataset::discover(root).with_context(|| format!("--data {}", root.display()))?;
        Ok(Self {
            dataset,
            features: HashMap::new(),
        })
    }

    /// The dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Compute the features of the tracks `ids` not computed yet (in parallel).
    fn ensure(&mut self, ids: &[usize]) -> anyhow::Result<()> {
        let todo: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|id| !self.features.contains_key(id))
            .collect();
        let cfg = FrontendConfig::DEFAULT;
        let progress = Progress::new("classic baseline features", todo.len(), "tracks");
        let done: Vec<(usize, Vec<f32>)> = todo
            .par_iter()
            .map(|&id| {
                progress.inc();
                let t = &self.dataset.tracks[id];
                let y = audio::load_mono(&t.path, cfg.sample_rate)
                    .with_context(|| format!("reading {}", t.path.display()))?;
                let f = TrackFeatures::from_samples(&cfg, &y)
                    .with_context(|| format!("MFCC features of {}", t.path.display()))?;
                Ok((id, f.to_vec()))
            })
            .collect::<anyhow::Result<_>>()?;
        progress.finish();
        self.features.extend(done);
        Ok(())
    }

    /// Fit the classic baseline on the fold run's training tracks and score it on its test tracks
    /// (both read from `<fold_dir>/split/`), and write `<fold_dir>/classic.json` atomically.
    ///
    /// # Errors
    /// Missing or unreadable split lists, a list naming a track the dataset lacks, a dataset that
    /// changed since the fold was trained (fingerprint), unreadable audio, the SVM's errors.
    pub fn evaluate_fold(&mut self, fold_dir: &Path) -> anyhow::Result<ClassicFold> {
        let start = Instant::now();
        let run = RunFile::read(fold_dir)?;
        let ds_fingerprint = self.dataset.fingerprint();
        ensure!(
            run.dataset_fingerprint == ds_fingerprint,
            "{}: trained on dataset {} but {} is now {}",
            fold_dir.display(),
            run.dataset_fingerprint,
            self.dataset.root.display(),
            ds_fingerprint
        );
        let split_dir = fold_dir.join(SPLIT_DIR);
        let split = Split::read(&split_dir, &self.dataset)
            .with_context(|| format!("reading the fold's split in {}", split_dir.display()))?;
        ensure!(
            !split.train.is_empty() && !split.test.is_empty(),
            "{}: empty training or test list",
            split_dir.display()
        );
        let all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
        self.ensure(&all)?;
        let rows = |ids: &[usize]| -> Vec<(Vec<f32>, usize)> {
            ids.iter()
                .map(|id| (self.features[id].clone(), self.dataset.tracks[*id].genre))
                .collect()
        };
        let r = classic::evaluate(&rows(&split.train), &rows(&split.test))
            .with_context(|| format!("classic baseline on {}", fold_dir.display()))?;
        let genres = self.dataset.genres.clone();
        let n = genres.len();
        let mut confusion = vec![vec![0usize; n]; n];
        for (&id, &p) in split.test.iter().zip(&r.predictions) {
            confusion[self.dataset.tracks[id].genre][p] += 1;
        }
        let rel = |ids: &[usize]| -> Vec<String> {
            ids.iter()
                .filter_map(|&i| self.dataset.relative_path(i))
                .collect()
        };
        let fold = ClassicFold {
            track_accuracy: r.track_accuracy,
            confusion_tracks: confusion,
            train: rel(&split.train),
            test: rel(&split.test),
            predictions: r.predictions.iter().map(|&p| genres[p].clone()).collect(),
            genres,
            dataset_fingerprint: ds_fingerprint,
            seconds: start.elapsed().as_secs_f64(),
        };
        write_json(&fold_dir.join(CLASSIC_JSON), &fold)?;
        eprintln!(
            "classic baseline (MFCC + SVM): {} training, {} test tracks, {:.1} s",
            fold.train.len(),
            fold.test.len(),
            fold.seconds
        );
        Ok(fold)
    }
}
