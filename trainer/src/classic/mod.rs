//! The classic baseline the CNN is compared against (issue 16): 20 MFCCs
//! computed from the project's own log-mel front end, their mean and standard
//! deviation over each track (40 numbers), standardised, into an RBF SVM
//! (one-vs-one). It mirrors `librosa.feature.mfcc` + scikit-learn's
//! `make_pipeline(StandardScaler(), SVC())` and runs in seconds.
//!
//! - [`mfcc`]: MFCCs from a mel-major `[n_mels, frames]` log-mel (dB), with
//!   librosa's 80 dB floor, orthonormal DCT-II;
//! - [`TrackFeatures`]: per-track mean/std vector, from samples or from the
//!   feature cache's log-mel segments;
//! - [`Classifier`]: standardisation (train statistics) + RBF SVM;
//! - [`evaluate`]: fit on one list of tracks, score another.
//!
//! Imports: `base` and `data`.

pub mod features;
pub mod mfcc;
pub mod svm;

pub use features::TrackFeatures;
pub use mfcc::{LIBROSA_TOP_DB, N_MFCC, mfcc_from_log_mel};
pub use svm::{Classifier, ClassifierConfig, Standardizer};

/// Errors of the classic baseline; each names the problem.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClassicError {
    /// The front end rejected the samples (empty, too short, non-finite).
    #[error("front end: {0}")]
    Frontend(String),
    /// A log-mel (or MFCC) buffer is empty or not a whole number of mel rows.
    #[error("log-mel buffer of {len} values is not [n_mels = {n_mels}, frames >= 1]")]
    LogMelShape {
        /// The buffer's length.
        len: usize,
        /// The number of rows it should hold.
        n_mels: usize,
    },
    /// A log-mel value is NaN or infinite.
    #[error("log-mel value {index} is not finite")]
    NonFiniteLogMel {
        /// Its index in the buffer.
        index: usize,
    },
    /// `n_mfcc` is 0 or larger than the number of mel bands.
    #[error("cannot keep {n_mfcc} DCT coefficients of {n_mels} mel bands")]
    BadMfccCount {
        /// Requested coefficients.
        n_mfcc: usize,
        /// Mel bands.
        n_mels: usize,
    },
    /// `top_db` is negative or not finite.
    #[error("top_db must be finite and >= 0, got {top_db}")]
    BadTopDb {
        /// The value given.
        top_db: f32,
    },
    /// A track was given as an empty list of segments.
    #[error("a track needs at least one log-mel segment")]
    NoSegments,
    /// No training rows.
    #[error("empty training set")]
    EmptyTrainingSet,
    /// The number of feature rows and of labels differ.
    #[error("{rows} feature rows but {labels} labels")]
    LabelCount {
        /// Feature rows.
        rows: usize,
        /// Labels.
        labels: usize,
    },
    /// Feature rows of zero length.
    #[error("feature rows have no dimensions")]
    ZeroDimension,
    /// A feature row's length differs from the others' (or the model's).
    #[error("feature row {row} has {got} dimensions, expected {expected}")]
    DimMismatch {
        /// The row's index.
        row: usize,
        /// The dimension fixed by the first training row or the fitted model.
        expected: usize,
        /// The row's length.
        got: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("feature row {row}, dimension {col} is not finite")]
    NonFiniteFeature {
        /// The row's index.
        row: usize,
        /// The dimension.
        col: usize,
    },
    /// Fewer than two distinct labels in the training set.
    #[error("training set holds {found} distinct label(s); need at least 2")]
    TooFewClasses {
        /// Distinct labels found.
        found: usize,
    },
    /// `C`, `gamma` or `tol` is not positive.
    #[error("bad classifier settings: {0}")]
    BadConfig(String),
    /// The SVM solver failed.
    #[error("SVM: {0}")]
    Svm(String),
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicResult {
    /// The predicted label of each test track, in the test set's order.
    pub predictions: Vec<usize>,
    /// The fraction of test tracks predicted correctly (0 for an empty test set).
    pub track_accuracy: f64,
    /// `confusion[true][predicted]` counts, `[n_classes][n_classes]` with
    /// `n_classes` one more than the largest label in train or test.
    pub confusion: Vec<Vec<usize>>,
}

/// Fits a [`Classifier`] (sklearn `SVC` defaults, [`ClassifierConfig::default`])
/// on `train` and scores it on `test`. Each item is `(feature vector, label)`,
/// the vector usually [`TrackFeatures::to_vec`] (`[40]`); all vectors must share
/// one dimension.
///
/// # Errors
/// Those of [`Classifier::fit`] and [`Classifier::predict`].
pub fn evaluate(
    train: &[(Vec<f32>, usize)],
    test: &[(Vec<f32>, usize)],
) -> Result<ClassicResult, ClassicError> {
    let x: Vec<&[f32]> = train.iter().map(|(f, _)| f.as_slice()).collect();
    let y: Vec<usize> = train.iter().map(|(_, l)| *l).collect();
    let model = Classifier::fit(&x, &y, &ClassifierConfig::default())?;
    let rows: Vec<&[f32]> = test.iter().map(|(f, _)| f.as_slice()).collect();
    let predictions = model.predict(&rows)?;
    let n_classes = train
        .iter()
        .chain(test)
        .map(|(_, l)| l + 1)
        .max()
        .unwrap_or(0);
    let mut confusion = vec![vec![0usize; n_classes]; n_classes];
    let mut correct = 0usize;
    for ((_, truth), &p) in test.iter().zip(&predictions) {
        confusion[*truth][p] += 1;
        correct += usize::from(*truth == p);
    }
    let track_accuracy = if test.is_empty() {
        0.0
    } else {
        correct as f64 / test.len() as f64
    };
    Ok(ClassicResult {
        predictions,
        track_accuracy,
        confusion,
    })
}
