//! `trainer run`: train one model.

use std::path::PathBuf;

use crate::backend::DeviceKind;
use crate::config::RunConfig;
use crate::models::{ModelKind, PosEnc};
use crate::train;

const EXAMPLES: &str = "\
Examples:
  trainer run --model baseline --synthetic --out runs/smoke
  trainer run --model baseline --posenc coord --data ../shared/data/gtzan --epochs 10 --seed 0 --out runs/coord-s0
  trainer run --model resnet18 --data /data/gtzan --device wgpu --batch 32 --lr 1e-3 --out runs/resnet
  trainer run --model baseline --aug mixup --synthetic --out runs/mixup
  trainer run --model baseline --aug noise:sigma=0.001,pitch:range=4 --aug-copies 1 --synthetic --out runs/stack
  trainer run --model baseline --synthetic --out runs/smoke --resume   # continue an interrupted run";

/// Arguments of `trainer run`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Network: baseline, arbitrary or resnet18.
    #[arg(long, default_value = "baseline")]
    pub model: ModelKind,
    /// Positional encoding of the baseline: none, coord or sinusoidal.
    #[arg(long, default_value = "none")]
    pub posenc: PosEnc,
    /// Augmentation stack (e.g. `noise:sigma=0.001,pitch:range=4`); `none` for none.
    #[arg(long, default_value = "none")]
    pub aug: String,
    /// How waveform augmentation enters training: offline (the study's: copies made once,
    /// cached and added to the training set) or online (a fresh draw every epoch).
    #[arg(long, default_value = "offline")]
    pub aug_mode: crate::augment::AugMode,
    /// Augmented copies of every training track in offline mode (the set grows by 1 + copies).
    #[arg(long, default_value_t = 1)]
    pub aug_copies: usize,
    #[command(flatten)]
    pub data: super::DataArgs,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Split: random, fault-filtered or kfold.
    #[arg(long, default_value = "random")]
    pub split: String,
    /// Backend: flex (CPU), ndarray, wgpu or cuda (the last three need the cargo feature).
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Seed of initialisation, split, shuffling and dropout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue an interrupted run in `--out` from its last complete checkpoint.
    #[arg(long)]
    pub resume: bool,
}

impl Args {
    /// The run configuration these arguments describe.
    pub fn config(&self) -> anyhow::Result<RunConfig> {
        let data = self.data.source()?;
        Ok(RunConfig {
            model: self.model,
            posenc: self.posenc,
            aug: self.aug.clone(),
            aug_mode: self.aug_mode,
            aug_copies: self.aug_copies,
            data,
            split: self.split.clone(),
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            device: self.device,
        })
    }
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let m = train::run(&cfg, &args.out, args.resume)?;
    println!(
        "{}: segment accuracy {:.4}, track accuracy {:.4} ({} epochs, {:.1} s) -> {}",
        m.model,
        m.segment_accuracy,
        m.track_accuracy,
        m.epochs,
        m.seconds,
        args.out.join("metrics.json").display()
    );
    Ok(())
}
