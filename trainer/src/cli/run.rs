//! `trainer run`: train one model.

use std::path::PathBuf;

use crate::config::RunConfig;
use crate::train;

const EXAMPLES: &str = "\
Examples:
  trainer run --model baseline --synthetic --out runs/smoke
  trainer run --model baseline --posenc coord --data ../shared/data/gtzan --epochs 10 --seed 0 --out runs/coord-s0
  trainer run --model resnet18 --data /data/gtzan --device wgpu --batch 32 --lr 1e-3 --out runs/resnet
  trainer run --model baseline --aug mixup --synthetic --out runs/mixup
  trainer run --model baseline --aug noise:sigma=0.001,pitch:range=4 --aug-copies 1 --synthetic --out runs/stack
  trainer run --model baseline --synthetic --out runs/smoke --resume   # continue an interrupted run
  trainer run --preset best --data ../shared/data/gtzan-dev --out runs/best
  trainer run --model baseline --split random:0.2 --select best-valid --synthetic --out runs/sel";

/// Arguments of `trainer run`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub train: super::TrainArgs,
    #[command(flatten)]
    pub data: super::DataArgs,
    /// Split: random (70/30), random:VALID (plus a validation fraction of the training part),
    /// fault-filtered or kfold:K:FOLD.
    #[arg(long, default_value = "random")]
    pub split: String,
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
        self.train.config(self.data.source()?, self.split.clone())
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
