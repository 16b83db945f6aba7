//! The report's figures: each run's confusion matrices and learning curves, and each table row's
//! confusion matrices summed over its seeds. Every figure is written as PNG and SVG.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::gather::RunRecord;
use crate::base::metrics::Metrics;
use crate::evaluate::plot::{Confusion, Curves};

/// A figure that can be written as PNG and as SVG.
trait Figure {
    fn png(&self, path: &Path) -> anyhow::Result<()>;
    fn svg(&self, path: &Path) -> anyhow::Result<()>;
}

impl Figure for Confusion<'_> {
    fn png(&self, path: &Path) -> anyhow::Result<()> {
        Confusion::png(self, path)
    }
    fn svg(&self, path: &Path) -> anyhow::Result<()> {
        Confusion::svg(self, path)
    }
}

impl Figure for Curves<'_> {
    fn png(&self, path: &Path) -> anyhow::Result<()> {
        Curves::png(self, path)
    }
    fn svg(&self, path: &Path) -> anyhow::Result<()> {
        Curves::svg(self, path)
    }
}

/// Write `fig` as `<out>/<rel>/<kind>.{png,svg}` (creating the directory) and append both paths,
/// relative to `out`, to `files`.
fn save(
    fig: &impl Figure,
    out: &Path,
    rel: &Path,
    kind: &str,
    files: &mut Vec<String>,
) -> anyhow::Result<()> {
    let dir = out.join(rel);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for ext in ["png", "svg"] {
        let name = format!("{kind}.{ext}");
        let p = dir.join(&name);
        if ext == "png" {
            fig.png(&p)?;
        } else {
            fig.svg(&p)?;
        }
        files.push(rel.join(&name).display().to_string());
    }
    Ok(())
}

/// Picks one of a run's confusion matrices.
type Pick = fn(&Metrics) -> &Vec<Vec<usize>>;

/// The two confusion matrices of a run: file stem, which matrix, and what it counts.
const CONFUSIONS: [(&str, Pick, &str); 2] = [
    (
        "confusion_track",
        |m| &m.confusion_tracks,
        "track level (majority vote)",
    ),
    (
        "confusion_segment",
        |m| &m.confusion_segments,
        "segment level",
    ),
];

/// Draw one run's figures into `<out>/figures/<run>/`; returns their paths relative to `out`.
pub fn draw_run(r: &RunRecord, out: &Path) -> anyhow::Result<Vec<String>> {
    let rel = PathBuf::from("figures").join(&r.name);
    let m = &r.metrics;
    let mut files = Vec::new();
    for (kind, pick, what) in CONFUSIONS {
        let c = Confusion {
            title: format!("{} (seed {}): {what}", m.model_label(), m.seed),
            genres: &m.genres,
            counts: pick(m),
        };
        save(&c, out, &rel, kind, &mut files)?;
    }
    if !r.epochs.is_empty() {
        let curves = Curves {
            title: format!(
                "{} (seed {}): learning curves, {} epochs",
                m.model_label(),
                m.seed,
                r.epochs.len()
            ),
            rows: &r.epochs,
        };
        save(&curves, out, &rel, "curves", &mut files)?;
    }
    Ok(files)
}

/// Sum confusion matrices over runs (rows, columns = genres). `None` when the runs' genre lists
/// differ.
pub fn summed_confusion(
    runs: &[&RunRecord],
    pick: fn(&Metrics) -> &Vec<Vec<usize>>,
) -> Option<Vec<Vec<usize>>> {
    sum_matrices(
        runs.iter()
            .map(|r| (r.metrics.genres.as_slice(), pick(&r.metrics).as_slice())),
    )
}

/// Sum square matrices labelled by genre lists; `None` when there are none, when the genre lists
/// differ, or when a matrix is not genres × genres.
fn sum_matrices<'a>(
    mut items: impl Iterator<Item = (&'a [String], &'a [Vec<usize>])>,
) -> Option<Vec<Vec<usize>>> {
    let (genres, first) = items.next()?;
    let n = genres.len();
    let mut sum = vec![vec![0usize; n]; n];
    for (g, m) in std::iter::once((genres, first)).chain(items) {
        if g != genres || m.len() != n || m.iter().any(|row| row.len() != n) {
            return None;
        }
        for (s, row) in sum.iter_mut().zip(m) {
            for (a, b) in s.iter_mut().zip(row) {
                *a += b;
            }
        }
    }
    Some(sum)
}

