//! The classic baseline's classifier: per-dimension standardisation, then an
//! RBF-kernel SVM, multi-class by one-vs-one voting over `linfa-svm`'s binary
//! C-SVC (an SMO solver after libsvm's), i.e. what scikit-learn's
//! `make_pipeline(StandardScaler(), SVC())` does with its defaults:
//!
//! - standardisation `(x - mean) / std` with the training set's mean and
//!   population std per dimension (a zero std scales by 1, as sklearn does);
//! - `C = 1`, kernel `exp(-gamma |x - x'|^2)` with `gamma = "scale"` =
//!   `1 / (n_features * var(X))`, `var` over all entries of the standardised
//!   training matrix;
//! - stopping tolerance 1e-3 (libsvm's `eps`, sklearn's `tol`);
//! - one binary SVM per pair of classes `(i, j)`, `i < j`; each votes; the class
//!   with the most votes wins, ties to the lowest class index (libsvm's rule).
//!
//! Everything is deterministic (the SMO solver has no random state).

use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray_linfa::{Array1, Array2, ArrayView1};

use super::ClassicError;

/// The classifier's settings (sklearn `SVC` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierConfig {
    /// The soft-margin penalty `C`.
    pub c: f64,
    /// The RBF kernel's `gamma`; `None` = sklearn's `"scale"`.
    pub gamma: Option<f64>,
    /// The SMO stopping tolerance.
    pub tol: f64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            c: 1.0,
            gamma: None,
            tol: 1e-3,
        }
    }
}

/// Per-dimension standardisation fitted on a training set.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Per-dimension training mean, `[dim]`.
    pub mean: Vec<f64>,
    /// Per-dimension divisor: the training population std, or 1 where it is 0.
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits on `rows` (each `[dim]`, already checked to share one dimension and be
    /// finite).
    fn fit(rows: &[&[f32]], dim: usize) -> Standardizer {
        let n = rows.len() as f64;
        let mut mean = vec![0f64; dim];
        for r in rows {
            for (m, &v) in mean.iter_mut().zip(r.iter()) {
                *m += f64::from(v) / n;
            }
        }
        let mut var = vec![0f64; dim];
        for r in rows {
            for ((s, &v), m) in var.iter_mut().zip(r.iter()).zip(&mean) {
                *s += (f64::from(v) - m).powi(2) / n;
            }
        }
        let scale = var
            .into_iter()
            .map(|v| if v > 0.0 { v.sqrt() } else { 1.0 })
            .collect();
        Standardizer { mean, scale }
    }

    /// `(x - mean) / scale` for one row.
    pub fn transform(&self, row: &[f32]) -> Vec<f64> {
        row.iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(&v, (m, s))| (f64::from(v) - m) / s)
            .collect()
    }
}

/// A fitted multi-class RBF SVM on standardised features.
#[derive(Debug, Clone)]
pub struct Classifier {
    dim: usize,
    n_classes: usize,
    gamma: f64,
    scaler: Standardizer,
    /// `(i, j, svm)`: positive decision = a vote for class `i`, otherwise `j`.
    pairs: Vec<(usize, usize, Svm<f64, bool>)>,
}

/// Checks that `rows` is non-empty, every row has the first row's dimension and
/// every value is finite; returns the dimension. `expected` fixes the dimension.
pub(crate) fn check_rows(rows: &[&[f32]], expected: Option<usize>) -> Result<usize, ClassicError> {
    let first = rows.first().ok_or(ClassicError::EmptyTrainingSet)?;
    let dim = expected.unwrap_or(first.len());
    if dim == 0 {
        return Err(ClassicError::ZeroDimension);
    }
    for (row, r) in rows.iter().enumerate() {
        if r.len() != dim {
            return Err(ClassicError::DimMismatch {
                row,
                expected: dim,
                got: r.len(),
            });
        }
        if let Some(col) = r.iter().position(|v| !v.is_finite()) {
            return Err(ClassicError::NonFiniteFeature { row, col });
        }
    }
    Ok(dim)
}

