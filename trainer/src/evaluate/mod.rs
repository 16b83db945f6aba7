//! Host inference and what is measured with it: evaluating runs and model files, classifying
//! songs, genre timelines, and the plots they draw.
//!
//! Imports: the layers below (`base` to `run`).

pub mod classify;
pub mod eval;
pub mod inference;
pub mod plot;
pub mod timeline;
