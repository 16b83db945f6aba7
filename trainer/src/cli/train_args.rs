//! The training flags shared by `trainer run` and `trainer cv`: the network, augmentation,
//! optimisation, selection, seed, backend, and `--preset`.

use std::path::PathBuf;

use anyhow::{bail, ensure};

use crate::augment::AugMode;
use crate::models::backend::DeviceKind;
use crate::models::{ModelKind, PosEnc, Widths};
use crate::run::config::{DataSource, Distil, LrSchedule, RunConfig, Selection};
use crate::run::preset::{DEFAULT_ALPHA, DEFAULT_T, PROBE_L2, Preset};
use crate::teacher::head::parse_map;
use crate::teacher::{HeadKind, TeacherError, sha256_hex};

/// Training flags. Each is optional on the command line: unset flags take the `--preset`'s value
/// (default `study`, the paper's settings), set ones override it.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainArgs {
    /// Named recipe for every flag below: `study` (the paper's settings, the default), `best`
    /// (the recipe tuned on the development clips; see `trainer run --help`'s notes and
    /// docs/results/best-preset.md), `distil` (`best` taught by `--teacher`) or `tiny` (`distil`
    /// for the baseline at widths 8,16,32,16,8). Flags given explicitly override the preset.
    #[arg(long, default_value = "study")]
    pub preset: Preset,
    /// Network: baseline, arbitrary or resnet18 [preset study: baseline].
    #[arg(long)]
    pub model: Option<ModelKind>,
    /// Positional encoding of the baseline: none, coord or sinusoidal [study: none].
    #[arg(long)]
    pub posenc: Option<PosEnc>,
    /// Augmentation stack (e.g. `noise:sigma=0.001,pitch:range=4`); `none` for none [study: none].
    #[arg(long)]
    pub aug: Option<String>,
    /// How waveform augmentation enters training: offline (the study's: copies made once,
    /// cached and added to the training set) or online (a fresh draw every epoch).
    #[arg(long)]
    pub aug_mode: Option<AugMode>,
    /// Augmented copies of every training track in offline mode (the set grows by 1 + copies)
    /// [study: 1].
    #[arg(long)]
    pub aug_copies: Option<usize>,
    /// Epochs [study: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size [study: 32].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam learning rate [study: 1e-3]. (A negative value is parsed, then refused by the run's
    /// validation with a message naming it, rather than read as an unknown flag.)
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Learning-rate schedule over the epochs: constant or cosine [study: constant].
    #[arg(long)]
    pub lr_schedule: Option<LrSchedule>,
    /// Which epoch's network to keep: last, or best-valid (lowest validation loss; needs a
    /// validation split such as `--split random:0.2`) [study: last].
    #[arg(long)]
    pub select: Option<Selection>,
    /// Dropout probability after each block of the baseline [study: 0.5].
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Channels of the baseline's five blocks, `a,b,c,d,e`, each at most the study's
    /// [study: 128,64,32,16,8; tiny: 8,16,32,16,8].
    #[arg(long)]
    pub widths: Option<Widths>,
    /// Sample rate of the front end: 22050 (librosa's defaults) or 16000 (n_fft 1024, hop 372,
    /// 128 mels to 8 kHz: 130 frames per 3 s, for 16 kHz microphones) [study: 22050].
    #[arg(long)]
    pub sample_rate: Option<u32>,
    /// Train for the continuous Classifier: every training example carries one block-5 column
    /// (32 frames) of real audio on either side, and the dense layer reads the middle columns,
    /// as a hop of a stream does (baseline without positional encoding only).
    #[arg(long)]
    pub stream_context: bool,
    /// Seconds between the starts of the 3 s training segments; below 3 they overlap
    /// [study: 3, non-overlapping].
    #[arg(long)]
    pub train_hop: Option<f32>,
    /// Seconds between the starts of the 3 s validation and test segments; below 3 the track
    /// vote sees more, overlapping, segments [study: 3].
    #[arg(long)]
    pub test_hop: Option<f32>,
    /// Seed of initialisation, split, shuffling and dropout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Backend: flex (CPU), ndarray, wgpu, cuda, libtorch (CPU) or libtorch-cuda[:N] (all but
    /// flex need the cargo feature of that name; both LibTorch ones need `libtorch`).
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Distil from this pretrained teacher (an ONNX file with the tinygenre teacher contract;
    /// tools/teacher/README.md makes one). Needs a trainer built with `--features teacher`.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// The teacher file's expected sha256 (refused if it differs).
    #[arg(long)]
    pub teacher_sha256: Option<String>,
    /// The teacher's genre head: probe (logistic regression on its embedding, fitted on the
    /// training tracks) or zero-shot (its own classes mapped to genres) [distil: probe].
    #[arg(long)]
    pub teacher_head: Option<HeadKind>,
    /// Zero-shot map overrides, `genre=Class,...` (class names as the teacher spells them; the
    /// ten GTZAN genres map to their AudioSet classes by default).
    #[arg(long)]
    pub teacher_map: Option<String>,
    /// Weight of the teacher term in the loss, 0..=1 [distil: 0.7; otherwise 0.5].
    #[arg(long)]
    pub distil_alpha: Option<f64>,
    /// Distillation temperature [2].
    #[arg(long)]
    pub distil_t: Option<f64>,
    /// A folder of unlabelled music (.wav / .au, searched recursively) that only the teacher
    /// labels: its 3 s segments join every epoch's training set, taught by the teacher alone.
    #[arg(long)]
    pub unlabelled: Option<PathBuf>,
}

