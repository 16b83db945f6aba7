//! `trainer reproduce`: run the study's grid (every network and augmentation × every seed).

use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::models::backend::DeviceKind;
use crate::run::config::RunConfig;
use crate::study::experiments::{self, Action, Shard, Study};

const EXAMPLES: &str = "\
Examples:
  trainer reproduce --synthetic --out runs/study
  trainer reproduce --data /data/gtzan --seeds 0,1,2 --split fault-filtered --out runs/study-ff
  trainer reproduce --data /data/gtzan --out runs/study --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
  trainer reproduce --synthetic --out runs/study --only baseline,baseline+coord --dry-run
  trainer report runs/study

Restarting the same command skips complete runs (metrics.json present) and resumes interrupted
ones from their last checkpoint.";

/// Arguments of `trainer reproduce`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub data: super::DataArgs,
    /// Epochs of every run.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seeds, comma-separated; every grid entry runs once per seed.
    #[arg(long, default_value = "0,1,2", value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// Split: random (70/30) or fault-filtered.
    #[arg(long, default_value = "random")]
    pub split: String,
    /// How waveform augmentation enters training: offline (the study's: copies made once,
    /// cached and added to the training set) or online (a fresh draw every epoch).
    #[arg(long, default_value = "offline")]
    pub aug_mode: crate::augment::AugMode,
    /// Augmented copies of every training track in offline mode.
    #[arg(long, default_value_t = 1)]
    pub aug_copies: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Backend: flex (CPU), ndarray, wgpu, cuda, libtorch (CPU) or libtorch-cuda[:N] (all but
    /// flex need the cargo feature of that name; both LibTorch ones need `libtorch`).
    #[arg(long, default_value = "flex")]
    pub device: DeviceKind,
    /// Run only shard I of N: every N-th run of the grid, starting at run I (0-based).
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Run only these grid entries (comma-separated labels, e.g. `baseline,baseline+noise`).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the plan (each run and whether it would be started, resumed or skipped) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// A distillation teacher (ONNX, needs `--features teacher`): adds the `baseline+distil` row,
    /// the baseline taught by it with the `distil` preset's head, alpha and temperature.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Study directory; each run goes to `<out>/<label>-s<seed>`.
    #[arg(long)]
    pub out: PathBuf,
}

impl Args {
    /// The study these arguments describe.
    pub fn study(&self) -> anyhow::Result<Study> {
        let data = self.data.source()?;
        let base = RunConfig {
            data,
            split: self.split.clone(),
            aug_mode: self.aug_mode,
            aug_copies: self.aug_copies,
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            device: self.device,
            distil: match &self.teacher {
                Some(t) => Some(study_distil(t)?),
                None => None,
            },
            ..RunConfig::default()
        };
        let mut study = Study::new(base, self.seeds.clone());
        if !self.only.is_empty() {
            let known: Vec<String> = study.grid.iter().map(|e| e.label.clone()).collect();
            for l in &self.only {
                if !known.contains(l) {
                    bail!(
                        "--only {l:?}: not a grid entry; valid: {}",
                        known.join(", ")
                    );
                }
            }
            study.grid.retain(|e| self.only.contains(&e.label));
        }
        Ok(study)
    }
}

/// The `distil` preset's teaching with the teacher file `t`.
fn study_distil(t: &std::path::Path) -> anyhow::Result<crate::run::config::Distil> {
    use crate::run::preset::{PROBE_L2, Preset};
    use crate::teacher::{TeacherError, sha256_hex};
    let bytes = std::fs::read(t).map_err(|source| TeacherError::Io {
        path: t.to_path_buf(),
        source,
    })?;
    let (head, alpha, temperature) = Preset::Distil.distil().context("the distil preset")?;
    Ok(crate::run::config::Distil {
        teacher: std::path::absolute(t).unwrap_or_else(|_| t.to_path_buf()),
        teacher_sha256: sha256_hex(&bytes),
        head,
        map: Vec::new(),
        alpha,
        temperature,
        probe_l2: PROBE_L2,
        unlabelled: None,
    })
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let study = args.study()?;
    if args.dry_run {
        let steps = experiments::plan(&study, &args.out, args.shard)?;
        for s in &steps {
            println!(
                "{:>3}  {:<32} {}",
                s.run.index,
                s.run.name,
                match s.action {
                    Action::Skip => "complete",
                    Action::Resume => "resume",
                    Action::Start => "start",
                }
            );
        }
        return Ok(());
    }
    let done = experiments::reproduce(&study, &args.out, args.shard)
        .with_context(|| format!("reproducing into {}", args.out.display()))?;
    let failed = done.failed();
    println!(
        "{} runs: {} trained, {} already complete, {} failed -> {}",
        done.steps.len(),
        done.trained().len(),
        done.steps.len() - done.trained().len() - failed.len(),
        failed.len(),
        args.out.display()
    );
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|(n, e)| format!("  {n}: {e}")).collect();
        bail!(
            "{} runs failed (rerun the same command to resume them):\n{}",
            failed.len(),
            list.join("\n")
        );
    }
    Ok(())
}
