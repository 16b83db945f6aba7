//! The training loop: [`RunConfig`] (the study's settings by default) and [`run`].
//!
//! Reproducibility: the model is initialised after seeding the device with `seed`; every epoch
//! re-seeds the device (dropout masks) and its own shuffling/cropping RNG from `(seed, epoch)`, so
//! an interrupted run resumed from its last checkpoint (model, Adam state, epoch counter) takes
//! exactly the same steps as an uninterrupted one on the CPU.

use std::borrow::Cow;
use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::loss::cross_entropy_with_logits;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::augment::{AugMode, AugSpec};
use crate::backend::DeviceKind;
use crate::cache::CachedSet;
use crate::eval;
use crate::metrics::{self, Metrics};
use crate::models::{Model, ModelConfig, ModelKind, PosEnc};

/// Where the audio comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum DataSource {
    /// A GTZAN-layout directory (`genres/<genre>/*.wav|au`).
    Path {
        /// Dataset root.
        path: PathBuf,
    },
    /// The default synthetic set (`synth::ensure_default`).
    Synthetic,
    /// A small in-memory set of log-mel-like patterns (no audio): for tests of the loop.
    Toy(ToySpec),
}

/// An in-memory toy dataset: class `c` is a horizontal band of mel bins whose loudness is
/// modulated over time at a class-specific rate, in Gaussian noise, with a random gain per track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToySpec {
    /// Classes.
    pub n_classes: usize,
    /// Tracks per class.
    pub tracks_per_class: usize,
    /// Segments per track.
    pub segments_per_track: usize,
    /// Mel bands.
    pub n_mels: usize,
    /// Frames per segment.
    pub frames: usize,
    /// Noise standard deviation (dB).
    pub noise_db: f32,
}

impl Default for ToySpec {
    fn default() -> Self {
        Self {
            n_classes: 4,
            tracks_per_class: 10,
            segments_per_track: 4,
            n_mels: 32,
            frames: 32,
            noise_db: 6.0,
        }
    }
}

/// Everything that defines a run. `Default` is the study's setting (baseline, 10 epochs,
/// batch 32, Adam 1e-3, no augmentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Network.
    pub model: ModelKind,
    /// Positional encoding (baseline only).
    pub posenc: PosEnc,
    /// Augmentation stack (`--aug`), `none` for none.
    pub aug: String,
    /// How waveform augmentation enters training (`--aug-mode`; the study's: offline).
    #[serde(default)]
    pub aug_mode: AugMode,
    /// Augmented copies of each training track in offline mode (`--aug-copies`).
    #[serde(default = "default_aug_copies")]
    pub aug_copies: usize,
    /// Data.
    pub data: DataSource,
    /// Split: `random`, `fault-filtered` or `kfold` (`kfold:K:FOLD`).
    pub split: String,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of initialisation, split, shuffling, cropping and dropout.
    pub seed: u64,
    /// Backend (not part of a run's identity: a run may be resumed on another device).
    pub device: DeviceKind,
}

fn default_aug_copies() -> usize {
    1
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            model: ModelKind::Baseline,
            posenc: PosEnc::None,
            aug: "none".into(),
            aug_mode: AugMode::Offline,
            aug_copies: 1,
            data: DataSource::Synthetic,
            split: "random".into(),
            epochs: 10,
            batch: 32,
            lr: 1e-3,
            seed: 0,
            device: DeviceKind::Flex,
        }
    }
}

