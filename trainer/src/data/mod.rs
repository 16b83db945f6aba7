//! Data on disk: the feature cache (log-mel segments keyed by file, front end and code
//! version), train / validation / test splits, and the project's synthetic GTZAN-layout set.
//!
//! Imports: `base` only.

pub mod cache;
pub mod split;
pub mod synth;
