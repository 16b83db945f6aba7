//! Shared helpers for tinygenre's cross-crate tests.

use std::path::PathBuf;

/// The directory of committed reference fixtures (`tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The real GTZAN development clips, when `GTZAN_DEV_DIR` is set; `None`
/// (after printing why) otherwise.
pub fn gtzan_dev_dir() -> Option<PathBuf> {
    match std::env::var_os("GTZAN_DEV_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            eprintln!("skipping: GTZAN_DEV_DIR is not set (point it at ../shared/data/gtzan-dev)");
            None
        }
    }
}