impl Classifier {
    /// Fits on `features` (`n` rows, each `[dim]`) with `labels` (`n` class
    /// indices). At least two distinct labels are needed; classes absent from
    /// the training set are never predicted.
    ///
    /// # Errors
    /// [`ClassicError::EmptyTrainingSet`], [`ClassicError::LabelCount`],
    /// [`ClassicError::DimMismatch`], [`ClassicError::NonFiniteFeature`],
    /// [`ClassicError::ZeroDimension`], [`ClassicError::TooFewClasses`],
    /// [`ClassicError::BadConfig`], [`ClassicError::Svm`].
    pub fn fit(
        features: &[&[f32]],
        labels: &[usize],
        cfg: &ClassifierConfig,
    ) -> Result<Classifier, ClassicError> {
        if features.len() != labels.len() {
            return Err(ClassicError::LabelCount {
                rows: features.len(),
                labels: labels.len(),
            });
        }
        let dim = check_rows(features, None)?;
        if !(cfg.c > 0.0 && cfg.tol > 0.0 && cfg.gamma.is_none_or(|g| g > 0.0)) {
            return Err(ClassicError::BadConfig(format!("{cfg:?}")));
        }
        let n_classes = labels.iter().max().map_or(0, |m| m + 1);
        let present: Vec<usize> = (0..n_classes).filter(|c| labels.contains(c)).collect();
        if present.len() < 2 {
            return Err(ClassicError::TooFewClasses {
                found: present.len(),
            });
        }
        let scaler = Standardizer::fit(features, dim);
        let x: Vec<Vec<f64>> = features.iter().map(|r| scaler.transform(r)).collect();
        let gamma = match cfg.gamma {
            Some(g) => g,
            None => {
                let n = (x.len() * dim) as f64;
                let mean = x.iter().flatten().sum::<f64>() / n;
                let var = x.iter().flatten().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                // sklearn: gamma = 1 / (n_features * X.var()) if X.var() != 0 else 1.
                if var > 0.0 {
                    1.0 / (dim as f64 * var)
                } else {
                    1.0
                }
            }
        };
        let mut pairs = Vec::new();
        for (a, &i) in present.iter().enumerate() {
            for &j in &present[a + 1..] {
                let idx: Vec<usize> = (0..x.len())
                    .filter(|&r| labels[r] == i || labels[r] == j)
                    .collect();
                let records = Array2::from_shape_fn((idx.len(), dim), |(r, d)| x[idx[r]][d]);
                let targets = Array1::from_iter(idx.iter().map(|&r| labels[r] == i));
                let dataset = Dataset::new(records, targets);
                let svm = Svm::<f64, bool>::params()
                    .pos_neg_weights(cfg.c, cfg.c)
                    .gaussian_kernel(1.0 / gamma)
                    .eps(cfg.tol)
                    .fit(&dataset)
                    .map_err(|e| ClassicError::Svm(format!("classes {i} vs {j}: {e}")))?;
                pairs.push((i, j, svm));
            }
        }
        Ok(Classifier {
            dim,
            n_classes,
            gamma,
            scaler,
            pairs,
        })
    }

    /// The feature dimension the classifier was fitted on.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One more than the largest training label.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The kernel's `gamma` (resolved from `"scale"` if so configured).
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The standardisation fitted on the training set.
    pub fn scaler(&self) -> &Standardizer {
        &self.scaler
    }

    /// The one-vs-one votes for one row, `[n_classes]`.
    ///
    /// # Errors
    /// As [`Classifier::predict`].
    pub fn votes(&self, row: &[f32]) -> Result<Vec<usize>, ClassicError> {
        check_rows(&[row], Some(self.dim))?;
        let x = Array1::from(self.scaler.transform(row));
        let mut votes = vec![0usize; self.n_classes];
        for (i, j, svm) in &self.pairs {
            let winner = if decision(svm, x.view()) { *i } else { *j };
            votes[winner] += 1;
        }
        Ok(votes)
    }

    /// The predicted label of each row (`[dim]` each).
    ///
    /// # Errors
    /// [`ClassicError::DimMismatch`] for a row of another dimension,
    /// [`ClassicError::NonFiniteFeature`] for NaN or infinity (`row` indexes
    /// `rows`).
    pub fn predict(&self, rows: &[&[f32]]) -> Result<Vec<usize>, ClassicError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        check_rows(rows, Some(self.dim))?;
        rows.iter()
            .map(|r| {
                let votes = self.votes(r)?;
                // First maximum = lowest class index among ties.
                let mut best = 0;
                for (c, &v) in votes.iter().enumerate() {
                    if v > votes[best] {
                        best = c;
                    }
                }
                Ok(best)
            })
            .collect()
    }
}

/// The binary SVM's decision `sum_k alpha_k y_k K(sv_k, x) - rho >= 0`.
fn decision(svm: &Svm<f64, bool>, x: ArrayView1<'_, f64>) -> bool {
    svm.predict(x)
}
