//! `trainer classify`: genre of one song with a trained run.

use std::path::PathBuf;

use crate::classify;

const EXAMPLES: &str = "\
Examples:
  trainer classify song.wav --run runs/study/baseline-s0
  trainer classify song.au --run runs/study/resnet18-s1 --top 5";

/// Arguments of `trainer classify`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Audio file (WAV or Sun .au).
    pub song: PathBuf,
    /// Run directory written by `trainer run` or `trainer reproduce` (Burn checkpoint).
    #[arg(long)]
    pub run: PathBuf,
    /// Genres listed per segment.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

fn top(probs: &[f32], genres: &[String], k: usize) -> String {
    let mut ids: Vec<usize> = (0..probs.len()).collect();
    ids.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    ids.iter()
        .take(k.max(1))
        .map(|&g| format!("{} {:.3}", genres[g], probs[g]))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let c = classify::classify_file(&args.run, &args.song)?;
    if c.padded {
        eprintln!(
            "note: {} is shorter than one segment; it was zero-padded",
            args.song.display()
        );
    }
    for (i, s) in c.segments.iter().enumerate() {
        println!(
            "segment {i:>3}  {:>7.2} s  {}",
            s.start_seconds,
            top(&s.probs, &c.genres, args.top)
        );
    }
    println!(
        "vote: {} ({} of {} segments, mean probability {:.3})",
        c.genres[c.genre],
        c.votes[c.genre],
        c.segments.len(),
        c.mean_probs[c.genre]
    );
    for g in c.ranking() {
        println!(
            "  {:<12} votes {:>3}  mean probability {:.3}",
            c.genres[g], c.votes[g], c.mean_probs[g]
        );
    }
    Ok(())
}
