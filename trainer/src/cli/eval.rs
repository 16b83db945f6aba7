//! `trainer eval`: re-evaluate a trained run.

use std::path::PathBuf;

use crate::eval;

const EXAMPLES: &str = "\
Examples:
  trainer eval --run runs/baseline-s0
  trainer eval --run runs/baseline-s0 --data /data/gtzan";

/// Arguments of `trainer eval`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Run directory written by `trainer run`.
    #[arg(long)]
    pub run: PathBuf,
    /// Read the audio from here instead of the dataset path recorded in the run.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Write the metrics JSON here (default: print it).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let m = eval::evaluate_run(&args.run, args.data.as_deref())?;
    let s = serde_json::to_string_pretty(&m)?;
    match &args.json {
        Some(p) => crate::train::write_atomic(p, s.as_bytes())?,
        None => println!("{s}"),
    }
    eprintln!(
        "segment accuracy {:.4}, track accuracy {:.4}",
        m.segment_accuracy, m.track_accuracy
    );
    Ok(())
}
