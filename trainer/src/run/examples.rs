//! Examples ready for a network: the log-mel segments (or whole tracks) of a split, held in
//! memory or as an index into the feature cache ([`FeatureStore`]), and the batches built from
//! them: cropping, the input [`Normalisation`] and padding.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{Context, bail, ensure};

use crate::data::cache::CachedSet;
use crate::run::config::Normalisation;

/// A set of log-mel examples (segments, or whole tracks for `arbitrary`).
#[derive(Clone, Debug, Default)]
pub struct Examples {
    /// Mel bands.
    pub n_mels: usize,
    /// Each example `[n_mels, frames_i]`, mel-major, in memory or in the feature cache.
    pub features: FeatureStore,
    /// Class of each example.
    pub labels: Vec<usize>,
    /// Track id of each example (segments of one track share it).
    pub tracks: Vec<usize>,
}

/// Where the examples' log-mel values live.
#[derive(Clone, Debug)]
pub enum FeatureStore {
    /// In memory (the toy source, tests).
    Memory(Vec<Vec<f32>>),
    /// In the on-disk feature cache, read one segment at a time when a batch is built: memory
    /// holds only the index (a set and an entry per example), whatever the dataset's size.
    Cache(Vec<(Arc<CachedSet>, usize)>),
}

impl Default for FeatureStore {
    fn default() -> Self {
        FeatureStore::Memory(Vec::new())
    }
}

impl Examples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Frames of example `i`.
    pub fn frames(&self, i: usize) -> usize {
        match &self.features {
            FeatureStore::Memory(v) => v.get(i).map_or(0, |x| x.len() / self.n_mels.max(1)),
            FeatureStore::Cache(v) => v
                .get(i)
                .and_then(|(set, k)| set.entry(*k))
                .map_or(0, |e| e.frames),
        }
    }
    /// The log-mel of example `i`, `[n_mels, frames]` mel-major (read from the cache if it lives
    /// there).
    pub fn get(&self, i: usize) -> anyhow::Result<Cow<'_, [f32]>> {
        match &self.features {
            FeatureStore::Memory(v) => v
                .get(i)
                .map(|x| Cow::Borrowed(x.as_slice()))
                .with_context(|| format!("example {i} out of range ({} held)", v.len())),
            FeatureStore::Cache(v) => {
                let (set, k) = v
                    .get(i)
                    .with_context(|| format!("example {i} out of range ({} held)", v.len()))?;
                Ok(Cow::Owned(set.load(*k)?))
            }
        }
    }
    /// Appends the examples of `other` (same store kind).
    pub fn extend(&mut self, other: Examples) -> anyhow::Result<()> {
        if self.is_empty() {
            *self = other;
            return Ok(());
        }
        ensure!(
            self.n_mels == other.n_mels,
            "examples of different mel bands"
        );
        match (&mut self.features, other.features) {
            (FeatureStore::Memory(a), FeatureStore::Memory(b)) => a.extend(b),
            (FeatureStore::Cache(a), FeatureStore::Cache(b)) => a.extend(b),
            _ => bail!("cannot mix in-memory and cached examples"),
        }
        self.labels.extend(other.labels);
        self.tracks.extend(other.tracks);
        Ok(())
    }
}

/// Data ready for training.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Genre names.
    pub genres: Vec<String>,
    /// Training examples.
    pub train: Examples,
    /// Validation examples (empty when the split has none).
    pub valid: Examples,
    /// Test examples.
    pub test: Examples,
    /// Frames of the model input (examples are cropped / zero-padded to this).
    pub input_frames: usize,
    /// Fingerprint of the dataset.
    pub fingerprint: String,
    /// Track lists of the split (relative paths), when the data came from disk.
    pub split_lists: Option<[Vec<String>; 3]>,
}

/// Mean and standard deviation over every value of the training examples (one streaming pass).
pub fn normalisation(train: &Examples) -> anyhow::Result<Normalisation> {
    let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
    for i in 0..train.len() {
        let x = train.get(i)?;
        for &v in x.iter() {
            n += 1.0;
            s += v as f64;
            s2 += (v as f64) * (v as f64);
        }
    }
    let mean = if n > 0.0 { s / n } else { 0.0 };
    let var = if n > 0.0 {
        (s2 / n - mean * mean).max(0.0)
    } else {
        1.0
    };
    let std = if var > 1e-12 { var.sqrt() } else { 1.0 };
    Ok(Normalisation {
        mean: mean as f32,
        std: std as f32,
    })
}

/// Build a normalised input batch `[b, 1, n_mels, frames]` from examples `idx`, each cropped to
/// `frames` at `offsets[i]` (zero-padded after normalisation where an example is shorter).
///
/// # Errors
/// Reading a cached example failed.
pub fn batch_input(
    ex: &Examples,
    idx: &[usize],
    offsets: &[usize],
    frames: usize,
    norm: Normalisation,
) -> anyhow::Result<Vec<f32>> {
    let per = ex.n_mels * frames;
    let mut out = vec![0f32; idx.len() * per];
    for ((&i, &off), dst) in idx.iter().zip(offsets).zip(out.chunks_exact_mut(per)) {
        crop_example(ex, i, off, frames, dst, |s| (s - norm.mean) / norm.std)?;
    }
    Ok(out)
}

/// Copies frames `off..off + frames` of every mel band of example `i` into `dst`
/// (`[n_mels, frames]`), each value mapped through `f`; frames past the example's end keep what
/// `dst` holds (the caller's padding).
///
/// # Errors
/// The example cannot be read from the feature cache, or has an inconsistent size.
pub fn crop_example(
    ex: &Examples,
    i: usize,
    off: usize,
    frames: usize,
    dst: &mut [f32],
    f: impl Fn(f32) -> f32,
) -> anyhow::Result<()> {
    let m = ex.n_mels;
    let src = ex.get(i)?;
    let fi = ex.frames(i);
    ensure!(
        src.len() == m * fi,
        "example {i}: {} values, expected {m} x {fi}",
        src.len()
    );
    ensure!(
        dst.len() == m * frames,
        "example {i}: output is not {m} x {frames}"
    );
    let n = frames.min(fi.saturating_sub(off));
    for mel in 0..m {
        let s = &src[mel * fi + off..mel * fi + off + n];
        for (d, &s) in dst[mel * frames..mel * frames + n].iter_mut().zip(s) {
            *d = f(s);
        }
    }
    Ok(())
}
