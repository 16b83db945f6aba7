//! What defines a run and what it derives from its data: [`RunConfig`] (the study's settings by
//! default), where the audio comes from ([`DataSource`]), the input [`Normalisation`], the run's
//! `config.json` ([`RunFile`]), the names of the files in a run directory, and the parsing of
//! `--split` and `--aug`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};

use crate::augment::{AugMode, AugSpec};
pub use crate::data::split::parse_split;
use crate::models::backend::DeviceKind;
use crate::models::{
    ModelConfig, ModelKind, PosEnc, Widths, is_study_dropout, is_study_sample_rate, study_dropout,
    study_sample_rate,
};
use crate::teacher::HeadKind;

/// `config.json`: the [`RunFile`] of a run directory.
pub const CONFIG_JSON: &str = "config.json";
/// `metrics.json`: the test metrics, written once the run is complete.
pub const METRICS_JSON: &str = "metrics.json";
/// `epochs.csv`: one [`EpochRow`](crate::run::history::EpochRow) per finished epoch.
pub const EPOCHS_CSV: &str = "epochs.csv";
/// `split/`: the track lists of the split (`train.txt`, `valid.txt`, `test.txt`).
pub const SPLIT_DIR: &str = "split";
/// `checkpoints/`: the last complete checkpoint.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// `online-features/`: the current epoch's online-augmented training features (`--aug-mode
/// online`), emptied before each epoch and removed when training ends.
pub const ONLINE_DIR: &str = "online-features";

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
    /// Which epoch's network the run keeps (`--select`; the study's: the last).
    #[serde(default, skip_serializing_if = "Selection::is_last")]
    pub select: Selection,
    /// Learning-rate schedule over the epochs (`--lr-schedule`; the study's: constant).
    #[serde(default, skip_serializing_if = "LrSchedule::is_constant")]
    pub lr_schedule: LrSchedule,
    /// Dropout probability after each block of the baseline (`--dropout`; the study's: 0.5).
    #[serde(default = "study_dropout", skip_serializing_if = "is_study_dropout")]
    pub dropout: f64,
    /// Channels of the baseline's five blocks (`--widths`; the study's: 128,64,32,16,8).
    #[serde(default, skip_serializing_if = "Widths::is_study")]
    pub widths: Widths,
    /// Sample rate the front end reads (`--sample-rate`; the study's: 22050 Hz, librosa's
    /// defaults; 16000 selects `FrontendConfig::RATE16K`). Segment models only.
    #[serde(
        default = "study_sample_rate",
        skip_serializing_if = "is_study_sample_rate"
    )]
    pub sample_rate: u32,
    /// Train on stream-context examples (`--stream-context`): each training example is one
    /// block-5 column wider on either side, and the loss is on the middle columns, as the
    /// continuous `Classifier` computes a hop (`models::baseline::context_frames`). Baseline only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream_context: bool,
    /// Seconds between the starts of training segments (`--train-hop`); `None`: the segment
    /// length, the study's non-overlapping segments. Segment models only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_hop: Option<f32>,
    /// Seconds between the starts of validation and test segments (`--test-hop`); `None`: the
    /// segment length. A shorter hop gives the track vote more, overlapping, segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hop: Option<f32>,
    /// Distillation from a pretrained teacher (`--teacher`); `None`: hard labels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distil: Option<Distil>,
}

/// Knowledge distillation (`--teacher FILE` and its flags): the loss is
/// `(1 - alpha) * CE(student, labels) + alpha * T^2 * CE(student / T, softmax(teacher / T))`,
/// the second term being the KL divergence to the teacher's tempered genre posterior up to a
/// constant. The teacher hears exactly each training segment's audio (after every waveform
/// augmentation); mixup mixes the teacher's targets with the same weight and partner as the
/// inputs and the labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distil {
    /// The teacher's ONNX file (`--teacher`).
    pub teacher: PathBuf,
    /// Its sha256, recorded when the run starts and checked whenever the run loads it again.
    pub teacher_sha256: String,
    /// The genre head (`--teacher-head`).
    pub head: HeadKind,
    /// Zero-shot class map overrides (`--teacher-map genre=Class,...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map: Vec<(String, String)>,
    /// Weight of the teacher term (`--distil-alpha`, 0..=1).
    pub alpha: f64,
    /// Temperature (`--distil-t`, > 0).
    pub temperature: f64,
    /// L2 penalty of the probe (linfa's alpha on standardised embeddings).
    pub probe_l2: f64,
    /// Folder of unlabelled music (`--unlabelled`): its segments join every epoch's training
    /// set with the teacher's targets only (no label, no augmentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabelled: Option<PathBuf>,
}

