//! The study's results table: runs grouped into rows by their grid label, each row's accuracies
//! summarised over seeds with their ratio to the baseline, and the header of what the runs share.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::gather::{Gathered, RunRecord};
use super::stats::{Summary, summarize_accuracy};
use crate::run::config::DataSource;
use crate::study::experiments::Study;

/// One row of the results table: a (model, augmentation) over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Grid label (e.g. `baseline+noise`).
    pub label: String,
    /// Model name with positional encoding (e.g. `baseline+coord`).
    pub model: String,
    /// Augmentation stack (`none` for none).
    pub aug: String,
    /// Seeds of the runs, ascending.
    pub seeds: Vec<u64>,
    /// Run directories, in seed order.
    pub runs: Vec<String>,
    /// Segment accuracy over seeds (`None` for the classic baseline, which classifies whole
    /// tracks).
    pub segment_accuracy: Option<Summary>,
    /// Track accuracy (majority vote) over seeds.
    pub track_accuracy: Summary,
    /// Mean segment accuracy / the baseline's (model `baseline`, no augmentation).
    pub segment_ratio: Option<f64>,
    /// Mean track accuracy / the baseline's.
    pub track_ratio: Option<f64>,
    /// Confusion matrices summed over the row's seeds (PNG and SVG), relative to the report
    /// directory; empty when the runs' genre lists differ.
    #[serde(default)]
    pub figures: Vec<String>,
}

/// What the runs share (or, where they differ, every value seen).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Study directory.
    pub study: String,
    /// Split(s).
    pub split: Vec<String>,
    /// Epochs.
    pub epochs: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Data root(s).
    pub data: Vec<String>,
    /// Dataset fingerprint(s).
    pub dataset_fingerprint: Vec<String>,
    /// Batch size(s).
    pub batch: Vec<usize>,
    /// Learning rate(s).
    pub lr: Vec<f64>,
    /// Complete runs.
    pub complete_runs: usize,
    /// Runs without `metrics.json`: `name: reason`.
    pub incomplete_runs: Vec<String>,
    /// Runs of `study.json` with no directory yet.
    pub missing_runs: Vec<String>,
}

/// Figures of one run, relative to the report directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// Run directory name.
    pub run: String,
    /// Grid label.
    pub label: String,
    /// Seed.
    pub seed: u64,
    /// Segment accuracy.
    pub segment_accuracy: f64,
    /// Track accuracy.
    pub track_accuracy: f64,
    /// Figure files (PNG and SVG), relative to the report directory.
    pub files: Vec<String>,
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Settings shared by the runs.
    pub header: Header,
    /// The results table, in grid order.
    pub rows: Vec<Row>,
    /// Per-run figures.
    pub runs: Vec<RunFigures>,
}

/// Describe a data source for the header.
pub fn describe_data(d: &DataSource) -> String {
    match d {
        DataSource::Path { path } => path.display().to_string(),
        DataSource::Synthetic => "synthetic (default set)".into(),
        DataSource::Toy(t) => format!(
            "toy ({} classes x {} tracks x {} segments of {}x{})",
            t.n_classes, t.tracks_per_class, t.segments_per_track, t.n_mels, t.frames
        ),
    }
}

fn distinct<T: Ord + Clone>(it: impl Iterator<Item = T>) -> Vec<T> {
    it.collect::<BTreeSet<T>>().into_iter().collect()
}

/// The grid label of a run: the study's label for its (model, posenc, aug), or else
/// `<model>` / `<model>+<aug>`.
pub(super) fn label_of(study: Option<&Study>, r: &RunRecord) -> (String, usize) {
    if let Some(s) = study
        && let Some((i, e)) = s.grid.iter().enumerate().find(|(_, e)| {
            e.model == r.file.run.model
                && e.posenc == r.file.run.posenc
                && e.aug == r.file.run.aug
                && e.distil == r.file.run.distil.is_some()
        })
    {
        return (e.label.clone(), i);
    }
    let m = r.file.run.model_name();
    let label = if r.file.run.aug == "none" {
        m
    } else {
        format!("{m}+{}", r.file.run.aug)
    };
    (label, usize::MAX)
}

/// The label of the classic baseline's row.
pub const CLASSIC_LABEL: &str = "classic";

