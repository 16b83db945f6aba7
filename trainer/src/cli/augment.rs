//! `trainer augment IN.wav|IN.au --aug SPEC --out OUT.wav [--seed K] [--copy C] [--float]`:
//! writes exactly the waveform the model would train on for offline copy `C`
//! (default 1) of this file under seed `K` (default 0): read by [`crate::base::audio`]
//! as training reads it (mono, resampled to 22050 Hz by the same resampler), the
//! waveform stages of `SPEC` (pitch, timeshift, noise) applied with the
//! random draws of a track named after the file stem. Spectrogram and batch
//! stages (specaugment, mixup) act on log-mels and batches, not audio, and are
//! reported but not applied. The file is written to a temporary file in the
//! output directory and renamed, so it is never half-written.

use std::path::PathBuf;

use crate::augment::AugSpec;
use crate::base::audio::{self, WavData};

/// The rate everything is trained at (`FrontendConfig::DEFAULT.sample_rate`).
const SAMPLE_RATE: u32 = infer_core::config::FrontendConfig::DEFAULT.sample_rate;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input WAV or .au file (any rate, mono or multi-channel).
    pub input: PathBuf,
    /// Augmentation stack, e.g. `pitch:steps=2` or `noise:sigma=0.001,pitch:range=4`.
    #[arg(long)]
    pub aug: AugSpec,
    /// Output WAV file.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed (as `--seed` of `trainer run`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Which augmented copy (offline copies are numbered from 1; online
    /// training uses the epoch).
    #[arg(long, default_value_t = 1)]
    pub copy: usize,
    /// Write 32-bit float samples instead of 16-bit PCM.
    #[arg(long)]
    pub float: bool,
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    // Decoded, down-mixed and resampled exactly as training reads its tracks.
    let mut samples = audio::load_mono(&args.input, SAMPLE_RATE)
        .map_err(|e| anyhow::anyhow!("cannot read WAV or .au input: {e}"))?;
    let name = args
        .input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match args.aug.waveform_transform(args.copy, args.seed) {
        Some(t) => {
            let draw = t.apply_named(&name, &mut samples, SAMPLE_RATE);
            eprintln!("{name} (copy {}, seed {}): {draw}", args.copy, args.seed);
        }
        None => eprintln!(
            "{}: no waveform stage; writing the input at {SAMPLE_RATE} Hz",
            args.aug
        ),
    }
    if args.aug.has_spectrogram_stages() || args.aug.has_batch_stages() {
        eprintln!(
            "note: specaugment and mixup act on log-mels and batches during training, not on audio"
        );
    }
    let pcm;
    let data = if args.float {
        WavData::Float32(&samples)
    } else {
        pcm = audio::to_pcm16(&samples);
        WavData::Pcm16(&pcm)
    };
    audio::write_wav_mono(&args.out, data, SAMPLE_RATE)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