impl RunConfig {
    /// The model's display name, e.g. `baseline+coord`.
    pub fn model_name(&self) -> String {
        match self.posenc {
            PosEnc::None => self.model.to_string(),
            p => format!("{}+{p}", self.model),
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        ensure!(self.epochs >= 1, "--epochs must be at least 1");
        ensure!(
            self.batch >= 2,
            "--batch must be at least 2 (BatchNorm needs 2 examples)"
        );
        ensure!(
            self.lr > 0.0 && self.lr.is_finite(),
            "--lr must be positive, got {}",
            self.lr
        );
        let spec = crate::loader::aug_spec(self)?;
        ensure!(
            !(spec.has_waveform_stages() && matches!(self.data, DataSource::Toy(_))),
            "--aug {:?}: waveform augmentation needs audio; the toy source has none",
            self.aug
        );
        ensure!(
            self.aug_mode == AugMode::Online || self.aug_copies >= 1 || !spec.has_waveform_stages(),
            "--aug-copies must be at least 1 for offline waveform augmentation"
        );
        crate::loader::parse_split(&self.split)?;
        Ok(())
    }

    /// Equal up to the device (which may change between a run and its resumption).
    fn same_run(&self, other: &RunConfig) -> bool {
        RunConfig {
            device: self.device,
            ..other.clone()
        } == *self
    }
}

/// Input normalisation: `(x - mean) / std`, one scalar each over the training set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean of the training log-mel values.
    pub mean: f32,
    /// Their standard deviation.
    pub std: f32,
}

/// `config.json` of a run: the [`RunConfig`] plus what training derived from the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// The settings.
    pub run: RunConfig,
    /// Structure of the network.
    pub model: ModelConfig,
    /// Scalar mean of the training log-mel values.
    pub input_mean: f32,
    /// Scalar standard deviation of the training log-mel values.
    pub input_std: f32,
    /// Genre names, index = class id.
    pub genres: Vec<String>,
    /// Fingerprint of the dataset.
    pub dataset_fingerprint: String,
}

impl RunFile {
    /// Read `config.json` from a run directory.
    pub fn read(run_dir: &Path) -> anyhow::Result<Self> {
        let p = run_dir.join("config.json");
        let s = fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&s)
            .with_context(|| format!("{}: not a tinygenre run config", p.display()))
    }

    /// The normalisation.
    pub fn normalisation(&self) -> Normalisation {
        Normalisation {
            mean: self.input_mean,
            std: self.input_std,
        }
    }
}

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
    /// Test examples.
    pub test: Examples,
    /// Frames of the model input (examples are cropped / zero-padded to this).
    pub input_frames: usize,
    /// Fingerprint of the dataset.
    pub fingerprint: String,
    /// Track lists of the split (relative paths), when the data came from disk.
    pub split_lists: Option<[Vec<String>; 3]>,
}

/// Load (or generate) the data a run needs.
pub fn prepare(cfg: &RunConfig) -> anyhow::Result<Prepared> {
    match &cfg.data {
        DataSource::Toy(spec) => Ok(toy(spec, cfg.seed)),
        DataSource::Path { .. } | DataSource::Synthetic => Ok(crate::loader::prepare_audio(cfg)?.0),
    }
}

