//! [`CachedSet`]: an index of cached segments that reads one segment at a time.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::entry::{EntryHeader, HEADER_LEN};
use super::{CacheError, io};
use crate::base::dataset::Skipped;

/// One track of a [`CachedSet`].
#[derive(Debug, Clone)]
pub(super) struct CachedTrack {
    pub(super) id: usize,
    pub(super) genre: usize,
    pub(super) path: PathBuf,
    pub(super) n_mels: usize,
    pub(super) frames: usize,
}

/// One segment of a [`CachedSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRef {
    /// Track id (index into `Dataset::tracks`).
    pub track: usize,
    /// Genre label.
    pub genre: usize,
    /// Segment index within the track.
    pub segment: usize,
    /// Mel bands.
    pub n_mels: usize,
    /// Frames of this segment.
    pub frames: usize,
}

/// An index of cached segments, `(track, segment)` per entry, that loads one
/// segment at a time from the per-track cache files: memory holds only the index,
/// never the features.
///
/// `load` reads just the segment's bytes (a seek and a read), checking the file's
/// header and length but not its checksum (verified when the set was built by
/// [`FeatureCache::precompute`]).
#[derive(Debug, Clone, Default)]
pub struct CachedSet {
    /// Mel bands (of the first track; all tracks share the front end).
    pub n_mels: usize,
    pub(super) tracks: Vec<CachedTrack>,
    pub(super) entries: Vec<(u32, u32)>,
    /// Tracks whose audio could not be decoded.
    pub skipped: Vec<Skipped>,
    /// Entries computed while building this set.
    pub computed: usize,
    /// Entries found intact in the cache while building this set.
    pub reused: usize,
}

impl CachedSet {
    /// Number of segments.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set holds no segment.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of tracks.
    pub fn n_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// The segment at `index`.
    pub fn entry(&self, index: usize) -> Option<SegmentRef> {
        let &(ti, s) = self.entries.get(index)?;
        let t = self.tracks.get(ti as usize)?;
        Some(SegmentRef {
            track: t.id,
            genre: t.genre,
            segment: s as usize,
            n_mels: t.n_mels,
            frames: t.frames,
        })
    }

    /// Every segment, in order.
    pub fn entries(&self) -> impl Iterator<Item = SegmentRef> + '_ {
        (0..self.len()).filter_map(|i| self.entry(i))
    }

    /// The log-mel of segment `index`, `[n_mels, frames]` mel-major.
    pub fn load(&self, index: usize) -> Result<Vec<f32>, CacheError> {
        let out_of_range = CacheError::OutOfRange {
            index,
            len: self.entries.len(),
        };
        let &(ti, s) = self.entries.get(index).ok_or(out_of_range)?;
        let t = self.tracks.get(ti as usize).ok_or(CacheError::OutOfRange {
            index,
            len: self.entries.len(),
        })?;
        let per = t.n_mels * t.frames;
        let mut f = File::open(&t.path).map_err(io(&t.path))?;
        let mut head = [0u8; HEADER_LEN as usize];
        f.read_exact(&mut head).map_err(io(&t.path))?;
        let corrupt = |reason: &str| CacheError::Corrupt {
            path: t.path.clone(),
            reason: reason.to_string(),
        };
        let h = EntryHeader::decode(&head).ok_or_else(|| corrupt("bad header"))?;
        let len = f.metadata().map_err(io(&t.path))?.len();
        if h.n_mels as usize != t.n_mels
            || h.frames as usize != t.frames
            || len != HEADER_LEN + h.payload_len
        {
            return Err(corrupt(
                "entry changed or truncated since the index was built",
            ));
        }
        f.seek(SeekFrom::Start(HEADER_LEN + 4 * (s as u64) * per as u64))
            .map_err(io(&t.path))?;
        let mut bytes = vec![0u8; 4 * per];
        f.read_exact(&mut bytes).map_err(io(&t.path))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}