impl Distil {
    /// Checks the numbers.
    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            (0.0..=1.0).contains(&self.alpha),
            "--distil-alpha must be within 0..=1, got {}",
            self.alpha
        );
        ensure!(
            self.temperature > 0.0 && self.temperature.is_finite(),
            "--distil-t must be positive, got {}",
            self.temperature
        );
        ensure!(
            self.probe_l2 > 0.0 && self.probe_l2.is_finite(),
            "the probe's L2 penalty must be positive, got {}",
            self.probe_l2
        );
        Ok(())
    }
}

/// Which network a run keeps for its metrics and export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// The network after the last epoch (the study's).
    #[default]
    Last,
    /// The epoch with the lowest validation loss (Won et al.'s tutorial); needs a validation
    /// split (every `--split` but `all` has one unless its fraction is 0).
    BestValid,
}

impl Selection {
    /// Whether this is the default, [`Selection::Last`].
    pub fn is_last(&self) -> bool {
        *self == Selection::Last
    }
}

/// The learning rate of each epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// `--lr` throughout (the study's).
    #[default]
    Constant,
    /// Cosine decay per epoch: epoch `e` (0-based) of `E` uses `lr · (1 + cos(π e / E)) / 2`.
    Cosine,
}

impl LrSchedule {
    /// Whether this is the default, [`LrSchedule::Constant`].
    pub fn is_constant(&self) -> bool {
        *self == LrSchedule::Constant
    }

    /// The learning rate of epoch `epoch` (0-based) of `epochs`, starting from `lr`.
    pub fn lr(self, lr: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let t = epoch as f64 / epochs.max(1) as f64;
                lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
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
            select: Selection::Last,
            lr_schedule: LrSchedule::Constant,
            dropout: study_dropout(),
            widths: Widths::default(),
            sample_rate: study_sample_rate(),
            stream_context: false,
            train_hop: None,
            test_hop: None,
            distil: None,
        }
    }
}