fn toy(spec: &ToySpec, seed: u64) -> Prepared {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x7079_5f74_6f79);
    let normal = rand_distr::Normal::new(0.0f32, spec.noise_db.max(1e-6)).expect("finite std");
    let (m, f) = (spec.n_mels, spec.frames);
    let mut all_features: Vec<Vec<f32>> = Vec::new();
    let mut all = Examples {
        n_mels: m,
        ..Default::default()
    };
    let mut track = 0;
    for c in 0..spec.n_classes {
        let lo = c * m / spec.n_classes;
        let hi = ((c + 1) * m / spec.n_classes).max(lo + 1);
        let rate = (c + 1) as f32 / f as f32 * 2.0;
        for _ in 0..spec.tracks_per_class {
            let gain: f32 = rng.random_range(10.0..20.0);
            for _ in 0..spec.segments_per_track {
                let phase: f32 = rng.random_range(0.0..std::f32::consts::TAU);
                let mut x = vec![0f32; m * f];
                for (i, v) in x.iter_mut().enumerate() {
                    let (mi, t) = (i / f, i % f);
                    let band = if (lo..hi).contains(&mi) {
                        gain * (0.6 + 0.4 * (std::f32::consts::TAU * rate * t as f32 + phase).sin())
                    } else {
                        0.0
                    };
                    *v = -50.0 + band + rng.sample(normal);
                }
                all_features.push(x);
                all.labels.push(c);
                all.tracks.push(track);
            }
            track += 1;
        }
    }
    // split tracks 80/20 by a seeded shuffle (per class, so both sides hold every class)
    let mut test_tracks = std::collections::HashSet::new();
    for c in 0..spec.n_classes {
        let mut ids: Vec<usize> =
            (c * spec.tracks_per_class..(c + 1) * spec.tracks_per_class).collect();
        ids.shuffle(&mut rng);
        let n_test = (spec.tracks_per_class / 5).max(1);
        test_tracks.extend(ids.into_iter().take(n_test));
    }
    let (mut train, mut test) = (
        Examples {
            n_mels: m,
            ..Default::default()
        },
        Examples {
            n_mels: m,
            ..Default::default()
        },
    );
    let (mut train_f, mut test_f) = (Vec::new(), Vec::new());
    for (i, x) in all_features.into_iter().enumerate() {
        let (dst, f) = if test_tracks.contains(&all.tracks[i]) {
            (&mut test, &mut test_f)
        } else {
            (&mut train, &mut train_f)
        };
        f.push(x);
        dst.labels.push(all.labels[i]);
        dst.tracks.push(all.tracks[i]);
    }
    train.features = FeatureStore::Memory(train_f);
    test.features = FeatureStore::Memory(test_f);
    Prepared {
        genres: (0..spec.n_classes).map(|c| format!("class{c}")).collect(),
        train,
        test,
        input_frames: f,
        fingerprint: format!("toy:{}", serde_json::to_string(spec).unwrap_or_default()),
        split_lists: None,
    }
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

/// Augmentation seam (docs/architecture.md): waveform transforms run in the data module before
/// the front end, spectrogram stages on each example after it, batch stages (mixup) here on the
/// normalised batch and its one-hot targets. With `--aug none` this leaves the batch unchanged.
pub fn apply_batch_stages(
    spec: &AugSpec,
    inputs: &mut [f32],
    targets: &mut [f32],
    batch: usize,
    n_mels: usize,
    rng: &mut Xoshiro256PlusPlus,
) {
    // SpecAugment fills with the segment mean (or zero); the mean commutes with the affine
    // normalisation, so masking the normalised example equals masking before normalising.
    if spec.has_spectrogram_stages() && batch > 0 {
        let per = inputs.len() / batch;
        let frames = per / n_mels.max(1);
        for x in inputs.chunks_exact_mut(per) {
            spec.apply_spectrogram(x, n_mels, frames, rng);
        }
    }
    spec.apply_batch(inputs, targets, batch, rng);
}

