//! `trainer prepare`: discover a dataset, split it and fill the feature cache, without training
//! (e.g. once on a login node before a grid of runs; `trainer run` then reads the cache).

use std::time::Instant;

use crate::models::ModelKind;
use crate::run::config::RunConfig;

const EXAMPLES: &str = "\
Examples:
  trainer prepare --data /data/gtzan                      # baseline / resnet18 features
  trainer prepare --data /data/gtzan --model arbitrary    # the Won et al. front end
  trainer prepare --synthetic --aug pitch:range=4 --aug-copies 1
  TINYGENRE_CACHE=/scratch/cache trainer prepare --data /data/gtzan";

/// Arguments of `trainer prepare`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub data: super::DataArgs,
    /// Network whose front end and segmentation to prepare: baseline, arbitrary or resnet18.
    #[arg(long, default_value = "baseline")]
    pub model: ModelKind,
    /// Split: random, random:VALID, fault-filtered or kfold:K:FOLD.
    #[arg(long, default_value = "random")]
    pub split: String,
    /// Augmentation stack whose offline copies to cache too (`none` for none).
    #[arg(long, default_value = "none")]
    pub aug: String,
    /// Offline augmented copies per training track.
    #[arg(long, default_value_t = 1)]
    pub aug_copies: usize,
    /// Seed of the split and of the augmented copies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data = args.data.source()?;
    let cfg = RunConfig {
        model: args.model,
        aug: args.aug,
        aug_copies: args.aug_copies,
        data,
        split: args.split,
        seed: args.seed,
        ..RunConfig::default()
    };
    let t0 = Instant::now();
    let (p, src) = crate::run::loader::prepare_audio(&cfg)?;
    let ds = src.dataset();
    println!(
        "{}: {} tracks ({} skipped), {} genres; train {} examples, test {} examples of {} x {}; cache {}; {:.1} s",
        ds.root.display(),
        ds.tracks.len(),
        ds.skipped.len(),
        ds.genres.len(),
        p.train.len(),
        p.test.len(),
        p.train.n_mels,
        p.input_frames,
        crate::run::loader::cache_root().join("features").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
