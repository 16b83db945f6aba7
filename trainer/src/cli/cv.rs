//! `trainer cv`: k-fold cross-validation of a CNN beside the classic baseline.

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::study::cv::{self, CrossValidation};
use crate::study::experiments::{Action, Shard};

const EXAMPLES: &str = "\
Examples:
  trainer cv --k 3 --data ../shared/data/gtzan-dev --out runs/cv-dev
  trainer cv --k 3 --preset best --data ../shared/data/gtzan-dev --out runs/cv-dev-best
  trainer cv --k 5 --data /data/gtzan --aug noise:sigma=0.001 --out runs/cv-noise
  trainer cv --k 5 --data /data/gtzan --out runs/cv --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT

Every fold is an ordinary run directory (<OUT>/fold-<i>, trained with --split kfold:K:i). Running
the same command again skips complete folds and resumes interrupted ones from their last
checkpoint; the summary (cv.md, cv.json, confusion_{cnn,classic}.png) is written once every fold
is complete.";

/// Arguments of `trainer cv`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Fraction of each fold's training tracks that validate (0: none, as before stop 29).
    #[arg(long, default_value_t = crate::data::split::DEFAULT_VALID_FRACTION)]
    pub valid: f32,
    #[command(flatten)]
    pub data: super::DataArgs,
    #[command(flatten)]
    pub train: super::TrainArgs,
    /// Train only shard I of N: every N-th fold, starting at fold I (0-based).
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Print the plan (each fold and whether it would be started, resumed or skipped) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Cross-validation directory; fold i goes to `<out>/fold-<i>`.
    #[arg(long)]
    pub out: PathBuf,
}

impl Args {
    /// The cross-validation these arguments describe.
    pub fn cv(&self) -> anyhow::Result<CrossValidation> {
        Ok(CrossValidation {
            k: self.k,
            base: self
                .train
                .config(self.data.source()?, format!("kfold:{}:0", self.k))?,
            valid: self.valid,
        })
    }
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let plan = args.cv()?;
    if args.dry_run {
        for s in plan.plan(&args.out, args.shard)? {
            let what = match s.action {
                Action::Skip => "complete",
                Action::Resume => "resume",
                Action::Start => "start",
            };
            println!("{:>3}  {:<10} {what}", s.run.index, s.run.name);
        }
        return Ok(());
    }
    let done = cv::run(&plan, &args.out, args.shard)
        .with_context(|| format!("cross-validating into {}", args.out.display()))?;
    match &done.summary {
        Some(s) => {
            println!("{}", s.table());
            for f in &done.files {
                eprintln!("wrote {}", f.display());
            }
        }
        None => println!(
            "{} of {} folds trained by this shard; run the other shards (or this command again) \
             for the summary",
            done.trained.trained().len(),
            plan.k
        ),
    }
    let failed = done.trained.failed();
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|(n, e)| format!("  {n}: {e}")).collect();
        bail!(
            "{} folds failed (rerun the same command to resume them):\n{}",
            failed.len(),
            list.join("\n")
        );
    }
    Ok(())
}
