//! One module per `trainer` subcommand: a clap `Args` struct and a `run` function.
//!
//! Imports: every layer; nothing imports it.

pub mod augment;
pub mod classify;
pub mod crosscheck;
pub mod cv;
pub mod eval;
pub mod export;
pub mod features;
pub mod prepare;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod synth;
pub mod teacher;
mod train_args;

pub use train_args::TrainArgs;

use std::path::PathBuf;

use anyhow::bail;

use crate::run::config::{DataSource, ToySpec};

/// Where the audio comes from: the data-source flags of `run`, `reproduce` and `prepare`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// GTZAN-layout dataset root.
    #[arg(long, conflicts_with_all = ["synthetic", "toy"])]
    pub data: Option<PathBuf>,
    /// Use the default synthetic dataset (generated once and cached).
    #[arg(long)]
    pub synthetic: bool,
    /// Use a small in-memory toy set of spectrogram patterns (no audio), e.g. for tests:
    /// `CLASSES:TRACKS_PER_CLASS:SEGMENTS_PER_TRACK:MELS:FRAMES`.
    #[arg(long, hide = true)]
    pub toy: Option<String>,
}

impl DataArgs {
    /// The data source these flags name; exactly one must be given.
    pub fn source(&self) -> anyhow::Result<DataSource> {
        Ok(match (&self.data, self.synthetic, &self.toy) {
            (Some(p), false, None) => DataSource::Path { path: p.clone() },
            (None, true, None) => DataSource::Synthetic,
            (None, false, Some(t)) => DataSource::Toy(parse_toy(t)?),
            _ => bail!("give exactly one of --data PATH or --synthetic"),
        })
    }
}

/// Parses `--toy CLASSES:TRACKS:SEGMENTS:MELS:FRAMES`.
pub(crate) fn parse_toy(s: &str) -> anyhow::Result<ToySpec> {
    let v: Vec<usize> = s.split(':').map(str::parse).collect::<Result<_, _>>()?;
    let [
        n_classes,
        tracks_per_class,
        segments_per_track,
        n_mels,
        frames,
    ] = v[..]
    else {
        bail!("--toy {s:?}: expected CLASSES:TRACKS:SEGMENTS:MELS:FRAMES");
    };
    Ok(ToySpec {
        n_classes,
        tracks_per_class,
        segments_per_track,
        n_mels,
        frames,
        ..ToySpec::default()
    })
}
