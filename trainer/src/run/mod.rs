//! What a run is: its configuration and presets, the examples it trains on and how they are
//! loaded, the tiny toy set, one optimiser step, distillation targets, the epoch history and
//! checkpoints.
//!
//! Imports: `base`, `data`, `augment`, `models`, `classic`, `teacher`.

pub mod checkpoint;
pub mod config;
pub mod distil;
pub mod examples;
pub mod history;
pub mod loader;
pub mod preset;
pub mod step;
pub mod toy;
