//! tinygenre's host side: data, augmentation, models, training, evaluation, experiments, reports
//! and export. The `trainer` binary is thin glue over this library.
//!
//! Modules are layered: each imports only modules of the layers above it in this list, never one
//! below (`trainer/tests/layers.rs` checks it; `docs/architecture.md` draws it).

// ---- 1. foundations: the allocator, files, audio, numbers ----
// Decoding, discovery and atomic writes live in the Burn-free `tinygenre-corpus` crate (so they
// build in seconds and can be fuzzed); their old paths stay.
pub use tinygenre_corpus::{audio, dataset, fsio};
pub mod alloc;
pub mod backend;
pub mod metrics;
pub mod npy;
pub mod progress;
pub mod segment;
pub mod shard;

// ---- 2. data on disk: datasets, splits, the feature cache, the synthetic set ----
pub mod cache;
pub mod split;
pub mod synth;

// ---- 3. augmentation, the networks and the classic baseline (MFCC + SVM) ----
pub mod augment;
pub mod classic;
pub mod models;
/// The distillation teacher (ONNX engine behind the `teacher` feature) and its genre heads.
pub mod teacher;

// ---- 4. what a run is: its configuration, examples, data loading, history, checkpoints ----
pub mod checkpoint;
pub mod config;
pub mod distil;
pub mod examples;
pub mod history;
pub mod loader;
pub mod preset;
pub mod step;
pub mod toy;

// ---- 5. host inference ----
pub mod inference;

// ---- 6. what is done with runs: evaluate, train, export, classify, the study, reports ----
pub mod classic_fold;
pub mod classify;
pub mod cv;
pub mod eval;
pub mod experiments;
pub mod export;
pub mod plot;
pub mod report;
pub mod timeline;
pub mod train;

// ---- 7. device cross-check (firmware under QEMU vs host infer-core) ----
pub mod crosscheck;

// ---- 8. command-line entry points (one file per subcommand) ----
pub mod cli;
