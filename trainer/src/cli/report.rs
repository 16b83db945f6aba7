//! `trainer report`: results table, confusion matrices and learning curves of a study.

use std::path::PathBuf;

use anyhow::bail;

use crate::study::report;

const EXAMPLES: &str = "\
Examples:
  trainer report runs/study
  trainer report runs/study --out docs/results

Writes results.md, results.csv, report.json and figures/<run>/{confusion_track,confusion_segment,
curves}.{png,svg} into --out (default <STUDY>/report).";

/// Arguments of `trainer report`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Study directory written by `trainer reproduce` (or any directory of run directories).
    pub study: PathBuf,
    /// Output directory (default: `<STUDY>/report`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    if !report::is_study_dir(&args.study) {
        bail!(
            "{}: not a study directory (no study.json and no run directories with config.json)",
            args.study.display()
        );
    }
    let r = report::write_report(&args.study, args.out.as_deref())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| report::default_out(&args.study));
    print!(
        "{}",
        report::markdown(&crate::study::report::Report {
            runs: Vec::new(),
            ..r.clone()
        })
    );
    let figures: usize = r.runs.iter().map(|f| f.files.len()).sum();
    eprintln!(
        "{} rows, {} runs, {figures} figures -> {}",
        r.rows.len(),
        r.runs.len(),
        out.display()
    );
    Ok(())
}
