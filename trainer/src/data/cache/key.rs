//! Cache keys: what a cached entry depends on, including the version of the code that computes
//! it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{CacheError, FrontendConfig, WaveTransform, io};
use crate::base::segment::SegmentConfig;

/// blake3 of a file's contents.
pub fn content_hash(path: &Path) -> Result<blake3::Hash, CacheError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize())
}

/// The version of the code that computes cached features: a hash of the source of infer-core's
/// front end and of the trainer's decoding, resampling, segmentation, augmentation and cache
/// format (`trainer/build.rs`). Part of every cache key, so an edit to any of them makes every
/// old entry unreachable instead of stale.
pub const CODE_VERSION: &str = env!("TINYGENRE_FEATURE_CODE_VERSION");

/// The source files [`CODE_VERSION`] is derived from, relative to the workspace root.
pub fn code_version_sources() -> Vec<&'static str> {
    env!("TINYGENRE_FEATURE_SOURCES").split(',').collect()
}

/// The cache key of a track's features (see the module docs). A waveform transform may draw
/// from the track's name ([`WaveTransform::apply`] gets the track), so with a transform the
/// name is part of the key: two tracks with the same content (GTZAN holds exact repeats) get
/// their own augmented copies.
pub fn cache_key(
    content: &blake3::Hash,
    track_name: &str,
    cfg: &FrontendConfig,
    seg: &SegmentConfig,
    transform: Option<&dyn WaveTransform>,
) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"tinygenre feature cache v1\0");
    h.update(CODE_VERSION.as_bytes());
    h.update(b"\0content\0");
    h.update(content.as_bytes());
    h.update(b"\0frontend\0");
    h.update(format!("{cfg:?}").as_bytes());
    h.update(b"\0segments\0");
    h.update(seg.key().as_bytes());
    h.update(b"\0transform\0");
    if let Some(t) = transform {
        h.update(t.key().as_bytes());
        h.update(b"\0track\0");
        h.update(track_name.as_bytes());
    }
    h.finalize()
}
