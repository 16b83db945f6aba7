//! Feature cache: log-mel segments computed once with the front end and stored on
//! disk, one file per (track, key).
//!
//! # What is stored
//! Each segment's waveform goes through the front end on its own (centre-padded
//! with zeros at both ends), exactly as the device classifies a 3 s segment. A
//! segment's spectrogram is therefore *not* a slice of the whole-track
//! spectrogram: the frames near its edges differ.
//!
//! # Key
//! blake3 of: the version of the feature code ([`CODE_VERSION`], derived from the
//! source of the front end, decoding, resampling, segmentation and augmentation),
//! the file's content hash (blake3), the front-end configuration, the
//! segmentation, and the waveform transform's key (if any). Any change of one of
//! them gives another entry; stale entries are simply never read again.
//!
//! # File format (`<dir>/<k[0..2]>/<k>.feat`)
//! `b"TGFEAT01"`, `n_mels: u32`, `frames: u32`, `n_segments: u32`,
//! `payload_len: u64`, `blake3(payload): [u8; 32]` (all little-endian), then the
//! payload: `n_segments` blocks of `[n_mels, frames]` f32 (little-endian). Files are
//! written to a temporary file in the same folder and renamed, so a crash leaves no
//! partial entry under the final name; a truncated or corrupted entry (length or
//! checksum mismatch) is detected, reported and recomputed; orphan temporary files
//! are never read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::base::audio::{self, AudioError};
use crate::base::dataset::{Skipped, Track};
use crate::base::progress::Progress;
use crate::base::segment::{SegmentConfig, SegmentError};

pub use infer_core::config::FrontendConfig;
use infer_core::frontend::LogMel;

mod entry;
mod key;
mod set;

use entry::{EntryInfo, read_entry, write_entry};
use set::CachedTrack;

pub use key::{CODE_VERSION, cache_key, code_version_sources, content_hash};
pub use set::{CachedSet, SegmentRef};

/// Errors of the feature cache; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Decoding the audio failed.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The segmentation is invalid.
    #[error("{path}: {source}")]
    Segment {
        /// The track.
        path: PathBuf,
        /// What is wrong.
        source: SegmentError,
    },
    /// The front end rejected the configuration or the input.
    #[error("{path}: front end: {reason}")]
    Frontend {
        /// The track (or the cache entry).
        path: PathBuf,
        /// The front end's error.
        reason: String,
    },
    /// Reading or writing a cache file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A cache entry is truncated or corrupt (it is recomputed by `features` and
    /// `precompute`; `CachedSet::load` reports it).
    #[error("{path}: corrupt cache entry: {reason}")]
    Corrupt {
        /// The entry.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An index out of range.
    #[error("segment index {index} out of range (set holds {len})")]
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of entries.
        len: usize,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The log-mel spectrogram of `samples` with the front end: `(n_mels, frames,
/// data)`, data mel-major `[n_mels, frames]` (`data[m * frames + t]`).
///
/// This is the single place where the trainer calls the front end.
pub fn log_mel(cfg: &FrontendConfig, samples: &[f32]) -> Result<(usize, usize, Vec<f32>), String> {
    // LogMel holds its FFT buffer and filterbank inline (no heap on the device); box it here so
    // rayon's worker stacks stay small.
    let mut front = Box::new(LogMel::new(cfg).map_err(|e| e.to_string())?);
    let n_mels = cfg.n_mels as usize;
    let mut out = vec![0f32; n_mels * cfg.n_frames(samples.len())];
    let frames = front
        .compute_f32(samples, &mut out)
        .map_err(|e| e.to_string())?;
    out.truncate(n_mels * frames);
    Ok((n_mels, frames, out))
}

/// A waveform augmentation applied to a whole track before segmentation and the
/// front end. Its key is part of the cache key, so it must change whenever the
/// output would (e.g. include the copy index and the seed).
pub trait WaveTransform: Sync {
    /// A string identifying this transform and its parameters.
    fn key(&self) -> String;
    /// Transforms the track's samples in place (the length may change).
    fn apply(&self, track: &Track, samples: &mut Vec<f32>, sample_rate: u32);
}

/// The log-mel segments of one track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFeatures {
    /// Mel bands.
    pub n_mels: usize,
    /// Frames per segment.
    pub frames: usize,
    /// Each segment `[n_mels, frames]`, mel-major.
    pub segments: Vec<Vec<f32>>,
}

/// A disk cache of log-mel segments (see the module docs).
#[derive(Debug)]
pub struct FeatureCache {
    dir: PathBuf,
    computed: AtomicUsize,
    reused: AtomicUsize,
    quiet: bool,
}

/// Computes a track's segments: decode, transform, cut, front end per segment.
fn compute(
    track: &Track,
    cfg: &FrontendConfig,
    seg: &SegmentConfig,
    transform: Option<&dyn WaveTransform>,
) -> Result<TrackFeatures, CacheError> {
    let mut samples = audio::load_mono(&track.path, cfg.sample_rate)?;
    if let Some(t) = transform {
        t.apply(track, &mut samples, cfg.sample_rate);
    }
    let cut = seg
        .cut(&samples, cfg.sample_rate)
        .map_err(|source| CacheError::Segment {
            path: track.path.clone(),
            source,
        })?;
    if cut.padded {
        eprintln!(
            "warning: {}: {:.2} s is shorter than one {} s segment; zero-padded",
            track.path.display(),
            samples.len() as f64 / f64::from(cfg.sample_rate),
            seg.seconds
        );
    }
    let mut n_mels = 0;
    let mut frames = 0;
    let mut segments = Vec::with_capacity(cut.segments.len());
    for s in &cut.segments {
        let (m, f, data) = log_mel(cfg, s).map_err(|reason| CacheError::Frontend {
            path: track.path.clone(),
            reason,
        })?;
        n_mels = m;
        frames = f;
        segments.push(data);
    }
    Ok(TrackFeatures {
        n_mels,
        frames,
        segments,
    })
}

