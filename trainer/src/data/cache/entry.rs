//! The on-disk format of one cache entry (see the module docs of [`super`]): header, checksum,
//! reading with verification and writing atomically.

use std::path::{Path, PathBuf};

use super::{CacheError, TrackFeatures, io};
use crate::base::fsio::write_atomic;

pub(super) const MAGIC: &[u8; 8] = b"TGFEAT01";
pub(super) const HEADER_LEN: u64 = 8 + 4 + 4 + 4 + 8 + 32;

/// Header of a cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EntryHeader {
    pub(super) n_mels: u32,
    pub(super) frames: u32,
    pub(super) n_segments: u32,
    pub(super) payload_len: u64,
    pub(super) checksum: [u8; 32],
}

impl EntryHeader {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER_LEN as usize);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&self.n_mels.to_le_bytes());
        h.extend_from_slice(&self.frames.to_le_bytes());
        h.extend_from_slice(&self.n_segments.to_le_bytes());
        h.extend_from_slice(&self.payload_len.to_le_bytes());
        h.extend_from_slice(&self.checksum);
        h
    }

    pub(super) fn decode(b: &[u8]) -> Option<EntryHeader> {
        if b.len() < HEADER_LEN as usize || &b[..8] != MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut len = [0u8; 8];
        len.copy_from_slice(&b[20..28]);
        let mut checksum = [0u8; 32];
        checksum.copy_from_slice(&b[28..60]);
        let h = EntryHeader {
            n_mels: u32_at(8),
            frames: u32_at(12),
            n_segments: u32_at(16),
            payload_len: u64::from_le_bytes(len),
            checksum,
        };
        let expected = 4 * u64::from(h.n_mels) * u64::from(h.frames) * u64::from(h.n_segments);
        (expected == h.payload_len).then_some(h)
    }
}

/// What [`FeatureCache::ensure`] knows about one stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EntryInfo {
    pub(super) path: PathBuf,
    pub(super) n_mels: usize,
    pub(super) frames: usize,
    pub(super) n_segments: usize,
}

/// Reads a whole entry, verifying length and checksum. `Ok(None)`: no entry.
pub(super) fn read_entry(path: &Path) -> Result<Option<TrackFeatures>, CacheError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let corrupt = |reason: &str| CacheError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let h = EntryHeader::decode(&bytes).ok_or_else(|| corrupt("bad header"))?;
    let payload = &bytes[HEADER_LEN as usize..];
    if payload.len() as u64 != h.payload_len {
        return Err(corrupt(&format!(
            "payload holds {} bytes, header says {}",
            payload.len(),
            h.payload_len
        )));
    }
    if blake3::hash(payload).as_bytes() != &h.checksum {
        return Err(corrupt("checksum mismatch"));
    }
    let per = h.n_mels as usize * h.frames as usize;
    let values: Vec<f32> = payload
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let segments = if per == 0 {
        vec![Vec::new(); h.n_segments as usize]
    } else {
        values.chunks_exact(per).map(<[f32]>::to_vec).collect()
    };
    Ok(Some(TrackFeatures {
        n_mels: h.n_mels as usize,
        frames: h.frames as usize,
        segments,
    }))
}

pub(super) fn write_entry(path: &Path, f: &TrackFeatures) -> Result<(), CacheError> {
    let mut payload = Vec::with_capacity(4 * f.n_mels * f.frames * f.segments.len());
    for s in &f.segments {
        if s.len() != f.n_mels * f.frames {
            return Err(CacheError::Frontend {
                path: path.to_path_buf(),
                reason: "segments of different lengths in one track".to_string(),
            });
        }
        for v in s {
            payload.extend_from_slice(&v.to_le_bytes());
        }
    }
    let header = EntryHeader {
        n_mels: f.n_mels as u32,
        frames: f.frames as u32,
        n_segments: f.segments.len() as u32,
        payload_len: payload.len() as u64,
        checksum: *blake3::hash(&payload).as_bytes(),
    };
    let mut bytes = header.encode();
    bytes.extend_from_slice(&payload);
    write_atomic(path, &bytes).map_err(|e| CacheError::Io {
        path: e.path,
        source: e.source,
    })
}
