//! Foundations: what every other layer stands on. The audio decoders, dataset discovery and
//! atomic writes live in the Burn-free `tinygenre-corpus` crate (so they build in seconds and can
//! be fuzzed) and are re-exported here; beside them the allocator, segments, `.npy` files, shards,
//! progress reporting and metrics.
//!
//! Imports: nothing of the trainer's.

pub use tinygenre_corpus::{audio, dataset, fsio};

pub mod alloc;
pub mod metrics;
pub mod npy;
pub mod progress;
pub mod segment;
pub mod shard;
