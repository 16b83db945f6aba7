//! Data augmentation: additive noise, pitch shift, time shift (waveform),
//! SpecAugment masking (log-mel) and mixup (batch).
//!
//! An `--aug` string parses into an [`AugSpec`] (grammar in [`spec`]). Stages
//! run in a fixed order whatever the order written:
//! 1. waveform, before the front end: `pitch`, `timeshift`, `noise`
//!    ([`AugSpec::waveform_transform`] -> [`WaveAugment`], the feature cache's
//!    `WaveTransform`);
//! 2. spectrogram, on each un-normalised log-mel segment `[n_mels, frames]`:
//!    `specaugment` ([`AugSpec::apply_spectrogram`]);
//! 3. batch, last, on the normalised log-mel batch and one-hot targets:
//!    `mixup` ([`AugSpec::apply_batch`]).
//!
//! [`AugMode`] and `--aug-copies` decide how waveform stages enter training;
//! spectrogram and batch stages are always drawn afresh each time a batch is
//! built. Test (and validation) data is never augmented.
//!
//! Everything is deterministic given the seed: a [`WaveAugment`] seeds its
//! random generator from (spec, copy, seed, track name), so the same copy of
//! the same track is the same audio in every run and process.
//!
//! Imports: `base` and `data` (the feature cache runs the waveform stages).

mod grammar;
pub mod mixup;
pub mod noise;
pub mod pitch;
pub mod spec;
pub mod specaugment;
pub mod stretch;
pub mod timeshift;

use std::fmt;
use std::str::FromStr;

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

pub use mixup::{Mixup, MixupDraw};
pub use noise::NoiseLevel;
pub use spec::{AugSpec, AugSpecError, PitchSteps};
pub use specaugment::{Mask, MaskValue, SpecAugment};
pub use timeshift::{ShiftFill, TimeShift};

/// How waveform augmentation enters training (`--aug-mode`).
///
/// * `Offline`: `--aug-copies C` augmented copies of every training track are
///   made once (copies `1..=C`, see [`AugSpec::offline_transforms`]), cached by
///   the feature cache under the [`WaveAugment::key`], and added to the
///   original: the training set grows by the factor `1 + C`.
/// * `Online`: every epoch each training track is replaced by a fresh draw
///   (`AugSpec::waveform_transform(epoch, seed)`); the training set keeps its
///   size. The draws' features go to the run's own `online-features/` folder,
///   which holds only the current epoch's (`loader::epoch_train`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AugMode {
    /// Fixed augmented copies, made once and added to the training set.
    #[default]
    Offline,
    /// A fresh random draw every epoch, same training set size.
    Online,
}

impl AugMode {
    /// How many versions of each training track an epoch holds: `1 + copies`
    /// offline (the original and its copies), 1 online.
    pub fn versions_per_track(self, copies: usize) -> usize {
        match self {
            AugMode::Offline => 1 + copies,
            AugMode::Online => 1,
        }
    }
}

/// An `--aug-mode` value that is neither `offline` nor `online`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown augmentation mode `{0}`; valid: offline, online")]
pub struct AugModeError(pub String);

impl FromStr for AugMode {
    type Err = AugModeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "offline" => Ok(AugMode::Offline),
            "online" => Ok(AugMode::Online),
            other => Err(AugModeError(other.to_string())),
        }
    }
}

impl fmt::Display for AugMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AugMode::Offline => "offline",
            AugMode::Online => "online",
        })
    }
}

/// The waveform stages of a spec, bound to a copy number and a seed: the
/// feature cache's waveform hook (`cache::WaveTransform`).
#[derive(Debug, Clone, PartialEq)]
pub struct WaveAugment {
    pitch: Option<PitchSteps>,
    timeshift: Option<TimeShift>,
    noise: Option<NoiseLevel>,
    copy: usize,
    seed: u64,
    key: String,
}

/// The random values a [`WaveAugment`] drew for one track.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WaveDraw {
    /// Semitones of pitch shift.
    pub pitch_steps: Option<f32>,
    /// Time shift in samples (positive: later).
    pub shift_samples: Option<i64>,
    /// Noise standard deviation.
    pub noise_sigma: Option<f32>,
}