/// Table 1's classic row: the classic baseline (MFCC mean/std + RBF SVM) on the splits of the runs
/// that have a `classic.json` (`reproduce` writes one beside every plain-baseline run), one value
/// per seed; `None` when no run has one.
fn classic_row(g: &Gathered) -> Option<Row> {
    let mut runs: Vec<&RunRecord> = g.runs.iter().filter(|r| r.classic.is_some()).collect();
    runs.sort_by_key(|r| r.file.run.seed);
    // one split per seed: the same seed and split give the same tracks
    runs.dedup_by_key(|r| (r.file.run.seed, r.file.run.split.clone()));
    let track: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.classic.as_ref().map(|c| c.track_accuracy))
        .collect();
    (!track.is_empty()).then(|| Row {
        label: CLASSIC_LABEL.into(),
        model: "classic (MFCC + SVM)".into(),
        aug: "none".into(),
        seeds: runs.iter().map(|r| r.file.run.seed).collect(),
        runs: runs.iter().map(|r| r.name.clone()).collect(),
        segment_accuracy: None,
        track_accuracy: summarize_accuracy(&track),
        segment_ratio: None,
        track_ratio: None,
        figures: Vec::new(),
    })
}

/// Build the report's table and header from gathered runs (no files written).
pub fn summarise(study_dir: &Path, g: &Gathered) -> anyhow::Result<(Header, Vec<Row>)> {
    let study = Study::read(study_dir).ok();
    if g.runs.is_empty() {
        bail!(
            "{}: no complete runs (a run is complete when its metrics.json exists){}",
            study_dir.display(),
            if g.incomplete.is_empty() {
                String::new()
            } else {
                format!("; {} unfinished", g.incomplete.len())
            }
        );
    }
    // group by label, in grid order, then by label
    let mut groups: Vec<(String, usize, Vec<&RunRecord>)> = Vec::new();
    for r in &g.runs {
        let (label, order) = label_of(study.as_ref(), r);
        match groups.iter_mut().find(|(l, _, _)| *l == label) {
            Some(gr) => gr.2.push(r),
            None => groups.push((label, order, vec![r])),
        }
    }
    groups.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(label, _, mut runs)| {
            runs.sort_by_key(|r| r.file.run.seed);
            let seg: Vec<f64> = runs.iter().map(|r| r.metrics.segment_accuracy).collect();
            let trk: Vec<f64> = runs.iter().map(|r| r.metrics.track_accuracy).collect();
            Row {
                label,
                model: runs[0].file.run.model_name(),
                aug: runs[0].file.run.aug.clone(),
                seeds: runs.iter().map(|r| r.file.run.seed).collect(),
                runs: runs.iter().map(|r| r.name.clone()).collect(),
                segment_accuracy: Some(summarize_accuracy(&seg)),
                track_accuracy: summarize_accuracy(&trk),
                segment_ratio: None,
                track_ratio: None,
                figures: Vec::new(),
            }
        })
        .collect();
    rows.extend(classic_row(g));
    let base = rows
        .iter()
        .find(|r| r.model == "baseline" && r.aug == "none")
        .map(|r| {
            (
                r.segment_accuracy.as_ref().map(|s| s.mean),
                r.track_accuracy.mean,
            )
        });
    if let Some((bs, bt)) = base {
        for r in &mut rows {
            r.segment_ratio = match (&r.segment_accuracy, bs) {
                (Some(s), Some(b)) if b > 0.0 => Some(s.mean / b),
                _ => None,
            };
            r.track_ratio = (bt > 0.0).then(|| r.track_accuracy.mean / bt);
        }
    }
    let runs = || g.runs.iter().map(|r| &r.file.run);
    let present: BTreeSet<&str> = g
        .runs
        .iter()
        .map(|r| r.name.as_str())
        .chain(g.incomplete.iter().map(|(n, _)| n.as_str()))
        .collect();
    let header = Header {
        study: study_dir.display().to_string(),
        split: distinct(runs().map(|r| r.split.clone())),
        epochs: distinct(runs().map(|r| r.epochs)),
        seeds: distinct(runs().map(|r| r.seed)),
        data: distinct(runs().map(|r| describe_data(&r.data))),
        dataset_fingerprint: distinct(g.runs.iter().map(|r| r.file.dataset_fingerprint.clone())),
        batch: distinct(runs().map(|r| r.batch)),
        lr: {
            let mut v: Vec<f64> = Vec::new();
            for r in runs() {
                if !v.contains(&r.lr) {
                    v.push(r.lr);
                }
            }
            v
        },
        complete_runs: g.runs.len(),
        incomplete_runs: g
            .incomplete
            .iter()
            .map(|(n, why)| format!("{n}: {why}"))
            .collect(),
        missing_runs: study
            .as_ref()
            .map(|s| {
                s.runs()
                    .into_iter()
                    .filter(|r| !present.contains(r.name.as_str()))
                    .map(|r| r.name)
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok((header, rows))
}
