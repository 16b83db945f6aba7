//! Audio decoding: WAV and Sun `.au`, down-mixed to mono `f32` in [-1, 1) and resampled with
//! rubato when the file's rate differs from the one asked for; and the one WAV writer
//! ([`write_wav_mono`]).
//!
//! Integer PCM is scaled by `1 / 2^(bits-1)` (as librosa / soundfile load 16-bit PCM:
//! `x / 32768`); more channels are averaged.
//!
//! Every file is checked from its header before anything is allocated for its samples: the
//! sample rate, channel count and duration against [`Limits`], the data the header promises
//! against the bytes the file holds ([`TRUNCATION_TOLERANCE`]), the encoding against the ones
//! decoded. Every bad input is an [`AudioError`] naming the file and the problem; nothing here
//! panics on a file's content. The decoders also run on bytes in memory ([`decode_bytes`]), which
//! is what `fuzz/` drives.

mod au;
mod error;
mod header;
mod limits;
mod wav;
mod write;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

pub use error::{AudioError, DecodeWarning};
pub use header::TRUNCATION_TOLERANCE;
pub use limits::{Limits, parse_max_seconds};
pub use write::{WavData, to_pcm16, write_wav_mono};

use header::Header;

/// What a cheap header check of an audio file finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// Frames (samples per channel) the file holds and a decoder returns (the header's count,
    /// or fewer when the file is a little short of it).
    pub frames: u64,
}

/// A decoded file: mono samples at the file's own rate, and what was noted on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Mono samples in [-1, 1).
    pub samples: Vec<f32>,
    /// The file's sample rate, Hz.
    pub sample_rate: u32,
    /// What was decoded anyway (a slightly truncated file, a partial last frame).
    pub warnings: Vec<DecodeWarning>,
}

/// The container of an audio file, from its extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    /// RIFF WAVE.
    Wav,
    /// Sun / NeXT `.au` (`.snd`).
    Au,
}

impl AudioKind {
    /// `Some(kind)` for `.wav` / `.au` / `.snd` files, `None` otherwise.
    pub fn from_path(path: &Path) -> Option<AudioKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "wav" => Some(AudioKind::Wav),
            "au" | "snd" => Some(AudioKind::Au),
            _ => None,
        }
    }

    fn of(path: &Path) -> Result<AudioKind, AudioError> {
        AudioKind::from_path(path).ok_or_else(|| AudioError::UnsupportedType {
            path: path.to_path_buf(),
        })
    }
}

/// The checked header of a `kind` file of `len` bytes read from `r`, and the frames to decode.
fn checked<R: Read + Seek>(
    r: &mut R,
    len: u64,
    kind: AudioKind,
    path: &Path,
    limits: &Limits,
) -> Result<(Header, header::Plan), AudioError> {
    let h = match kind {
        AudioKind::Wav => wav::header(r, path, len, limits)?,
        AudioKind::Au => au::header(r, path, len, limits)?,
    };
    let plan = h.plan(path, len, limits)?;
    Ok((h, plan))
}

fn info(h: &Header, plan: &header::Plan) -> AudioInfo {
    AudioInfo {
        sample_rate: h.sample_rate,
        channels: h.channels,
        frames: plan.frames,
    }
}

/// Decodes a `kind` file of `len` bytes from `r`; `path` is the name errors give.
fn decode_from<R: Read + Seek>(
    r: &mut R,
    len: u64,
    kind: AudioKind,
    path: &Path,
    limits: &Limits,
) -> Result<Decoded, AudioError> {
    let (h, plan) = checked(r, len, kind, path, limits)?;
    Ok(Decoded {
        samples: h.read_mono(r, path, plan.frames)?,
        sample_rate: h.sample_rate,
        warnings: plan.warnings,
    })
}

fn open(path: &Path) -> Result<(BufReader<File>, u64), AudioError> {
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok((BufReader::new(file), len))
}

/// Reads only the header of `path` (with [`Limits::process_default`]) and checks that the file is
/// one this module decodes, within the limits, not truncated beyond the tolerance, and holding at
/// least one frame. Cheap: no sample data is read.
pub fn probe(path: &Path) -> Result<AudioInfo, AudioError> {
    probe_with(path, &Limits::process_default())
}

/// [`probe`] with explicit limits.
pub fn probe_with(path: &Path, limits: &Limits) -> Result<AudioInfo, AudioError> {
    let kind = AudioKind::of(path)?;
    let (mut r, len) = open(path)?;
    let (h, plan) = checked(&mut r, len, kind, path, limits)?;
    Ok(info(&h, &plan))
}