/// Draw the confusion matrices of a table row summed over its seeds into
/// `<out>/figures/by-model/<label>/`; returns the paths relative to `out` (none when the runs'
/// genre lists differ).
pub(super) fn draw_summed(
    label: &str,
    runs: &[&RunRecord],
    out: &Path,
) -> anyhow::Result<Vec<String>> {
    let rel = PathBuf::from("figures").join("by-model").join(label);
    let mut files = Vec::new();
    let Some(first) = runs.first() else {
        return Ok(files);
    };
    let seeds: Vec<String> = runs.iter().map(|r| r.file.run.seed.to_string()).collect();
    for (kind, pick, what) in [
        ("confusion_track", CONFUSIONS[0].1, "track level"),
        ("confusion_segment", CONFUSIONS[1].1, "segment level"),
    ] {
        let Some(counts) = summed_confusion(runs, pick) else {
            eprintln!("warning: {label}: the runs' genre lists differ; no summed confusion matrix");
            return Ok(Vec::new());
        };
        let c = Confusion {
            title: format!(
                "{}: {what}, seed{} {} summed",
                first.metrics.model_label(),
                if seeds.len() > 1 { "s" } else { "" },
                seeds.join(", ")
            ),
            genres: &first.metrics.genres,
            counts: &counts,
        };
        save(&c, out, &rel, kind, &mut files)?;
    }
    Ok(files)
}

trait ModelLabel {
    fn model_label(&self) -> String;
}

impl ModelLabel for Metrics {
    /// `baseline`, or `baseline + noise:sigma=0.001` with an augmentation.
    fn model_label(&self) -> String {
        if self.aug == "none" {
            self.model.clone()
        } else {
            format!("{} + {}", self.model, self.aug)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genres(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matrices_are_summed_cell_by_cell() {
        let g = genres(&["jazz", "rock"]);
        let a = [vec![3, 1], vec![0, 4]];
        let b = [vec![2, 2], vec![1, 5]];
        let c = [vec![0, 0], vec![7, 0]];
        let items = [(&g[..], &a[..]), (&g[..], &b[..]), (&g[..], &c[..])];
        // by hand: [3+2+0, 1+2+0], [0+1+7, 4+5+0]
        assert_eq!(
            sum_matrices(items.into_iter()),
            Some(vec![vec![5, 3], vec![8, 9]])
        );
        // one matrix sums to itself
        assert_eq!(sum_matrices(items[..1].iter().copied()), Some(a.to_vec()));
    }

    #[test]
    fn differing_genres_or_shapes_or_no_runs_give_none() {
        let g = genres(&["jazz", "rock"]);
        let swapped = genres(&["rock", "jazz"]);
        let a = [vec![3, 1], vec![0, 4]];
        let ragged = [vec![3, 1], vec![0]];
        let tall = [vec![1, 1], vec![1, 1], vec![1, 1]];
        assert_eq!(
            sum_matrices([(&g[..], &a[..]), (&swapped[..], &a[..])].into_iter()),
            None
        );
        assert_eq!(
            sum_matrices([(&g[..], &a[..]), (&g[..], &ragged[..])].into_iter()),
            None
        );
        assert_eq!(sum_matrices([(&g[..], &tall[..])].into_iter()), None);
        assert_eq!(sum_matrices(std::iter::empty()), None);
    }

    #[test]
    fn model_label_names_the_augmentation_unless_none() {
        let m: Metrics = serde_json::from_value(serde_json::json!({
            "segment_accuracy": 0.5, "track_accuracy": 0.5, "genres": [], "per_class": [],
            "confusion_segments": [], "confusion_tracks": [], "epochs": 1, "seconds": 1.0,
            "model": "baseline", "aug": "none", "seed": 0, "dataset_fingerprint": "x"
        }))
        .unwrap();
        assert_eq!(m.model_label(), "baseline");
        let noisy = Metrics {
            aug: "noise:sigma=0.001".into(),
            ..m
        };
        assert_eq!(noisy.model_label(), "baseline + noise:sigma=0.001");
    }
}
