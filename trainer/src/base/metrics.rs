//! Classification metrics: segment and track accuracy (majority vote), per-class
//! precision/recall/F1 and confusion matrices, and the `metrics.json` record of a run.

use serde::{Deserialize, Serialize};

/// Precision, recall and F1 of one genre (at segment level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Genre name.
    pub genre: String,
    /// TP / (TP + FP); 0 when the class is never predicted.
    pub precision: f64,
    /// TP / (TP + FN); 0 when the class has no examples.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Number of true examples of the class.
    pub support: usize,
}

/// The contents of `metrics.json` (see docs/architecture.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction of test segments classified correctly.
    pub segment_accuracy: f64,
    /// Fraction of test tracks whose majority vote is correct.
    pub track_accuracy: f64,
    /// Genre names, index = class id.
    pub genres: Vec<String>,
    /// Per-genre precision/recall/F1 over segments.
    pub per_class: Vec<ClassMetrics>,
    /// Segment confusion matrix, rows = true genre, columns = predicted.
    pub confusion_segments: Vec<Vec<usize>>,
    /// Track confusion matrix, rows = true genre, columns = predicted.
    pub confusion_tracks: Vec<Vec<usize>>,
    /// Epochs trained.
    pub epochs: usize,
    /// Wall time of the training, seconds (summed over resumed parts).
    pub seconds: f64,
    /// Model name (with positional encoding, e.g. `baseline+coord`).
    pub model: String,
    /// The `--aug` stack.
    pub aug: String,
    /// The run's seed.
    pub seed: u64,
    /// Fingerprint of the dataset the run was trained on.
    pub dataset_fingerprint: String,
    /// With `--select best-valid`: the epoch whose network these metrics score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_epoch: Option<usize>,
}

/// The classification part of [`Metrics`].
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Segment accuracy.
    pub segment_accuracy: f64,
    /// Track accuracy (majority vote).
    pub track_accuracy: f64,
    /// Per-class metrics at segment level.
    pub per_class: Vec<ClassMetrics>,
    /// Segment confusion matrix.
    pub confusion_segments: Vec<Vec<usize>>,
    /// Track confusion matrix.
    pub confusion_tracks: Vec<Vec<usize>>,
}

/// Index of the largest value; the first one on a tie, 0 for an empty slice (and NaN never wins):
/// the device's own decision rule, so host and device pick the same class.
pub use infer_core::classifier::argmax;

/// Softmax of `logits` (shifted by the maximum for stability).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|x| (x - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// Majority vote over a track's segment predictions; a tie between the most-voted classes is
/// broken by the larger sum of softmax probabilities over the track's segments (then by the
/// lower class index).
pub fn vote(probs: &[&[f32]], n_classes: usize) -> usize {
    let mut votes = vec![0usize; n_classes];
    let mut sums = vec![0f64; n_classes];
    for p in probs {
        votes[argmax(p).min(n_classes - 1)] += 1;
        for (s, &v) in sums.iter_mut().zip(p.iter()) {
            *s += v as f64;
        }
    }
    let top = votes.iter().copied().max().unwrap_or(0);
    let mut best: Option<usize> = None;
    for c in 0..n_classes {
        if votes[c] == top && best.is_none_or(|b| sums[c] > sums[b]) {
            best = Some(c);
        }
    }
    best.unwrap_or(0)
}

