//! The training loop and what is built of runs: the study's grid of models and augmentations
//! (experiments), the classic baseline per fold, cross-validation, and the report.
//!
//! Imports: the layers below (`base` to `ship`).

pub mod classic_fold;
pub mod cv;
pub mod experiments;
pub mod report;
pub mod train;
