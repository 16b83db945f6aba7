//! `trainer synth`: write a synthetic GTZAN-layout dataset (see [`crate::data::synth`]).

use std::path::PathBuf;
use std::time::Instant;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output root; the clips go to `<out>/genres/<genre>/<genre>.000NN.wav`.
    #[arg(long)]
    pub out: PathBuf,
    /// Clips per genre.
    #[arg(long, default_value_t = crate::data::synth::DEFAULT_PER_GENRE)]
    pub per_genre: usize,
    /// Clip length in seconds.
    #[arg(long, default_value_t = crate::data::synth::DEFAULT_SECONDS)]
    pub seconds: f32,
    /// Seed (the same seed always gives the same files). The default is reserved for sets made
    /// with this command; the `--synthetic` set, the demo model's and the tests' use others.
    #[arg(long, default_value_t = crate::data::synth::CLI_SEED)]
    pub seed: u64,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    crate::data::synth::generate(&args.out, args.per_genre, args.seconds, args.seed)?;
    eprintln!(
        "synth: {} clips of {} s in {:.1} s -> {}",
        10 * args.per_genre,
        args.seconds,
        start.elapsed().as_secs_f64(),
        args.out.join("genres").display()
    );
    Ok(())
}