/// Evaluate segment predictions.
///
/// `labels[i]`, `tracks[i]` and `probs[i]` (softmax, `n_classes` values) describe segment `i`.
pub fn evaluate(
    n_classes: usize,
    labels: &[usize],
    tracks: &[usize],
    probs: &[Vec<f32>],
) -> Evaluation {
    assert!(labels.len() == probs.len() && tracks.len() == probs.len());
    let mut cs = vec![vec![0usize; n_classes]; n_classes];
    for (&y, p) in labels.iter().zip(probs) {
        cs[y][argmax(p)] += 1;
    }
    // group segments by track, keeping first-seen order
    let mut order: Vec<usize> = Vec::new();
    let mut by_track: std::collections::HashMap<usize, (usize, Vec<&[f32]>)> = Default::default();
    for ((&t, &y), p) in tracks.iter().zip(labels).zip(probs) {
        let e = by_track.entry(t).or_insert_with(|| {
            order.push(t);
            (y, Vec::new())
        });
        e.1.push(p.as_slice());
    }
    let mut ct = vec![vec![0usize; n_classes]; n_classes];
    for t in &order {
        let (y, ps) = &by_track[t];
        ct[*y][vote(ps, n_classes)] += 1;
    }
    let acc = |m: &Vec<Vec<usize>>| {
        let total: usize = m.iter().flatten().sum();
        let diag: usize = (0..n_classes).map(|i| m[i][i]).sum();
        if total == 0 {
            0.0
        } else {
            diag as f64 / total as f64
        }
    };
    let per_class = (0..n_classes)
        .map(|c| {
            let tp = cs[c][c] as f64;
            let support: usize = cs[c].iter().sum();
            let predicted: usize = cs.iter().map(|r| r[c]).sum();
            let precision = if predicted == 0 {
                0.0
            } else {
                tp / predicted as f64
            };
            let recall = if support == 0 {
                0.0
            } else {
                tp / support as f64
            };
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                genre: String::new(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    Evaluation {
        segment_accuracy: acc(&cs),
        track_accuracy: acc(&ct),
        per_class,
        confusion_segments: cs,
        confusion_tracks: ct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_example() {
        // 3 classes, 2 tracks of 3 segments + 1 track of 1 segment.
        // track 0 (true 0): preds 0, 0, 1 -> vote 0
        // track 1 (true 1): preds 1, 2, 2 -> vote 2
        // track 2 (true 2): pred 2 -> vote 2
        let p = |c: usize| {
            let mut v = vec![0.1f32; 3];
            v[c] = 0.8;
            v
        };
        let labels = [0, 0, 0, 1, 1, 1, 2];
        let tracks = [0, 0, 0, 1, 1, 1, 2];
        let probs = vec![p(0), p(0), p(1), p(1), p(2), p(2), p(2)];
        let e = evaluate(3, &labels, &tracks, &probs);
        assert!((e.segment_accuracy - 4.0 / 7.0).abs() < 1e-12);
        assert!((e.track_accuracy - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            e.confusion_segments,
            vec![vec![2, 1, 0], vec![0, 1, 2], vec![0, 0, 1]]
        );
        assert_eq!(
            e.confusion_tracks,
            vec![vec![1, 0, 0], vec![0, 0, 1], vec![0, 0, 1]]
        );
        // class 2: predicted 3 times, 1 correct; support 1
        let c2 = &e.per_class[2];
        assert!((c2.precision - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c2.recall, 1.0);
        assert!((c2.f1 - 0.5).abs() < 1e-12);
        assert_eq!(c2.support, 1);
        // class 1: predicted twice (segments 2 and 3), 1 correct, support 3
        assert!((e.per_class[1].precision - 0.5).abs() < 1e-12);
        assert!((e.per_class[1].recall - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn tie_is_broken_by_summed_probabilities() {
        let a = [0.50f32, 0.45, 0.05]; // votes 0
        let b = [0.05f32, 0.90, 0.05]; // votes 1
        // one vote each; sums: class 0 = 0.55, class 1 = 1.35 -> 1
        assert_eq!(vote(&[&a, &b], 3), 1);
        let c = [0.60f32, 0.40, 0.0];
        let d = [0.30f32, 0.35, 0.35]; // votes 1 (first max)
        // sums: class 0 = 0.90, class 1 = 0.75 -> 0
        assert_eq!(vote(&[&c, &d], 3), 0);
    }
}