impl TrainArgs {
    /// The run configuration: the preset's, with every flag given on the command line replacing
    /// its value, and `data` and `split`.
    pub fn config(&self, data: DataSource, split: String) -> anyhow::Result<RunConfig> {
        let p = self.preset.config();
        Ok(RunConfig {
            model: self.model.unwrap_or(p.model),
            posenc: self.posenc.unwrap_or(p.posenc),
            aug: self.aug.clone().unwrap_or(p.aug),
            aug_mode: self.aug_mode.unwrap_or(p.aug_mode),
            aug_copies: self.aug_copies.unwrap_or(p.aug_copies),
            data,
            split,
            epochs: self.epochs.unwrap_or(p.epochs),
            batch: self.batch.unwrap_or(p.batch),
            lr: self.lr.unwrap_or(p.lr),
            seed: self.seed,
            device: self.device,
            select: self.select.unwrap_or(p.select),
            lr_schedule: self.lr_schedule.unwrap_or(p.lr_schedule),
            dropout: self.dropout.unwrap_or(p.dropout),
            widths: self.widths.unwrap_or(p.widths),
            sample_rate: self.sample_rate.unwrap_or(p.sample_rate),
            stream_context: self.stream_context || p.stream_context,
            train_hop: self.train_hop.or(p.train_hop),
            test_hop: self.test_hop.or(p.test_hop),
            distil: self.distil()?,
        })
    }

    /// The distillation settings: `None` without `--teacher` (an error under `--preset distil`,
    /// or when teacher flags are given without it).
    fn distil(&self) -> anyhow::Result<Option<Distil>> {
        let preset = self.preset.distil();
        let Some(path) = &self.teacher else {
            if preset.is_some() {
                bail!(
                    "--preset {} needs --teacher FILE (tools/teacher/README.md makes one)",
                    self.preset
                );
            }
            if self.teacher_head.is_some()
                || self.teacher_map.is_some()
                || self.distil_alpha.is_some()
                || self.distil_t.is_some()
                || self.teacher_sha256.is_some()
                || self.unlabelled.is_some()
            {
                bail!(
                    "--teacher-head, --teacher-map, --distil-alpha, --distil-t, --teacher-sha256 and --unlabelled need --teacher FILE"
                );
            }
            return Ok(None);
        };
        let bytes = std::fs::read(path).map_err(|source| TeacherError::Io {
            path: path.clone(),
            source,
        })?;
        let sha = sha256_hex(&bytes);
        if let Some(e) = &self.teacher_sha256
            && !e.eq_ignore_ascii_case(&sha)
        {
            return Err(TeacherError::HashMismatch {
                path: path.clone(),
                expected: e.clone(),
                found: sha,
            }
            .into());
        }
        let (head, alpha, t) = preset.unwrap_or((HeadKind::Probe, DEFAULT_ALPHA, DEFAULT_T));
        let map = match &self.teacher_map {
            Some(m) => parse_map(m).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        let d = Distil {
            teacher: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
            teacher_sha256: sha,
            head: self.teacher_head.unwrap_or(head),
            map,
            alpha: self.distil_alpha.unwrap_or(alpha),
            temperature: self.distil_t.unwrap_or(t),
            probe_l2: PROBE_L2,
            unlabelled: match &self.unlabelled {
                Some(u) => {
                    ensure!(u.is_dir(), "--unlabelled {}: not a folder", u.display());
                    Some(std::path::absolute(u).unwrap_or_else(|_| u.clone()))
                }
                None => None,
            },
        };
        d.validate()?;
        Ok(Some(d))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::run::preset::BEST_BATCH;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        train: TrainArgs,
    }

    fn config(args: &[&str]) -> anyhow::Result<RunConfig> {
        let cmd = Cmd::try_parse_from(std::iter::once("trainer").chain(args.iter().copied()))?;
        cmd.train.config(DataSource::Synthetic, "random".into())
    }

    #[test]
    fn no_flags_give_the_study_and_flags_override_the_preset() {
        assert_eq!(config(&[]).unwrap(), RunConfig::default());
        let c = config(&["--preset", "best", "--epochs", "3"]).unwrap();
        assert_eq!(c.epochs, 3);
        assert_eq!(c.batch, BEST_BATCH);
        assert_eq!(c.lr_schedule, LrSchedule::Cosine);
        let c = config(&["--lr-schedule", "cosine", "--select", "best-valid"]).unwrap();
        assert_eq!(
            (c.lr_schedule, c.select),
            (LrSchedule::Cosine, Selection::BestValid)
        );
        assert_eq!(c.epochs, 10);
        assert!(config(&["--preset", "fastest"]).is_err());
        assert_eq!(config(&["--preset", "best"]).unwrap().dropout, 0.2);
        assert_eq!(
            config(&["--preset", "best", "--dropout", "0.5"])
                .unwrap()
                .dropout,
            0.5
        );
    }
}
