//! Export of a trained baseline to infer-core's model file (`docs/model-format.md`): f32 as
//! trained ([`float`]), or int8 by post-training quantisation calibrated on training segments
//! ([`int8`]).

mod float;
mod int8;

use std::path::Path;

use anyhow::{Context, ensure};
use infer_core::format::owned::OwnedModel;

pub use float::{SEGMENT_SECONDS, frontend_for, to_f32};
pub use int8::{LOGIT_SLACK, Ranges, calibrate, quantize};

use crate::evaluate::inference::segment;
use crate::run::checkpoint::load_baseline;
use crate::run::config::{DataSource, RunConfig, RunFile};
use crate::run::examples::Examples;
use crate::run::loader::prepare;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 weights as trained.
    F32,
    /// int8 post-training quantisation calibrated on this many training segments.
    Int8 {
        /// Calibration segments (the first `n` of a seeded shuffle of the training set).
        calibrate: usize,
    },
}

/// The calibration segments: `n` training examples picked by a seeded shuffle (all if fewer).
///
/// # Errors
/// As [`segment`].
pub fn calibration_set(
    ex: &Examples,
    n: usize,
    frames: usize,
    pad: f32,
    seed: u64,
) -> anyhow::Result<Vec<Vec<f32>>> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut idx: Vec<usize> = (0..ex.len()).collect();
    idx.shuffle(&mut rand::rngs::Xoshiro256PlusPlus::seed_from_u64(
        seed ^ 0x6361_6c69_6272,
    ));
    idx.truncate(n);
    idx.iter().map(|&i| segment(ex, i, frames, pad)).collect()
}

/// Exports a run directory: f32, or int8 calibrated on the run's training segments (obtained
/// through [`prepare`]; `data` overrides where the run's data is read from).
///
/// # Errors
/// Not a baseline run, unreadable checkpoint, data errors, quantisation errors.
pub fn export_run(
    run_dir: &Path,
    precision: Precision,
    data: Option<DataSource>,
) -> anyhow::Result<OwnedModel> {
    let (cfg, plain) = load_baseline(run_dir)?;
    let file = RunFile::read(run_dir)?;
    let name = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let f32_model = to_f32(&plain, &name, &file.genres)
        .with_context(|| format!("exporting {}", run_dir.display()))?;
    let Precision::Int8 { calibrate: n } = precision else {
        return Ok(f32_model);
    };
    ensure!(n >= 1, "--calibrate must be at least 1");
    let cfg = RunConfig {
        data: data.unwrap_or(cfg.data),
        ..cfg
    };
    let prepared = prepare(&cfg)
        .with_context(|| format!("{}: loading calibration data", run_dir.display()))?;
    ensure!(
        prepared.train.n_mels == plain.n_mels,
        "the calibration data has {} mel bands, the model {}",
        prepared.train.n_mels,
        plain.n_mels
    );
    let set = calibration_set(&prepared.train, n, plain.frames, plain.input_mean, cfg.seed)?;
    ensure!(!set.is_empty(), "the run's training set is empty");
    let refs: Vec<&[f32]> = set.iter().map(Vec::as_slice).collect();
    let ranges = calibrate(&f32_model, &refs)?.for_argmax();
    quantize(&f32_model, &ranges)
}
