//! tinygenre's host side: data, augmentation, models, training, evaluation, experiments, reports
//! and export. The `trainer` binary is thin glue over this library.
//!
//! Each folder is one layer, listed here bottom to top; a module imports only from its own
//! folder or the folders above it in this list, never from one below, and no two modules of a
//! folder import each other in a circle (`trainer/tests/layers.rs` checks both;
//! `docs/architecture.md` draws the tree).

/// Foundations: the allocator, audio files and datasets (the `tinygenre-corpus` crate), atomic
/// writes, segments, `.npy`, shards, progress, metrics.
pub mod base;

/// Data on disk: the feature cache, splits, the synthetic set.
pub mod data;

/// Data augmentation: the `--aug` grammar and the waveform and spectrogram transforms.
pub mod augment;

/// The networks and the Burn device they run on.
pub mod models;

/// The classic baseline: MFCC statistics and an SVM.
pub mod classic;

/// The distillation teacher (ONNX engine behind the `teacher` feature) and its genre heads.
pub mod teacher;

/// What a run is: its configuration, presets, examples, data loading, history, checkpoints,
/// one optimiser step, distillation targets.
pub mod run;

/// Host inference and what is measured with it: evaluation, classification, timelines, plots.
pub mod evaluate;

/// What leaves the host: model export and the device cross-check.
pub mod ship;

/// The training loop and what is built of runs: the study's grid, cross-validation, reports.
pub mod study;

/// Command-line entry points (one file per subcommand).
pub mod cli;
