//! The cross-validation's summary: per fold and per method (the CNN, the classic baseline) the
//! segment and track accuracy, their mean and 95 % Student's t interval over folds
//! ([`crate::study::report::stats::summarize_accuracy`]), and the track confusion matrices summed over
//! folds; as a Markdown table (`cv.md`, also printed) and one confusion figure per method.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::ensure;
use serde::{Deserialize, Serialize};

use crate::evaluate::plot::Confusion;
use crate::study::report::stats::{Summary, summarize_accuracy};

/// One method's results over the folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// Display name, e.g. `CNN (baseline)`.
    pub method: String,
    /// Segment accuracy per fold, mean and interval; `None` for a method that classifies whole
    /// tracks only (the classic baseline).
    pub segment_accuracy: Option<Summary>,
    /// Track accuracy per fold (majority vote for the CNN), mean and interval.
    pub track_accuracy: Summary,
    /// Track confusion matrix summed over folds, rows = true genre, columns = predicted.
    pub confusion_tracks: Vec<Vec<usize>>,
}

/// The per-fold numbers of one method.
#[derive(Clone, Debug, Default)]
pub struct FoldScores {
    /// Segment accuracy of each fold (empty for a track-level method).
    pub segment: Vec<f64>,
    /// Track accuracy of each fold.
    pub track: Vec<f64>,
    /// Track confusion matrix of each fold.
    pub confusions: Vec<Vec<Vec<usize>>>,
}

impl MethodSummary {
    /// Summarise `scores` (one entry per fold, at least one; confusion matrices all n × n).
    pub fn new(method: &str, scores: &FoldScores) -> anyhow::Result<Self> {
        ensure!(!scores.track.is_empty(), "{method}: no folds to summarise");
        ensure!(
            scores.segment.is_empty() || scores.segment.len() == scores.track.len(),
            "{method}: {} segment but {} track accuracies",
            scores.segment.len(),
            scores.track.len()
        );
        let n = scores.confusions.first().map_or(0, Vec::len);
        let mut sum = vec![vec![0usize; n]; n];
        for (f, m) in scores.confusions.iter().enumerate() {
            ensure!(
                m.len() == n && m.iter().all(|r| r.len() == n),
                "{method}: fold {f}'s confusion matrix is not {n} x {n}"
            );
            for (s, row) in sum.iter_mut().zip(m) {
                for (a, b) in s.iter_mut().zip(row) {
                    *a += b;
                }
            }
        }
        Ok(Self {
            method: method.into(),
            segment_accuracy: (!scores.segment.is_empty())
                .then(|| summarize_accuracy(&scores.segment)),
            track_accuracy: summarize_accuracy(&scores.track),
            confusion_tracks: sum,
        })
    }
}

/// The summary of a complete cross-validation (`summary` in `cv.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// Number of folds.
    pub k: usize,
    /// Genre names, index = class id.
    pub genres: Vec<String>,
    /// Test tracks over all folds (every track of the dataset once).
    pub tracks: usize,
    /// The CNN (the folds' `metrics.json`).
    pub cnn: MethodSummary,
    /// The classic baseline (the folds' `classic.json`); `None` for data without audio (the toy
    /// source).
    pub classic: Option<MethodSummary>,
    /// Further rows: the CNN's int8 export, and the teacher (zero-shot, probe) when distilled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<MethodSummary>,
}

fn cell(v: f64) -> String {
    format!("{v:.3}")
}

fn row(method: &str, what: &str, k: usize, s: Option<&Summary>) -> String {
    let mut line = format!("| {method} | {what} |");
    match s {
        Some(s) => {
            for v in &s.values {
                let _ = write!(line, " {} |", cell(*v));
            }
            let ci = s
                .ci95
                .map_or("–".to_string(), |[lo, hi]| format!("[{lo:.3}, {hi:.3}]"));
            let _ = write!(line, " {} | {ci} |", cell(s.mean));
        }
        None => line.push_str(&" – |".repeat(k + 2)),
    }
    line
}

impl CvSummary {
    /// The side-by-side table (Markdown): one row per method and accuracy, the value of every
    /// fold, the mean and the 95 % interval.
    pub fn table(&self) -> String {
        let mut t = String::from("| method | accuracy |");
        for i in 0..self.k {
            let _ = write!(t, " fold {i} |");
        }
        t.push_str(" mean | 95 % CI |\n|---|---|");
        t.push_str(&"---:|".repeat(self.k + 2));
        t.push('\n');
        for m in std::iter::once(&self.cnn)
            .chain(&self.others)
            .chain(&self.classic)
        {
            t.push_str(&row(&m.method, "track", self.k, Some(&m.track_accuracy)));
            t.push('\n');
            t.push_str(&row(
                &m.method,
                "segment",
                self.k,
                m.segment_accuracy.as_ref(),
            ));
            t.push('\n');
        }
        t
    }

    /// `cv.md`: a title, the settings line `about`, the table and a note on the interval.
    pub fn markdown(&self, about: &str) -> String {
        format!(
            "# {k}-fold cross-validation: CNN vs classic baseline\n\n{about}\n\n{} test tracks in all \
             (each track once), folds stratified by genre.\n\n{}\nMean over folds and 95 % Student's t \
             interval `mean ± t(0.975, {df}) · s / √{k}` (clipped to [0, 1]). The classic baseline \
             (MFCC mean/std + RBF SVM) classifies whole tracks, so it has no segment accuracy. \
             Confusion matrices (tracks, summed over folds): `confusion_cnn.png`, \
             `confusion_classic.png`.\n",
            self.tracks,
            self.table(),
            k = self.k,
            df = self.k.saturating_sub(1),
        )
    }

    /// Draw each method's summed track confusion matrix as `<out>/confusion_{cnn,classic}.png`;
    /// returns the paths.
    pub fn draw(&self, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        let methods = std::iter::once(("confusion_cnn", &self.cnn))
            .chain(self.classic.as_ref().map(|c| ("confusion_classic", c)));
        for (stem, m) in methods {
            let path = out.join(format!("{stem}.png"));
            Confusion {
                title: format!(
                    "{}: tracks, {} folds summed ({} tracks)",
                    m.method, self.k, self.tracks
                ),
                genres: &self.genres,
                counts: &m.confusion_tracks,
            }
            .png(&path)?;
            files.push(path);
        }
        Ok(files)
    }
}