fn mix(seed: u64, epoch: usize) -> u64 {
    // splitmix64 of (seed, epoch)
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One row of `epochs.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (of the dropout-on forward passes).
    pub train_accuracy: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test segment accuracy.
    pub test_accuracy: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}

/// `checkpoints/state.json`: what, besides weights and optimiser, a resumption needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TrainState {
    epochs_done: usize,
    rows: Vec<EpochRow>,
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, flushed and
/// synced, then renamed over `path`. On any error (e.g. a full disk) the temporary file is
/// removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| {
            format!(
                "writing {} ({} bytes; is the disk full?)",
                path.display(),
                bytes.len()
            )
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // NamedTempFile is created 0600; results are ordinary files.
        let _ = tmp
            .as_file()
            .set_permissions(fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> anyhow::Result<()> {
    write_atomic(path, &serde_json::to_vec_pretty(v)?)
}

fn write_epochs_csv(path: &Path, rows: &[EpochRow]) -> anyhow::Result<()> {
    let mut s = String::from("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n");
    for r in rows {
        s += &format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.3}\n",
            r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.seconds
        );
    }
    write_atomic(path, s.as_bytes())
}

/// Paths of the checkpoint inside `runs/<name>/checkpoints/`.
pub fn checkpoint_paths(run_dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let d = run_dir.join("checkpoints");
    (
        d.join("model.bpk"),
        d.join("optim.bpk"),
        d.join("state.json"),
    )
}

/// Load a run's network from its last checkpoint onto `device`.
pub fn load_model(run_dir: &Path, file: &RunFile, device: &Device) -> anyhow::Result<Model> {
    let (model_path, _, _) = checkpoint_paths(run_dir);
    let record = ModuleRecord::load(&model_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    file.model
        .init(device)
        .try_load_record(record)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: does not fit {:?}: {e}",
                model_path.display(),
                file.model
            )
        })
}

fn save_checkpoint(
    run_dir: &Path,
    model: &Model,
    optim: &ModuleOptimizer,
    state: &TrainState,
) -> anyhow::Result<()> {
    let (model_path, optim_path, state_path) = checkpoint_paths(run_dir);
    fs::create_dir_all(model_path.parent().unwrap_or(run_dir))?;
    let mb = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    let ob = optim
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serialising the optimiser: {e}"))?;
    // The state file is the commit point: it names the epoch the two others belong to. Write
    // the weights under epoch-tagged names first, then the state, then move them into place.
    let e = state.epochs_done;
    let tagged = |p: &Path| p.with_extension(format!("{e}.bpk"));
    write_atomic(&tagged(&model_path), &mb)?;
    write_atomic(&tagged(&optim_path), &ob)?;
    write_json(&state_path.with_extension(format!("{e}.json")), state)?;
    fs::rename(tagged(&model_path), &model_path)?;
    fs::rename(tagged(&optim_path), &optim_path)?;
    fs::rename(state_path.with_extension(format!("{e}.json")), &state_path)?;
    Ok(())
}

/// Find the last complete checkpoint: the newest `state.{e}.json` or `state.json` whose model
/// and optimiser files for the same epoch exist.
fn latest_checkpoint(run_dir: &Path) -> anyhow::Result<Option<(TrainState, PathBuf, PathBuf)>> {
    let (model_path, optim_path, state_path) = checkpoint_paths(run_dir);
    let mut best: Option<(TrainState, PathBuf, PathBuf)> = None;
    let mut consider = |sp: PathBuf, mp: PathBuf, op: PathBuf| -> anyhow::Result<()> {
        if sp.exists() && mp.exists() && op.exists() {
            let st: TrainState = serde_json::from_slice(&fs::read(&sp)?)
                .with_context(|| format!("{}", sp.display()))?;
            if best
                .as_ref()
                .is_none_or(|b| st.epochs_done > b.0.epochs_done)
            {
                best = Some((st, mp, op));
            }
        }
        Ok(())
    };
    if state_path.exists() {
        let st: TrainState = serde_json::from_slice(&fs::read(&state_path)?)?;
        let e = st.epochs_done;
        // interrupted between the renames: the tagged files are the matching ones
        let pick = |p: &Path| {
            let t = p.with_extension(format!("{e}.bpk"));
            if t.exists() { t } else { p.to_path_buf() }
        };
        consider(state_path.clone(), pick(&model_path), pick(&optim_path))?;
    }
    if let Ok(rd) = fs::read_dir(run_dir.join("checkpoints")) {
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(e) = name
                .strip_prefix("state.")
                .and_then(|s| s.strip_suffix(".json"))
                .and_then(|s| s.parse::<usize>().ok())
            {
                consider(
                    entry.path(),
                    model_path.with_extension(format!("{e}.bpk")),
                    optim_path.with_extension(format!("{e}.bpk")),
                )?;
            }
        }
    }
    Ok(best)
}

/// Progress reporting: a bar on a terminal, log lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total_steps: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total_steps);
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Self { bar }
    }
    fn step(&self, epoch: usize, epochs: usize, loss: f64, seg_per_s: f64) {
        if let Some(b) = &self.bar {
            b.set_prefix(format!("epoch {epoch}/{epochs}"));
            b.set_message(format!("loss {loss:.4} {seg_per_s:.1} seg/s"));
            b.inc(1);
        }
    }
    fn epoch(&self, r: &EpochRow, epochs: usize) {
        let line = format!(
            "epoch {}/{}: train loss {:.4} acc {:.3} | test loss {:.4} acc {:.3} | {:.1} s",
            r.epoch,
            epochs,
            r.train_loss,
            r.train_accuracy,
            r.test_loss,
            r.test_accuracy,
            r.seconds
        );
        match &self.bar {
            Some(b) => {
                b.println(line);
                b.reset();
            }
            None => eprintln!("{line}"),
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// One optimisation step on a batch: forward, soft-target cross-entropy, backward, Adam.
///
/// `x`: `[b, 1, n_mels, frames]` on an autodiff device; `y`: `[b, classes]` target
/// probabilities (one-hot, or mixed by mixup). Returns the updated model, the batch loss and the
/// arg-max class of each example.
pub fn train_step(
    model: Model,
    optim: &mut ModuleOptimizer,
    x: Tensor<4>,
    y: Tensor<2>,
    lr: f64,
) -> (Model, f64, Vec<i64>) {
    let logits = model.forward(x); // [b, classes]
    let pred = logits
        .clone()
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap_or_default();
    let loss = cross_entropy_with_logits(logits, y); // [1]
    let loss_v = loss.clone().into_scalar::<f32>() as f64;
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), loss_v, pred)
}

/// The optimiser of every run: Adam with PyTorch's defaults (betas 0.9/0.999, eps 1e-8).
pub fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

/// Train a model as `cfg` says, writing `out_dir` (see docs/architecture.md), and return the
/// test metrics. With `resume`, continue from the last complete checkpoint in `out_dir`.
pub fn run(cfg: &RunConfig, out_dir: &Path, resume: bool) -> anyhow::Result<Metrics> {
    cfg.validate()?;
    let config_path = out_dir.join("config.json");
    if resume {
        let old = RunFile::read(out_dir).context("--resume: no run to resume")?;
        if !old.run.same_run(cfg) {
            bail!(
                "--resume: {} was started with a different configuration:\n  saved: {}\n  given: {}",
                config_path.display(),
                serde_json::to_string(&RunConfig {
                    device: cfg.device,
                    ..old.run.clone()
                })?,
                serde_json::to_string(cfg)?
            );
        }
    } else if config_path.exists() {
        bail!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out_dir.display()
        );
    }
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let (data, audio) = match &cfg.data {
        DataSource::Toy(spec) => (toy(spec, cfg.seed), None),
        _ => {
            let (p, a) = crate::loader::prepare_audio(cfg)?;
            (p, Some(a))
        }
    };
    let spec = crate::loader::aug_spec(cfg)?;
    ensure!(
        !data.train.is_empty() && !data.test.is_empty(),
        "empty training or test set"
    );
    let norm = normalisation(&data.train)?;
    let model_cfg = ModelConfig {
        kind: cfg.model,
        posenc: cfg.posenc,
        n_classes: data.genres.len(),
        n_mels: data.train.n_mels,
        frames: data.input_frames,
    };
    model_cfg.validate()?;
    let file = RunFile {
        run: cfg.clone(),
        model: model_cfg.clone(),
        input_mean: norm.mean,
        input_std: norm.std,
        genres: data.genres.clone(),
        dataset_fingerprint: data.fingerprint.clone(),
    };
    if resume {
        let old = RunFile::read(out_dir)?;
        ensure!(
            old.dataset_fingerprint == file.dataset_fingerprint && old.model == file.model,
            "--resume: the dataset changed since the run started ({} vs {})",
            old.dataset_fingerprint,
            file.dataset_fingerprint
        );
    }
    write_json(&config_path, &file)?;
    if let Some(lists) = &data.split_lists {
        let d = out_dir.join("split");
        fs::create_dir_all(&d)?;
        for (name, list) in ["train.txt", "valid.txt", "test.txt"].iter().zip(lists) {
            write_atomic(&d.join(name), (list.join("\n") + "\n").as_bytes())?;
        }
    }

    let plain = cfg.device.device()?;
    let device = plain.clone().autodiff();
    device.seed(cfg.seed);
    let mut model = model_cfg.init(&device);
    let mut optim = optimizer();
    let mut state = TrainState {
        epochs_done: 0,
        rows: Vec::new(),
    };
    if resume && let Some((st, mp, op)) = latest_checkpoint(out_dir)? {
        let record =
            ModuleRecord::load(&mp).map_err(|e| anyhow::anyhow!("{}: {e}", mp.display()))?;
        model = model
            .try_load_record(record)
            .map_err(|e| anyhow::anyhow!("{}: {e}", mp.display()))?;
        optim = optim
            .load(&op)
            .map_err(|e| anyhow::anyhow!("{}: {e}", op.display()))?;
        eprintln!(
            "resuming {} after epoch {}",
            out_dir.display(),
            st.epochs_done
        );
        state = st;
    }

    let n_classes = data.genres.len();
    let frames = data.input_frames;
    let m = data.train.n_mels;
    let steps_per_epoch = data.train.len().div_ceil(cfg.batch) as u64;
    let progress = Progress::new(steps_per_epoch);
    for epoch in state.epochs_done..cfg.epochs {
        let t0 = Instant::now();
        let epoch_seed = mix(cfg.seed, epoch + 1);
        device.seed(epoch_seed);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(epoch_seed);
        // Online augmentation: this epoch's fresh draw of every training track.
        let online = match (&audio, cfg.aug_mode) {
            (Some(a), AugMode::Online) => crate::loader::epoch_train(a, &spec, epoch, cfg.seed)?,
            _ => None,
        };
        let train = online.as_ref().unwrap_or(&data.train);
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        for idx in order.chunks(cfg.batch) {
            if idx.len() < 2 {
                continue; // BatchNorm cannot normalise a batch of one
            }
            let offsets: Vec<usize> = idx
                .iter()
                .map(|&i| {
                    let spare = train.frames(i).saturating_sub(frames);
                    if spare > 0 {
                        rng.random_range(0..=spare)
                    } else {
                        0
                    }
                })
                .collect();
            let b = idx.len();
            let mut x = batch_input(train, idx, &offsets, frames, norm)?;
            let mut y = vec![0f32; b * n_classes];
            for (k, &i) in idx.iter().enumerate() {
                y[k * n_classes + train.labels[i]] = 1.0;
            }
            apply_batch_stages(&spec, &mut x, &mut y, b, m, &mut rng);
            let xt = Tensor::<4>::from_data(TensorData::new(x, [b, 1, m, frames]), &device);
            let yt = Tensor::<2>::from_data(TensorData::new(y, [b, n_classes]), &device);
            let (next, loss_v, pred) = train_step(model, &mut optim, xt, yt, cfg.lr);
            model = next;
            ensure!(
                loss_v.is_finite(),
                "training diverged at epoch {}: loss {loss_v}",
                epoch + 1
            );
            loss_sum += loss_v * b as f64;
            seen += b;
            correct += idx
                .iter()
                .zip(&pred)
                .filter(|(i, p)| train.labels[**i] as i64 == **p)
                .count();
            progress.step(
                epoch + 1,
                cfg.epochs,
                loss_v,
                seen as f64 / t0.elapsed().as_secs_f64(),
            );
        }
        let valid = model.valid();
        let pred = eval::predict(&valid, &data.test, frames, norm, cfg.batch, &plain)?;
        let row = EpochRow {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            test_loss: pred.loss,
            test_accuracy: pred.accuracy(&data.test.labels),
            seconds: t0.elapsed().as_secs_f64(),
        };
        progress.epoch(&row, cfg.epochs);
        state.rows.push(row);
        state.epochs_done = epoch + 1;
        save_checkpoint(out_dir, &model, &optim, &state)?;
        write_epochs_csv(&out_dir.join("epochs.csv"), &state.rows)?;
    }
    progress.finish();

    let valid = model.valid();
    let pred = eval::predict(&valid, &data.test, frames, norm, cfg.batch, &plain)?;
    let ev = metrics::evaluate(n_classes, &data.test.labels, &data.test.tracks, &pred.probs);
    let metrics = eval::assemble(
        &file,
        ev,
        state.rows.iter().map(|r| r.seconds).sum(),
        state.epochs_done,
    );
    write_json(&out_dir.join("metrics.json"), &metrics)?;
    Ok(metrics)
}