impl FeatureCache {
    /// Opens (creating it if needed) the cache folder `dir`.
    pub fn open(dir: &Path) -> Result<FeatureCache, CacheError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(FeatureCache {
            dir: dir.to_path_buf(),
            computed: AtomicUsize::new(0),
            reused: AtomicUsize::new(0),
            quiet: false,
        })
    }

    /// The same cache, without the summary line [`FeatureCache::precompute`] prints (for a phase
    /// that repeats, such as each epoch's online draw, whose caller reports it).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `(computed, reused)`: entries computed and entries read back since `open`.
    pub fn stats(&self) -> (usize, usize) {
        (
            self.computed.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed),
        )
    }

    /// The file that holds (or will hold) the entry with `key`.
    pub fn path_for_key(&self, key: &blake3::Hash) -> PathBuf {
        let hex = key.to_hex();
        self.dir.join(&hex[..2]).join(format!("{hex}.feat"))
    }

    /// The file of `track`'s entry for this configuration (hashes the track's file).
    pub fn entry_path(
        &self,
        track: &Track,
        cfg: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> Result<PathBuf, CacheError> {
        let content = content_hash(&track.path)?;
        Ok(self.path_for_key(&cache_key(&content, &track.name, cfg, seg, transform)))
    }

    /// The log-mel segments of `track`, read from the cache or computed (and
    /// stored) when absent, truncated or corrupt.
    pub fn features(
        &self,
        track: &Track,
        cfg: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> Result<TrackFeatures, CacheError> {
        let path = self.entry_path(track, cfg, seg, transform)?;
        match read_entry(&path) {
            Ok(Some(f)) => {
                self.reused.fetch_add(1, Ordering::Relaxed);
                return Ok(f);
            }
            Ok(None) => {}
            Err(e) => eprintln!("warning: {e}; recomputing"),
        }
        let f = compute(track, cfg, seg, transform)?;
        write_entry(&path, &f)?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        Ok(f)
    }

    /// Makes sure `track`'s entry exists and is intact (full checksum check),
    /// computing it otherwise; returns its layout without keeping the data.
    fn ensure(
        &self,
        track: &Track,
        cfg: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> Result<EntryInfo, CacheError> {
        let path = self.entry_path(track, cfg, seg, transform)?;
        let f = match read_entry(&path) {
            Ok(Some(f)) => {
                self.reused.fetch_add(1, Ordering::Relaxed);
                f
            }
            other => {
                if let Err(e) = other {
                    eprintln!("warning: {e}; recomputing");
                }
                let f = compute(track, cfg, seg, transform)?;
                write_entry(&path, &f)?;
                self.computed.fetch_add(1, Ordering::Relaxed);
                f
            }
        };
        Ok(EntryInfo {
            path,
            n_mels: f.n_mels,
            frames: f.frames,
            n_segments: f.segments.len(),
        })
    }

    /// Computes (in parallel, with a progress bar on a terminal and plain log lines
    /// otherwise) every missing entry of `tracks`, and returns the index of their
    /// segments. Tracks whose audio fails to decode are skipped with one warning
    /// line each and listed in [`CachedSet::skipped`]; cache I/O errors abort.
    pub fn precompute(
        &self,
        tracks: &[Track],
        cfg: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> Result<CachedSet, CacheError> {
        let start = Instant::now();
        let (computed0, reused0) = self.stats();
        let progress = Progress::new("features", tracks.len(), "tracks");
        let results: Vec<Result<EntryInfo, CacheError>> = tracks
            .par_iter()
            .map(|t| {
                let r = self.ensure(t, cfg, seg, transform);
                progress.inc();
                r
            })
            .collect();
        progress.finish();

        let mut set = CachedSet::default();
        for (t, r) in tracks.iter().zip(results) {
            match r {
                Ok(info) => {
                    if set.n_mels == 0 {
                        set.n_mels = info.n_mels;
                    }
                    let ti = set.tracks.len() as u32;
                    for s in 0..info.n_segments {
                        set.entries.push((ti, s as u32));
                    }
                    set.tracks.push(CachedTrack {
                        id: t.id,
                        genre: t.genre,
                        path: info.path,
                        n_mels: info.n_mels,
                        frames: info.frames,
                    });
                }
                Err(e @ (CacheError::Audio(_) | CacheError::Frontend { .. })) => {
                    eprintln!("warning: skipping {}: {e}", t.path.display());
                    set.skipped.push(Skipped {
                        path: t.path.clone(),
                        reason: e.to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let (computed1, reused1) = self.stats();
        set.computed = computed1 - computed0;
        set.reused = reused1 - reused0;
        let secs = start.elapsed().as_secs_f64();
        if !self.quiet {
            eprintln!(
                "features: {} tracks ({} computed, {} from cache, {} skipped), {} segments, {:.1} s ({:.1} tracks/s)",
                tracks.len(),
                set.computed,
                set.reused,
                set.skipped.len(),
                set.entries.len(),
                secs,
                tracks.len() as f64 / secs.max(1e-9)
            );
        }
        Ok(set)
    }
}
