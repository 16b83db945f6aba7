//! `trainer teacher`: load a teacher file, check it against the contract, print what it says
//! about itself, and, given reference inputs and outputs (`.npy`), the engine's largest
//! difference from them and the time per window.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::ensure;

use crate::base::npy::read_f32;
use crate::teacher::Teacher;

/// `trainer teacher` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The teacher's ONNX file.
    #[arg(long)]
    pub teacher: PathBuf,
    /// Its expected sha256 (refused if it differs).
    #[arg(long)]
    pub sha256: Option<String>,
    /// A reference input: mono audio at the teacher's rate, `.npy` f32 (any shape; flattened).
    #[arg(long, requires = "logits")]
    pub wave: Option<PathBuf>,
    /// The reference logits for `--wave` (`.npy` f32).
    #[arg(long, requires = "wave")]
    pub logits: Option<PathBuf>,
    /// The reference embedding for `--wave` (`.npy` f32).
    #[arg(long, requires = "wave")]
    pub embedding: Option<PathBuf>,
    /// Timed repetitions of the reference input.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
}

fn max_abs(a: &[f32], b: &[f32]) -> anyhow::Result<f32> {
    ensure!(
        a.len() == b.len(),
        "{} values against {} in the reference",
        a.len(),
        b.len()
    );
    Ok(a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max))
}

/// Runs `trainer teacher`.
///
/// # Errors
/// The teacher's typed errors; unreadable reference files; a reference of another size.
pub fn run(args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let t = Teacher::load(&args.teacher, args.sha256.as_deref())?;
    let i = t.info();
    println!(
        "{}: {} ({} classes, {}-d embedding, {} Hz, window {} samples = {:.3} s), sha256 {}, made from weights with sha256 {}; loaded in {:.2} s",
        args.teacher.display(),
        i.name,
        i.class_names.len(),
        i.embedding_dim,
        i.sample_rate,
        i.window_samples,
        i.window_samples as f64 / f64::from(i.sample_rate),
        i.file_sha256,
        i.source_sha256,
        t0.elapsed().as_secs_f64()
    );
    let (Some(wave), Some(logits)) = (&args.wave, &args.logits) else {
        return Ok(());
    };
    let (_, x) = read_f32(wave)?;
    let (_, l) = read_f32(logits)?;
    let mut out = t.infer(&x)?;
    let t1 = Instant::now();
    for _ in 0..args.repeat {
        out = t.infer(&x)?;
    }
    let per = t1.elapsed().as_secs_f64() / args.repeat.max(1) as f64;
    let dl = max_abs(&out.logits, &l)?;
    print!("max abs difference from the reference: logits {dl:.3e}");
    if let Some(e) = &args.embedding {
        let (_, e) = read_f32(e)?;
        print!(", embedding {:.3e}", max_abs(&out.embedding, &e)?);
    }
    println!(
        "; {:.1} ms per input of {} samples ({} repetitions)",
        per * 1e3,
        x.len(),
        args.repeat
    );
    Ok(())
}
