//! `trainer`: argument parsing and dispatch only; the work lives in the library.

use clap::{Parser, Subcommand};
use trainer::cli;

#[global_allocator]
static GLOBAL: trainer::base::alloc::Allocator = trainer::base::alloc::Allocator;

#[derive(Parser)]
#[command(
    name = "trainer",
    version,
    about = "tinygenre: music genre classification, from workstation to microcontroller"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Longest audio clip any command reads, in seconds; longer files are refused from their
    /// header, before they are decoded (sample rates must be 8..192 kHz, channels 1..8).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 600.0,
          value_parser = trainer::base::audio::parse_max_seconds)]
    max_duration: f64,
}

#[derive(Subcommand)]
enum Command {
    /// Write the log-mel spectrogram of an audio file as a float32 .npy [n_mels, frames].
    Features(cli::features::Args),
    /// Generate a synthetic GTZAN-layout dataset.
    Synth(cli::synth::Args),
    /// Discover, split and cache the features of a dataset without training.
    Prepare(cli::prepare::Args),
    /// Train one model.
    Run(cli::run::Args),
    /// Evaluate a trained run (Burn) or an exported model (infer-core).
    Eval(cli::eval::Args),
    /// Export a trained baseline as an infer-core model file (f32 or int8).
    Export(cli::export::Args),
    /// Apply an augmentation to a WAV file and write the result.
    Augment(cli::augment::Args),
    /// Run the study's grid (every network and augmentation x every seed); restartable.
    Reproduce(cli::reproduce::Args),
    /// k-fold cross-validation of a CNN beside the classic baseline; restartable.
    Cv(cli::cv::Args),
    /// Results table, confusion matrices and learning curves of a study directory.
    Report(cli::report::Args),
    /// Classify one song with a trained run: per-segment genres and the majority vote.
    Classify(cli::classify::Args),
    /// Run the firmware under QEMU and compare it with infer-core on the host.
    Crosscheck(cli::crosscheck::Args),
    /// Check a distillation teacher (ONNX): its contract, and its outputs against references.
    Teacher(cli::teacher::Args),
}

/// Runs the command; an error is printed on one line, its causes joined by ": " (the file, then
/// the problem), and the process exits with 1.
fn main() -> std::process::ExitCode {
    trainer::base::alloc::keep_freed_memory();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` would repeat a cause that its error already prints (an I/O error inside a
            // decoder's "file: problem"); join the chain, skipping such repeats.
            let mut line = String::new();
            for cause in e.chain().map(|c| c.to_string()) {
                if line.is_empty() {
                    line = cause;
                } else if !line.ends_with(&cause) {
                    line = format!("{line}: {cause}");
                }
            }
            eprintln!("Error: {line}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let limits = trainer::base::audio::Limits::DEFAULT.with_max_seconds(cli.max_duration);
    if trainer::base::audio::Limits::set_process_default(limits).is_err() {
        anyhow::bail!("audio limits were set twice");
    }
    match cli.command {
        Command::Features(a) => cli::features::run(a),
        Command::Synth(a) => cli::synth::run(a),
        Command::Prepare(a) => cli::prepare::run(a),
        Command::Run(a) => cli::run::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::Export(a) => cli::export::run(a),
        Command::Augment(a) => cli::augment::run(a),
        Command::Reproduce(a) => cli::reproduce::run(a),
        Command::Cv(a) => cli::cv::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::Classify(a) => cli::classify::run(a),
        Command::Crosscheck(a) => cli::crosscheck::run(a),
        Command::Teacher(a) => cli::teacher::run(a),
    }
}
