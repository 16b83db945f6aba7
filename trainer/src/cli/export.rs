//! `trainer export`: write a trained baseline as an infer-core model file.

use std::path::PathBuf;

use crate::base::fsio::write_atomic;
use crate::run::config::DataSource;
use crate::ship::export::{self, Precision};

const EXAMPLES: &str = "\
Examples:
  trainer export --run runs/baseline-s0 --out models/baseline-s0-f32.postcard
  trainer export --run runs/baseline-s0 --int8 --calibrate 200 --out models/baseline-s0-int8.postcard";

/// Arguments of `trainer export`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Run directory of a trained baseline.
    #[arg(long)]
    pub run: PathBuf,
    /// Quantise to int8 (post-training, calibrated on training segments).
    #[arg(long)]
    pub int8: bool,
    /// Training segments to calibrate the int8 activation ranges on.
    #[arg(long, default_value_t = 200, requires = "int8")]
    pub calibrate: usize,
    /// Read the calibration audio from here instead of the run's dataset path.
    #[arg(long, requires = "int8")]
    pub data: Option<PathBuf>,
    /// The model file to write (atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let precision = if args.int8 {
        Precision::Int8 {
            calibrate: args.calibrate,
        }
    } else {
        Precision::F32
    };
    let data = args.data.map(|path| DataSource::Path { path });
    let model = export::export_run(&args.run, precision, data)?;
    let bytes = model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(&args.out, &bytes)?;
    println!(
        "{} ({}): {} bytes -> {}",
        model.name,
        if args.int8 { "int8" } else { "f32" },
        bytes.len(),
        args.out.display()
    );
    Ok(())
}
