//! `trainer eval`: re-evaluate a trained run (Burn) or an exported model file (infer-core).

use std::path::PathBuf;

use anyhow::bail;

use crate::evaluate::eval;
use crate::run::config::{DataSource, RunConfig, RunFile};

const EXAMPLES: &str = "\
Examples:
  trainer eval --run runs/baseline-s0
  trainer eval --run runs/baseline-s0 --data /data/gtzan
  trainer eval --run runs/baseline-s0 --test-hop 1.5          # overlapping test segments
  trainer eval --model models/baseline-s0-int8.postcard --run runs/baseline-s0
  trainer eval --model models/baseline-synth-int8.postcard --synthetic --json int8.json
  trainer eval --model models/baseline-synth-int8.postcard --reference models/baseline-synth-f32.postcard --data data/unseen
  trainer eval --model models/genre-int8.postcard --data /data/gtzan       # every track of the folder";

/// Arguments of `trainer eval`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Run directory written by `trainer run`. With `--model`: its split and data are used and
    /// its Burn model is evaluated beside the exported one.
    #[arg(long, required_unless_present = "model")]
    pub run: Option<PathBuf>,
    /// An exported model file (`trainer export`), run with infer-core on the host.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Read the audio from this GTZAN-layout directory instead of the run's data.
    #[arg(long, conflicts_with_all = ["synthetic", "toy"])]
    pub data: Option<PathBuf>,
    /// Use the default synthetic dataset (with `--model`).
    #[arg(long, requires = "model")]
    pub synthetic: bool,
    /// The in-memory toy set (`CLASSES:TRACKS:SEGMENTS:MELS:FRAMES`), for tests.
    #[arg(long, hide = true, requires = "model")]
    pub toy: Option<String>,
    /// Another exported model file scored on the same segments, e.g. the f32 export beside an
    /// int8 one: its accuracy and the top-1 agreement with it are reported (with `--model`).
    #[arg(long, requires = "model")]
    pub reference: Option<PathBuf>,
    /// Cut the test tracks into 3 s segments every this many seconds (overlapping below 3)
    /// instead of the run's own test hop.
    #[arg(long)]
    pub test_hop: Option<f32>,
    /// With `--model` and `--data`: which tracks to score (`--split` forms of `trainer run`);
    /// default `test`, every track of the folder. Without `--data`, the run's own split.
    #[arg(long, requires = "model")]
    pub split: Option<String>,
    /// Write the metrics JSON here (default: print it).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn write(json: Option<&std::path::Path>, s: &str) -> anyhow::Result<()> {
    match json {
        Some(p) => Ok(crate::base::fsio::write_atomic(p, s.as_bytes())?),
        None => {
            println!("{s}");
            Ok(())
        }
    }
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Some(model) = &args.model else {
        let Some(run) = &args.run else {
            bail!("give --run or --model");
        };
        let m = eval::evaluate_run(run, args.data.as_deref(), args.test_hop)?;
        write(args.json.as_deref(), &serde_json::to_string_pretty(&m)?)?;
        eprintln!(
            "segment accuracy {:.4}, track accuracy {:.4}",
            m.segment_accuracy, m.track_accuracy
        );
        return Ok(());
    };
    let mut cfg = match &args.run {
        Some(r) => RunFile::read(r)?.run,
        None => RunConfig::default(),
    };
    match (&args.data, args.synthetic, &args.toy) {
        (Some(p), _, _) => {
            cfg.data = DataSource::Path { path: p.clone() };
            // A folder given on its own is scored whole; with --run, its split applies.
            if args.run.is_none() {
                cfg.split = "test".into();
            }
        }
        (None, true, _) => cfg.data = DataSource::Synthetic,
        (None, false, Some(t)) => cfg.data = DataSource::Toy(super::parse_toy(t)?),
        (None, false, None) if args.run.is_some() => {}
        (None, false, None) => bail!("--model needs --data PATH, --synthetic or --run"),
    }
    if let Some(s) = &args.split {
        cfg.split = s.clone();
    }
    cfg.override_test_hop(args.test_hop)?;
    let m = eval::evaluate_model(model, &cfg, args.run.as_deref(), args.reference.as_deref())?;
    write(args.json.as_deref(), &serde_json::to_string_pretty(&m)?)?;
    eprintln!(
        "{} ({}): segment accuracy {:.4}, track accuracy {:.4}{}{}",
        m.name,
        m.precision,
        m.segment_accuracy,
        m.track_accuracy,
        match (m.float_segment_accuracy, m.top1_agreement_with_float) {
            (Some(f), Some(a)) => format!(" | Burn {f:.4}, top-1 agreement {a:.4}"),
            _ => String::new(),
        },
        match (
            m.reference_segment_accuracy,
            m.top1_agreement_with_reference
        ) {
            (Some(f), Some(a)) => format!(" | reference {f:.4}, top-1 agreement {a:.4}"),
            _ => String::new(),
        }
    );
    Ok(())
}
