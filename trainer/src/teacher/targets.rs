//! The teacher's outputs for the segments a student trains on, cached on disk.
//!
//! Consistent teaching: for each track the teacher hears exactly the audio of the student's
//! segments. The track is decoded at the student's sample rate, passed through the same waveform
//! transform (the augmentation draw), cut by the same segmentation, and each segment is then
//! resampled to the teacher's rate and run through the teacher. Segments therefore line up one to
//! one with the feature cache's segments of the same track and transform.
//!
//! # Cache
//! One file per (track, front end, segmentation, transform, teacher): the key is the feature
//! cache's key of the track (file content, front end, segmentation, transform key) hashed with the
//! teacher file's sha256. Format `<dir>/<k[0..2]>/<k>.teach`: `b"TGTEACH1"`, `n_segments: u32`,
//! `classes: u32`, `dim: u32`, `blake3(payload): [u8; 32]`, then per segment `classes` logits and
//! `dim` embedding values (f32, little-endian). Written to a temporary file and renamed; a
//! truncated or corrupt entry is reported and recomputed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use rayon::prelude::*;

use super::{Teacher, TeacherOutput};
use crate::base::audio;
use crate::base::dataset::Track;
use crate::base::fsio::write_atomic;
use crate::base::segment::SegmentConfig;
use crate::data::cache::{FrontendConfig, WaveTransform, cache_key, content_hash};

const MAGIC: &[u8; 8] = b"TGTEACH1";
const HEADER: usize = 8 + 4 * 3 + 32;

/// The teacher's outputs of a set of segments, in the order of the examples they belong to.
#[derive(Clone, Debug, Default)]
pub struct TeacherOutputs {
    /// One output per segment.
    pub segments: Vec<TeacherOutput>,
    /// Track id of each segment.
    pub tracks: Vec<usize>,
}

/// A disk cache of teacher outputs (see the module docs).
#[derive(Debug)]
pub struct TeacherCache {
    dir: PathBuf,
    computed: AtomicUsize,
    reused: AtomicUsize,
}

fn encode(outs: &[TeacherOutput]) -> Vec<u8> {
    let c = outs.first().map_or(0, |o| o.logits.len());
    let d = outs.first().map_or(0, |o| o.embedding.len());
    let mut payload = Vec::with_capacity(outs.len() * (c + d) * 4);
    for o in outs {
        for v in o.logits.iter().chain(&o.embedding) {
            payload.extend_from_slice(&v.to_le_bytes());
        }
    }
    let mut b = Vec::with_capacity(HEADER + payload.len());
    b.extend_from_slice(MAGIC);
    for v in [outs.len(), c, d] {
        b.extend_from_slice(&(v as u32).to_le_bytes());
    }
    b.extend_from_slice(blake3::hash(&payload).as_bytes());
    b.extend_from_slice(&payload);
    b
}

fn decode(b: &[u8]) -> Result<Vec<TeacherOutput>, String> {
    if b.len() < HEADER || &b[..8] != MAGIC {
        return Err("not a teacher cache entry".into());
    }
    let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
    let (n, c, d) = (u(8), u(12), u(16));
    let payload = &b[HEADER..];
    if payload.len() != n * (c + d) * 4 {
        return Err(format!(
            "truncated: {} payload bytes, the header promises {}",
            payload.len(),
            n * (c + d) * 4
        ));
    }
    if blake3::hash(payload).as_bytes() != &b[20..52] {
        return Err("checksum mismatch".into());
    }
    let vals: Vec<f32> = payload
        .chunks_exact(4)
        .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .collect();
    Ok(vals
        .chunks_exact((c + d).max(1))
        .take(n)
        .map(|s| TeacherOutput {
            logits: s[..c].to_vec(),
            embedding: s[c..].to_vec(),
        })
        .collect())
}