/// [`probe_with`] on the bytes of a file in memory; `path` is only the name errors give.
pub fn probe_bytes(
    kind: AudioKind,
    bytes: &[u8],
    path: &Path,
    limits: &Limits,
) -> Result<AudioInfo, AudioError> {
    let (h, plan) = checked(
        &mut Cursor::new(bytes),
        bytes.len() as u64,
        kind,
        path,
        limits,
    )?;
    Ok(info(&h, &plan))
}

/// Decodes `path` to mono at its own rate, within `limits`, with the warnings noted.
pub fn decode(path: &Path, limits: &Limits) -> Result<Decoded, AudioError> {
    let kind = AudioKind::of(path)?;
    let (mut r, len) = open(path)?;
    decode_from(&mut r, len, kind, path, limits)
}

/// [`decode`] of the bytes of a `kind` file in memory; `path` is only the name errors give.
pub fn decode_bytes(
    kind: AudioKind,
    bytes: &[u8],
    path: &Path,
    limits: &Limits,
) -> Result<Decoded, AudioError> {
    decode_from(
        &mut Cursor::new(bytes),
        bytes.len() as u64,
        kind,
        path,
        limits,
    )
}

/// Prints each warning of `d` as one `warning:` line naming `path`; the samples and rate.
fn noted(path: &Path, d: Decoded) -> (Vec<f32>, u32) {
    for w in &d.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    (d.samples, d.sample_rate)
}

/// Decodes `path` to mono `f32` at its own sample rate: `(samples, sample_rate)`, within
/// [`Limits::process_default`]; warnings are printed.
pub fn load_mono_native(path: &Path) -> Result<(Vec<f32>, u32), AudioError> {
    Ok(noted(path, decode(path, &Limits::process_default())?))
}

/// Decodes `path` to mono `f32` at `target_sr` Hz within [`Limits::process_default`]: more
/// channels are averaged, another sample rate is resampled with rubato's FFT resampler (and a note
/// is printed saying so, once per file and rate pair in a process; it is never silently accepted), warnings are printed.
pub fn load_mono(path: &Path, target_sr: u32) -> Result<Vec<f32>, AudioError> {
    load_mono_with(path, target_sr, &Limits::process_default())
}

/// [`load_mono`] within `limits`.
pub fn load_mono_with(
    path: &Path,
    target_sr: u32,
    limits: &Limits,
) -> Result<Vec<f32>, AudioError> {
    let (samples, rate) = noted(path, decode(path, limits)?);
    if rate == target_sr {
        return Ok(samples);
    }
    // once per file and rate pair in a process (training reads each track every epoch)
    static NOTED: std::sync::Mutex<std::collections::BTreeSet<(std::path::PathBuf, u32, u32)>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let first = NOTED
        .lock()
        .map(|mut n| n.insert((path.to_path_buf(), rate, target_sr)))
        .unwrap_or(true);
    if first {
        eprintln!(
            "note: {}: resampling {rate} Hz -> {target_sr} Hz",
            path.display()
        );
    }
    resample(&samples, rate, target_sr).map_err(|reason| AudioError::Resample {
        path: path.to_path_buf(),
        from: rate,
        to: target_sr,
        reason,
    })
}

/// Resamples mono `samples` from `from` Hz to `to` Hz with rubato's synchronous FFT
/// resampler (band-limited; the startup delay is trimmed, so the output is aligned
/// with the input and holds `ceil(len * to / from)` samples). Non-finite samples are an error.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to {
        return Ok(samples.to_vec());
    }
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    if from == 0 || to == 0 {
        return Err(format!("cannot resample {from} Hz -> {to} Hz"));
    }
    // rubato panics on a NaN spectrum (found by fuzz/: a float WAV holding NaN)
    if let Some(i) = samples.iter().position(|x| !x.is_finite()) {
        return Err(format!(
            "sample {i} is not a finite number ({})",
            samples[i]
        ));
    }
    let input = vec![samples.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>()];
    let adapter =
        SequentialSliceOfVecs::new(&input, 1, samples.len()).map_err(|e| e.to_string())?;
    let mut rs = Fft::<f64>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| e.to_string())?;
    let out = rs
        .process_all(&adapter, samples.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(out.take_data().into_iter().map(|x| x as f32).collect())
}