impl RunConfig {
    /// The model's display name, e.g. `baseline+coord`.
    pub fn model_name(&self) -> String {
        let mut base = match self.posenc {
            PosEnc::None => self.model.to_string(),
            p => format!("{}+{p}", self.model),
        };
        if !self.widths.is_study() {
            base = format!("{base}[{}]", self.widths);
        }
        if !is_study_sample_rate(&self.sample_rate) {
            base = format!("{base}@{}Hz", self.sample_rate);
        }
        if self.stream_context {
            base = format!("{base}+stream");
        }
        match self.distil {
            Some(_) => format!("{base}+distil"),
            None => base,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
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
        let spec = aug_spec(self)?;
        ensure!(
            !(spec.has_waveform_stages() && matches!(self.data, DataSource::Toy(_))),
            "--aug {:?}: waveform augmentation needs audio; the toy source has none",
            self.aug
        );
        ensure!(
            self.aug_mode == AugMode::Online || self.aug_copies >= 1 || !spec.has_waveform_stages(),
            "--aug-copies must be at least 1 for offline waveform augmentation"
        );
        let split = parse_split(&self.split)?;
        ensure!(
            self.select == Selection::Last || split.has_validation(),
            "--select best-valid needs a validation split; --split {:?} has none",
            self.split
        );
        ensure!(
            self.widths.is_study() || self.model == ModelKind::Baseline,
            "--widths applies to the baseline only; {} keeps its published widths",
            self.model
        );
        ensure!(
            crate::models::frontend_at(self.sample_rate).is_some(),
            "--sample-rate {}: the front ends are built for 22050 Hz (librosa's defaults) and \
             16000 Hz (FrontendConfig::RATE16K)",
            self.sample_rate
        );
        ensure!(
            !self.stream_context
                || (self.model == ModelKind::Baseline
                    && self.posenc == PosEnc::None
                    && !matches!(self.data, DataSource::Toy(_))),
            "--stream-context trains the baseline without positional encoding on audio (the \
             continuous Classifier streams only that)"
        );
        ensure!(
            is_study_sample_rate(&self.sample_rate) || self.model != ModelKind::Arbitrary,
            "--sample-rate {}: the arbitrary model keeps its own 22050 Hz front end",
            self.sample_rate
        );
        if let Some(d) = &self.distil {
            d.validate()?;
            ensure!(
                !matches!(self.data, DataSource::Toy(_)),
                "--teacher: distillation needs audio; the toy source has none"
            );
        }
        for (flag, hop) in [
            ("--train-hop", self.train_hop),
            ("--test-hop", self.test_hop),
        ] {
            if let Some(h) = hop {
                ensure!(
                    h.is_finite() && h > 0.0,
                    "{flag} must be a positive number of seconds, got {h}"
                );
                ensure!(
                    self.model != ModelKind::Arbitrary,
                    "{flag}: the arbitrary model takes whole tracks, not segments"
                );
            }
        }
        Ok(())
    }

    /// Re-scores on test segments every `hop` seconds (`eval --test-hop`); `None` keeps the
    /// run's own test hop. The changed config is validated.
    pub fn override_test_hop(&mut self, hop: Option<f32>) -> anyhow::Result<()> {
        if hop.is_some() {
            self.test_hop = hop;
            self.validate()?;
        }
        Ok(())
    }

    /// Equal up to the device (which may change between a run and its resumption).
    pub fn same_run(&self, other: &RunConfig) -> bool {
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
        let p = run_dir.join(CONFIG_JSON);
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

/// The parsed augmentation of a run.
pub fn aug_spec(cfg: &RunConfig) -> anyhow::Result<AugSpec> {
    cfg.aug
        .parse::<AugSpec>()
        .with_context(|| format!("--aug {:?}", cfg.aug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_by_hand() {
        let s = LrSchedule::Cosine;
        assert_eq!(s.lr(1e-3, 0, 10), 1e-3);
        assert!((s.lr(1e-3, 5, 10) - 0.5e-3).abs() < 1e-15);
        // epoch 9 of 10: (1 + cos(0.9 pi)) / 2 = 0.024471741852423234
        assert!((s.lr(1.0, 9, 10) - 0.024_471_741_852_423_234).abs() < 1e-15);
        let lrs: Vec<f64> = (0..10).map(|e| s.lr(1.0, e, 10)).collect();
        assert!(lrs.windows(2).all(|w| w[1] < w[0]), "{lrs:?}");
        assert_eq!(LrSchedule::Constant.lr(3e-4, 7, 10), 3e-4);
    }

    #[test]
    fn defaults_keep_old_config_files_readable_and_new_ones_unchanged() {
        let cfg = RunConfig::default();
        let json = serde_json::to_value(&cfg).unwrap();
        assert!(json.get("select").is_none() && json.get("lr_schedule").is_none());
        let back: RunConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, cfg);
        let sel = RunConfig {
            select: Selection::BestValid,
            lr_schedule: LrSchedule::Cosine,
            ..cfg
        };
        let json = serde_json::to_value(&sel).unwrap();
        assert_eq!(json["select"], "best-valid");
        assert_eq!(json["lr_schedule"], "cosine");
    }
    #[test]
    fn widths_and_sample_rate_are_written_only_when_not_the_studys() {
        let tiny = RunConfig {
            widths: Widths([8, 16, 32, 16, 8]),
            sample_rate: 16000,
            ..RunConfig::default()
        };
        let json = serde_json::to_value(&tiny).unwrap();
        assert_eq!(
            (&json["widths"][0], &json["sample_rate"]),
            (&8.into(), &16000.into())
        );
        assert_eq!(serde_json::from_value::<RunConfig>(json).unwrap(), tiny);
        assert_eq!(tiny.model_name(), "baseline[8,16,32,16,8]@16000Hz");
        let json = serde_json::to_value(RunConfig::default()).unwrap();
        assert!(json.get("widths").is_none() && json.get("sample_rate").is_none());
    }
}
