//! `trainer augment IN.wav --aug SPEC --out OUT.wav [--seed K] [--copy C] [--float]`:
//! writes exactly the waveform the model would train on for offline copy `C`
//! (default 1) of this file under seed `K` (default 0): mono, 22050 Hz, the
//! waveform stages of `SPEC` (pitch, timeshift, noise) applied with the
//! random draws of a track named after the file stem. Spectrogram and batch
//! stages (specaugment, mixup) act on log-mels and batches, not audio, and are
//! reported but not applied. The file is written to a temporary file in the
//! output directory and renamed, so it is never half-written.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::augment::AugSpec;
use crate::augment::pitch;

/// The rate everything is trained at (`FrontendConfig::DEFAULT.sample_rate`).
const SAMPLE_RATE: u32 = 22050;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input WAV file (any rate, mono or multi-channel).
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

/// What can go wrong, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum AugmentError {
    /// The input could not be read as WAV.
    #[error("{path}: cannot read WAV: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: hound::Error,
    },
    /// The input has no channels or an unsupported sample format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Resampling to 22050 Hz failed.
    #[error("{path}: resampling to {SAMPLE_RATE} Hz: {source}")]
    Resample {
        /// The file.
        path: PathBuf,
        /// Why.
        source: pitch::PitchError,
    },
    /// The output could not be written.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Reads a WAV file as mono f32 at its own rate (int PCM scaled by
/// `1 / 2^(bits-1)`, channels averaged).
pub fn read_wav_mono(path: &Path) -> Result<(Vec<f32>, u32), AugmentError> {
    let read_err = |source| AugmentError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(read_err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(AugmentError::Format {
            path: path.to_path_buf(),
            reason: "WAV header declares 0 channels".into(),
        });
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(read_err)?,
        hound::SampleFormat::Int => {
            if !(1..=32).contains(&spec.bits_per_sample) {
                return Err(AugmentError::Format {
                    path: path.to_path_buf(),
                    reason: format!("unsupported sample size {} bits", spec.bits_per_sample),
                });
            }
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(read_err)?
        }
    };
    let mono = interleaved
        .chunks_exact(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok((mono, spec.sample_rate))
}

/// Writes mono samples at `sample_rate` as 16-bit PCM (clipped to [-1, 1))
/// or 32-bit float, through a temporary file renamed into place.
pub fn write_wav_mono(
    path: &Path,
    samples: &[f32],
    sample_rate: u32,
    float: bool,
) -> Result<(), AugmentError> {
    let write_err = |reason: String| AugmentError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| write_err(e.to_string()))?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: if float { 32 } else { 16 },
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    {
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| write_err(e.to_string()))?;
        let mut w = hound::WavWriter::new(BufWriter::new(file), spec)
            .map_err(|e| write_err(e.to_string()))?;
        for &s in samples {
            let r = if float {
                w.write_sample(s)
            } else {
                w.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            };
            r.map_err(|e| write_err(e.to_string()))?;
        }
        w.finalize().map_err(|e| write_err(e.to_string()))?;
    }
    tmp.persist(path)
        .map_err(|e| write_err(e.error.to_string()))?;
    Ok(())
}

/// Entry point.
pub fn run(args: Args) -> anyhow::Result<()> {
    let (mut samples, sr) = read_wav_mono(&args.input)?;
    if sr != SAMPLE_RATE {
        samples = pitch::resample(&samples, f64::from(SAMPLE_RATE) / f64::from(sr)).map_err(
            |source| AugmentError::Resample {
                path: args.input.clone(),
                source,
            },
        )?;
    }
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
    write_wav_mono(&args.out, &samples, SAMPLE_RATE, args.float)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