impl fmt::Display for WaveDraw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = self.pitch_steps {
            parts.push(format!("pitch {p:+} semitones"));
        }
        if let Some(s) = self.shift_samples {
            parts.push(format!("time shift {s:+} samples"));
        }
        if let Some(n) = self.noise_sigma {
            parts.push(format!("noise sigma {n}"));
        }
        if parts.is_empty() {
            f.write_str("no waveform change")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

impl WaveAugment {
    /// The cache key: the canonical waveform stages, the copy and the seed,
    /// e.g. `pitch:range=4,noise:sigma=0.001#copy=1#seed=42`. Distinct for
    /// distinct (stages, copy, seed).
    pub fn key(&self) -> String {
        self.key.clone()
    }

    /// The copy number this transform draws.
    pub fn copy(&self) -> usize {
        self.copy
    }

    /// The generator for one track: ChaCha12 seeded with the BLAKE3 hash of
    /// the key and the track name.
    fn rng_for(&self, track_name: &str) -> StdRng {
        let mut h = blake3::Hasher::new();
        h.update(self.key.as_bytes());
        h.update(&[0]);
        h.update(track_name.as_bytes());
        StdRng::from_seed(*h.finalize().as_bytes())
    }

    fn draw_with<R: Rng + ?Sized>(&self, sample_rate: u32, rng: &mut R) -> WaveDraw {
        WaveDraw {
            pitch_steps: self.pitch.map(|p| match p {
                PitchSteps::Fixed(s) => s,
                PitchSteps::Integer(r) => {
                    let r = i64::from(r);
                    rng.random_range(-r..=r) as f32
                }
                PitchSteps::Continuous(r) if r > 0.0 => rng.random_range(-r..=r),
                PitchSteps::Continuous(_) => 0.0,
            }),
            shift_samples: self.timeshift.map(|t| t.draw(sample_rate, rng)),
            noise_sigma: self.noise.map(|n| n.draw(rng)),
        }
    }

    /// The values [`apply_named`](Self::apply_named) would draw for this track.
    pub fn draw(&self, track_name: &str, sample_rate: u32) -> WaveDraw {
        self.draw_with(sample_rate, &mut self.rng_for(track_name))
    }

    /// Applies pitch shift, time shift and noise, in that order, to the
    /// waveform of the track called `track_name` (e.g. `blues.00000`) at
    /// `sample_rate`; the length is unchanged. Returns what was drawn.
    pub fn apply_named(
        &self,
        track_name: &str,
        samples: &mut Vec<f32>,
        sample_rate: u32,
    ) -> WaveDraw {
        let mut rng = self.rng_for(track_name);
        let draw = self.draw_with(sample_rate, &mut rng);
        if let Some(n) = draw.pitch_steps {
            // The spec parser only admits finite steps, and rubato accepts any
            // positive finite ratio, so this cannot fail.
            *samples = pitch::pitch_shift(samples, f64::from(n))
                .expect("pitch shift of a finite number of steps");
        }
        if let (Some(d), Some(t)) = (draw.shift_samples, self.timeshift) {
            timeshift::shift(samples, d, t.fill);
        }
        if let Some(sigma) = draw.noise_sigma {
            noise::add_noise(samples, sigma, &mut rng);
        }
        draw
    }
}

impl crate::data::cache::WaveTransform for WaveAugment {
    fn key(&self) -> String {
        self.key.clone()
    }
    fn apply(&self, track: &crate::base::dataset::Track, samples: &mut Vec<f32>, sample_rate: u32) {
        self.apply_named(&track.name, samples, sample_rate);
    }
}

impl AugSpec {
    /// The waveform transform for augmented copy `copy` under `seed`, or
    /// `None` when the spec has no waveform stage. Offline copies are numbered
    /// `1..=aug_copies`; online training passes the epoch number.
    pub fn waveform_transform(&self, copy: usize, seed: u64) -> Option<WaveAugment> {
        if !self.has_waveform_stages() {
            return None;
        }
        let key = format!("{}#copy={copy}#seed={seed}", self.waveform_string());
        Some(WaveAugment {
            pitch: self.pitch,
            timeshift: self.timeshift,
            noise: self.noise,
            copy,
            seed,
            key,
        })
    }

    /// The offline copies' transforms, copies `1..=copies` (empty without
    /// waveform stages). Together with the original track they make the
    /// `1 + copies` versions of [`AugMode::versions_per_track`].
    pub fn offline_transforms(&self, copies: usize, seed: u64) -> Vec<WaveAugment> {
        (1..=copies)
            .filter_map(|c| self.waveform_transform(c, seed))
            .collect()
    }

    /// Applies the spectrogram stage (specaugment), if any, to one
    /// un-normalised log-mel segment `mel: [n_mels, frames]`.
    pub fn apply_spectrogram<R: Rng + ?Sized>(
        &self,
        mel: &mut [f32],
        n_mels: usize,
        frames: usize,
        rng: &mut R,
    ) {
        if let Some(s) = &self.specaugment {
            s.apply(mel, n_mels, frames, rng);
        }
    }

    /// Applies the batch stage (mixup), if any, to the normalised batch
    /// `inputs: [batch, features]` and its one-hot `targets: [batch, classes]`.
    /// Returns what was drawn, `None` without mixup.
    pub fn apply_batch<R: Rng + ?Sized>(
        &self,
        inputs: &mut [f32],
        targets: &mut [f32],
        batch: usize,
        rng: &mut R,
    ) -> Option<MixupDraw> {
        self.mixup.map(|m| m.apply(inputs, targets, batch, rng))
    }
}
