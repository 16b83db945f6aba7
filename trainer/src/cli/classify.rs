//! `trainer classify`: genre of one song with a trained run.

use std::path::PathBuf;

use crate::evaluate::classify;

const EXAMPLES: &str = "\
Examples:
  trainer classify song.wav --run runs/study/baseline-s0
  trainer classify song.au --run runs/study/resnet18-s1 --top 5
  trainer classify song.wav --model models/genre-int8.postcard       # infer-core, as on the device
  trainer classify song.wav --model models/genre-int8.postcard --stream --plot timeline.png";

/// Arguments of `trainer classify`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Audio file (WAV or Sun .au).
    pub song: PathBuf,
    /// Run directory written by `trainer run` or `trainer reproduce` (Burn checkpoint).
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub run: Option<PathBuf>,
    /// An exported model file (`trainer export`, f32 or int8), run with infer-core on the host.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Genres listed per segment.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Continuous classification as on the device (with `--model`): a label every
    /// `--hop-frames` log-mel frames from infer-core's streaming `Classifier`, the genre timeline.
    #[arg(long, requires = "model")]
    pub stream: bool,
    /// Frames between labels in `--stream` (a multiple of 32, at most 128 for the baseline).
    #[arg(long, default_value_t = 32, requires = "stream")]
    pub hop_frames: u32,
    /// Hops the smoothed posterior averages over (1..=8).
    #[arg(long, default_value_t = 4, requires = "stream")]
    pub smoothing: usize,
    /// Smallest smoothed posterior that decides; below it a hop is undecided.
    #[arg(long, default_value_t = 0.0, requires = "stream")]
    pub threshold: f32,
    /// Draw the timeline (posterior per genre over time, decision strip) to this PNG.
    #[arg(long, requires = "stream")]
    pub plot: Option<PathBuf>,
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

/// Prints the genre timeline of `--stream` and draws it with `--plot`.
fn stream(args: &Args, model: &std::path::Path) -> anyhow::Result<()> {
    let t = crate::evaluate::timeline::stream_file(
        model,
        &args.song,
        args.hop_frames,
        args.smoothing,
        args.threshold,
    )?;
    for (i, h) in t.hops.iter().enumerate() {
        let decided = match h.decision {
            Some(g) => format!("{:<10} {:.3}", t.genres[g], h.posterior[g]),
            None => "undecided".to_string(),
        };
        println!(
            "hop {i:>4}  {:>7.2} s  {decided}  (this window: {})",
            h.end_seconds, t.genres[h.top1]
        );
    }
    match t.majority() {
        Some(g) => println!(
            "stream: {} ({} hops every {:.3} s, smoothed over {})",
            t.genres[g],
            t.hops.len(),
            t.hop_seconds,
            args.smoothing
        ),
        None => println!("stream: undecided ({} hops)", t.hops.len()),
    }
    if let Some(p) = &args.plot {
        let title = format!(
            "{}: genre over time ({})",
            args.song
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            model
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        crate::evaluate::timeline::plot(&t, &title, p)?;
        eprintln!("timeline: {}", p.display());
    }
    Ok(())
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let (true, Some(m)) = (args.stream, &args.model) {
        return stream(&args, m);
    }
    let c = match (&args.model, &args.run) {
        (Some(m), _) => {
            let c = classify::classify_file_with_model(m, &args.song)?;
            let name = infer_core::model::Model::from_bytes(&std::fs::read(m)?)
                .map(|x| x.name().to_string())
                .unwrap_or_default();
            if name.contains("synth") {
                eprintln!(
                    "note: {} ({name}) was trained on synthetic audio; on real music its answers are close to guesses",
                    m.display()
                );
            }
            c
        }
        (None, Some(r)) => classify::classify_file(r, &args.song)?,
        (None, None) => anyhow::bail!("give --run or --model"),
    };
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