impl TeacherCache {
    /// Opens (creating it if needed) the cache folder `dir`.
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn open(dir: &Path) -> anyhow::Result<TeacherCache> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TeacherCache {
            dir: dir.to_path_buf(),
            computed: AtomicUsize::new(0),
            reused: AtomicUsize::new(0),
        })
    }

    /// `(computed, reused)` track entries since `open`.
    pub fn stats(&self) -> (usize, usize) {
        (
            self.computed.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed),
        )
    }

    fn entry_path(
        &self,
        teacher: &Teacher,
        track: &Track,
        fe: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> anyhow::Result<PathBuf> {
        let content = content_hash(&track.path)?;
        let k = cache_key(&content, &track.name, fe, seg, transform);
        let mut h = blake3::Hasher::new();
        h.update(b"teacher-outputs-v1");
        h.update(k.as_bytes());
        h.update(teacher.info().file_sha256.as_bytes());
        let hex = h.finalize().to_hex();
        Ok(self.dir.join(&hex[..2]).join(format!("{hex}.teach")))
    }

    /// The teacher's outputs of each segment of `track` (decoded at the front end's rate,
    /// transformed, cut by `seg`, resampled to the teacher's rate), from the cache or computed.
    ///
    /// # Errors
    /// Decoding, segmentation, resampling or the teacher failing; cache I/O.
    pub fn track(
        &self,
        teacher: &Teacher,
        track: &Track,
        fe: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
    ) -> anyhow::Result<Vec<TeacherOutput>> {
        let path = self.entry_path(teacher, track, fe, seg, transform)?;
        if let Ok(b) = std::fs::read(&path) {
            match decode(&b) {
                Ok(v) => {
                    self.reused.fetch_add(1, Ordering::Relaxed);
                    return Ok(v);
                }
                Err(e) => eprintln!("warning: {}: {e}; recomputing", path.display()),
            }
        }
        let outs = segment_outputs(teacher, track, fe, seg, transform)?;
        write_atomic(&path, &encode(&outs))?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        Ok(outs)
    }

    /// The outputs of every segment of `tracks`, in track order then segment order (the order of
    /// a feature-cache set built from the same tracks; leave out the tracks the feature cache
    /// could not decode). Parallel over tracks; one summary line.
    ///
    /// # Errors
    /// As [`TeacherCache::track`].
    pub fn tracks(
        &self,
        teacher: &Teacher,
        tracks: &[Track],
        fe: &FrontendConfig,
        seg: &SegmentConfig,
        transform: Option<&dyn WaveTransform>,
        what: &str,
    ) -> anyhow::Result<TeacherOutputs> {
        let t0 = Instant::now();
        let (c0, r0) = self.stats();
        let per: Vec<anyhow::Result<Vec<TeacherOutput>>> = tracks
            .par_iter()
            .map(|t| self.track(teacher, t, fe, seg, transform))
            .collect();
        let mut out = TeacherOutputs::default();
        for (t, r) in tracks.iter().zip(per) {
            let v = r.with_context(|| format!("teacher on {}", t.path.display()))?;
            out.tracks.extend(std::iter::repeat_n(t.id, v.len()));
            out.segments.extend(v);
        }
        let (c1, r1) = self.stats();
        eprintln!(
            "teacher: {what}: {} tracks ({} computed, {} from cache), {} segments, {:.1} s",
            tracks.len(),
            c1 - c0,
            r1 - r0,
            out.segments.len(),
            t0.elapsed().as_secs_f64()
        );
        Ok(out)
    }
}

/// Computes the teacher's outputs of each segment of `track` (no cache).
///
/// # Errors
/// Decoding, segmentation, resampling or the teacher failing.
pub fn segment_outputs(
    teacher: &Teacher,
    track: &Track,
    fe: &FrontendConfig,
    seg: &SegmentConfig,
    transform: Option<&dyn WaveTransform>,
) -> anyhow::Result<Vec<TeacherOutput>> {
    let rate = fe.sample_rate;
    let mut samples = audio::load_mono(&track.path, rate)?;
    if let Some(t) = transform {
        t.apply(track, &mut samples, rate);
    }
    let cut = seg
        .cut(&samples, rate)
        .map_err(|e| anyhow::anyhow!("{}: {e}", track.path.display()))?;
    let trate = teacher.info().sample_rate;
    let mut outs = Vec::with_capacity(cut.segments.len());
    for s in &cut.segments {
        let x = if trate == rate {
            s.to_vec()
        } else {
            audio::resample(s, rate, trate)
                .map_err(|e| anyhow::anyhow!("{}: resampling: {e}", track.path.display()))?
        };
        outs.push(teacher.infer(&x)?);
    }
    Ok(outs)
}

/// Checks that teacher outputs line up with `n` examples of track ids `tracks`.
///
/// # Errors
/// A different count or order (a bug, or a cache that changed underneath).
pub fn check_aligned(outs: &TeacherOutputs, tracks: &[usize], what: &str) -> anyhow::Result<()> {
    ensure!(
        outs.tracks.len() == tracks.len(),
        "teacher: {what}: {} teacher segments for {} examples",
        outs.tracks.len(),
        tracks.len()
    );
    if let Some(i) = (0..tracks.len()).find(|&i| outs.tracks[i] != tracks[i]) {
        bail!(
            "teacher: {what}: segment {i} belongs to track {} for the teacher and {} for the student",
            outs.tracks[i],
            tracks[i]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_detected() {
        let outs = vec![
            TeacherOutput {
                logits: vec![1.0, -2.0, 3.5],
                embedding: vec![0.25, 0.5],
            },
            TeacherOutput {
                logits: vec![0.0, 1.0, 2.0],
                embedding: vec![-1.0, 7.0],
            },
        ];
        let b = encode(&outs);
        assert_eq!(decode(&b).unwrap(), outs);
        let mut flipped = b.clone();
        flipped[HEADER + 5] ^= 0x40;
        assert_eq!(decode(&flipped).unwrap_err(), "checksum mismatch");
        let e = decode(&b[..b.len() - 4]).unwrap_err();
        assert!(e.starts_with("truncated"), "{e}");
        assert!(decode(b"TGFEAT01").is_err());
    }
}
