//! `trainer features`: the log-mel spectrogram of one audio file as a float32
//! `.npy` `[n_mels, frames]` (the front end on the whole signal, as
//! `librosa.feature.melspectrogram` + `power_to_db` compute it), or, with
//! `--precompute ROOT`, the feature cache of a whole dataset.

use std::path::PathBuf;

use anyhow::Context;

use crate::base::dataset::Dataset;
use crate::base::segment::SegmentConfig;
use crate::data::cache::{self, FeatureCache, FrontendConfig};

/// Front-end presets.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// librosa's defaults: n_fft 2048, hop 512, 128 Slaney mels.
    Default,
    /// n_fft 1024, hop 512, 128 HTK mels without normalisation.
    Htk1024,
}

impl Preset {
    /// The configuration of this preset.
    pub fn config(self) -> FrontendConfig {
        match self {
            Preset::Default => FrontendConfig::DEFAULT,
            Preset::Htk1024 => FrontendConfig::HTK1024,
        }
    }
}

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Audio file (.wav or .au); resampled to the front end's rate if needed.
    #[arg(required_unless_present = "precompute")]
    pub file: Option<PathBuf>,
    /// Output .npy file (float32, [n_mels, frames]).
    #[arg(long, required_unless_present = "precompute")]
    pub out: Option<PathBuf>,
    /// Front-end configuration.
    #[arg(long, value_enum, default_value = "default")]
    pub config: Preset,
    /// Instead of one file: compute the feature cache of every track of the
    /// dataset under this root (3 s segments) and report the throughput.
    #[arg(long, conflicts_with_all = ["file", "out"])]
    pub precompute: Option<PathBuf>,
    /// Cache folder for --precompute.
    #[arg(long, default_value = "cache/features")]
    pub cache: PathBuf,
    /// Worker threads for --precompute (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cfg = args.config.config();
    if let Some(root) = &args.precompute {
        if let Some(n) = args.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .context("setting up the thread pool")?;
        }
        let ds = Dataset::discover(root)?;
        let cache = FeatureCache::open(&args.cache)?;
        let set = cache.precompute(&ds.tracks, &cfg, &SegmentConfig::default(), None)?;
        println!(
            "{} tracks, {} segments, {} skipped at discovery, {} skipped at decoding",
            set.n_tracks(),
            set.len(),
            ds.skipped.len(),
            set.skipped.len()
        );
        return Ok(());
    }
    let (Some(file), Some(out)) = (&args.file, &args.out) else {
        anyhow::bail!("need FILE and --out (or --precompute ROOT)");
    };
    let samples = crate::base::audio::load_mono(file, cfg.sample_rate)?;
    let (n_mels, frames, data) = cache::log_mel(&cfg, &samples)
        .map_err(|e| anyhow::anyhow!("{}: front end: {e}", file.display()))?;
    crate::base::npy::write_f32(out, &[n_mels, frames], &data)?;
    eprintln!(
        "{}: [{n_mels}, {frames}] -> {}",
        file.display(),
        out.display()
    );
    Ok(())
}
