//! tinygenre's host side: data, augmentation, models, training, evaluation,
//! experiments, reports and export. The `trainer` binary is thin glue over
//! this library.

// ---- data (GTZAN on disk -> cached log-mel segments) ----
pub mod audio;
pub mod cache;
pub mod dataset;
pub mod loader;
pub mod npy;
pub mod segment;
pub mod split;
pub mod synth;

// ---- augmentation ----
pub mod augment;

// ---- models, training, evaluation ----
pub mod backend;
pub mod classic;
pub mod eval;
pub mod export;
pub mod metrics;
pub mod models;
pub mod train;

// ---- the study: experiment grid, reports, figures, classifying songs ----
pub mod classify;
pub mod experiments;
pub mod plot;
pub mod report;

// ---- device cross-check (firmware under QEMU vs host infer-core) ----
pub mod crosscheck;

// ---- command-line entry points (one file per subcommand) ----
pub mod cli;
