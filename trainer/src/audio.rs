//! Audio decoding: WAV (via hound) and Sun `.au` (hand-written reader), down-mixed
//! to mono `f32` in [-1, 1) and resampled with rubato when the file's rate differs
//! from the one asked for; and the one WAV writer ([`write_wav_mono`]).
//!
//! Integer PCM is scaled by `1 / 2^(bits-1)` (as librosa / soundfile load 16-bit
//! PCM: `x / 32768`); stereo is averaged over channels.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

/// Everything that can go wrong reading an audio file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's extension is neither `.wav` nor `.au`.
    #[error("{path}: unsupported file type (expected .wav or .au)")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
    },
    /// The WAV file is malformed or uses a format hound cannot read.
    #[error("{path}: not a readable WAV file: {reason}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// hound's explanation.
        reason: String,
    },
    /// The `.au` file is malformed (bad magic, truncated header, bad offset).
    #[error("{path}: not a readable Sun .au file: {reason}")]
    Au {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The sample format is one this reader does not decode.
    #[error("{path}: unsupported sample format: {format}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: String,
    },
    /// The file holds no samples.
    #[error("{path}: no audio samples")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Writing a WAV file failed.
    #[error("{path}: cannot write WAV: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Resampling failed.
    #[error("{path}: resampling {from} Hz -> {to} Hz failed: {reason}")]
    Resample {
        /// The file.
        path: PathBuf,
        /// The file's rate.
        from: u32,
        /// The rate asked for.
        to: u32,
        /// rubato's explanation.
        reason: String,
    },
}

/// What a cheap header check of an audio file finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// Frames (samples per channel) the header announces.
    pub frames: u64,
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
}

fn io_err(path: &Path, source: std::io::Error) -> AudioError {
    AudioError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads only the header of `path` and checks that the file is one this module
/// decodes and announces at least one sample. Cheap: no sample data is read.
pub fn probe(path: &Path) -> Result<AudioInfo, AudioError> {
    let info = match AudioKind::from_path(path) {
        Some(AudioKind::Wav) => {
            let reader = hound::WavReader::open(path).map_err(|e| wav_err(path, e))?;
            let spec = reader.spec();
            check_wav_spec(path, &spec)?;
            AudioInfo {
                sample_rate: spec.sample_rate,
                channels: spec.channels,
                frames: u64::from(reader.duration()),
            }
        }
        Some(AudioKind::Au) => {
            let file = File::open(path).map_err(|e| io_err(path, e))?;
            let file_len = file.metadata().map_err(|e| io_err(path, e))?.len();
            let mut head = [0u8; 24];
            BufReader::new(file)
                .read_exact(&mut head)
                .map_err(|_| au_err(path, "file shorter than the 24-byte header"))?;
            let h = AuHeader::parse(path, &head, file_len)?;
            AudioInfo {
                sample_rate: h.sample_rate,
                channels: h.channels,
                frames: h.data_len / (u64::from(h.encoding.bytes()) * u64::from(h.channels)),
            }
        }
        None => {
            return Err(AudioError::UnsupportedType {
                path: path.to_path_buf(),
            });
        }
    };
    if info.frames == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(info)
}

/// Decodes `path` to mono `f32` at its own sample rate: `(samples, sample_rate)`.
pub fn load_mono_native(path: &Path) -> Result<(Vec<f32>, u32), AudioError> {
    let (samples, rate) = match AudioKind::from_path(path) {
        Some(AudioKind::Wav) => read_wav(path)?,
        Some(AudioKind::Au) => read_au(path)?,
        None => {
            return Err(AudioError::UnsupportedType {
                path: path.to_path_buf(),
            });
        }
    };
    if samples.is_empty() {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((samples, rate))
}

/// Decodes `path` to mono `f32` at `target_sr` Hz: stereo (or more channels) is
/// averaged, another sample rate is resampled with rubato's FFT resampler (and a
/// note is printed saying so; it is never silently accepted).
pub fn load_mono(path: &Path, target_sr: u32) -> Result<Vec<f32>, AudioError> {
    let (samples, rate) = load_mono_native(path)?;
    if rate == target_sr {
        return Ok(samples);
    }
    eprintln!(
        "note: {}: resampling {rate} Hz -> {target_sr} Hz",
        path.display()
    );
    resample(&samples, rate, target_sr).map_err(|reason| AudioError::Resample {
        path: path.to_path_buf(),
        from: rate,
        to: target_sr,
        reason,
    })
}

/// Resamples mono `samples` from `from` Hz to `to` Hz with rubato's synchronous FFT
/// resampler (band-limited; the startup delay is trimmed, so the output is aligned
/// with the input and holds `ceil(len * to / from)` samples).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to {
        return Ok(samples.to_vec());
    }
    if samples.is_empty() {
        return Ok(Vec::new());
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

fn wav_err(path: &Path, e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(source) => io_err(path, source),
        other => AudioError::Wav {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

fn check_wav_spec(path: &Path, spec: &hound::WavSpec) -> Result<(), AudioError> {
    let ok = match spec.sample_format {
        hound::SampleFormat::Int => matches!(spec.bits_per_sample, 8 | 16 | 24 | 32),
        hound::SampleFormat::Float => spec.bits_per_sample == 32,
    };
    if !ok || spec.channels == 0 {
        return Err(AudioError::UnsupportedFormat {
            path: path.to_path_buf(),
            format: format!(
                "WAV {:?} {} bit, {} channels",
                spec.sample_format, spec.bits_per_sample, spec.channels
            ),
        });
    }
    Ok(())
}

/// Averages interleaved frames of `channels` samples into mono.
fn downmix(interleaved: Vec<f32>, channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved;
    }
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}

fn read_wav(path: &Path) -> Result<(Vec<f32>, u32), AudioError> {
    let reader = hound::WavReader::open(path).map_err(|e| wav_err(path, e))?;
    let spec = reader.spec();
    check_wav_spec(path, &spec)?;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| wav_err(path, e))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| (f64::from(v) * scale) as f32))
                .collect::<Result<_, _>>()
                .map_err(|e| wav_err(path, e))?
        }
    };
    Ok((
        downmix(interleaved, usize::from(spec.channels)),
        spec.sample_rate,
    ))
}

fn au_err(path: &Path, reason: &str) -> AudioError {
    AudioError::Au {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Sun `.au` sample encodings this reader decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuEncoding {
    /// 2: 8-bit linear PCM (signed).
    Pcm8,
    /// 3: 16-bit linear PCM, big-endian.
    Pcm16,
    /// 4: 24-bit linear PCM, big-endian.
    Pcm24,
    /// 5: 32-bit linear PCM, big-endian.
    Pcm32,
    /// 6: 32-bit IEEE float, big-endian.
    Float32,
}

impl AuEncoding {
    fn bytes(self) -> u32 {
        match self {
            AuEncoding::Pcm8 => 1,
            AuEncoding::Pcm16 => 2,
            AuEncoding::Pcm24 => 3,
            AuEncoding::Pcm32 | AuEncoding::Float32 => 4,
        }
    }
}

struct AuHeader {
    offset: u64,
    data_len: u64,
    encoding: AuEncoding,
    sample_rate: u32,
    channels: u16,
}

impl AuHeader {
    /// Parses the 24-byte big-endian header: magic `.snd`, data offset, data size
    /// (`0xffffffff` = to end of file), encoding, sample rate, channels.
    fn parse(path: &Path, h: &[u8; 24], file_len: u64) -> Result<AuHeader, AudioError> {
        let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        if &h[0..4] != b".snd" {
            return Err(au_err(path, "missing .snd magic"));
        }
        let offset = u64::from(word(4));
        let size = word(8);
        let encoding = match word(12) {
            2 => AuEncoding::Pcm8,
            3 => AuEncoding::Pcm16,
            4 => AuEncoding::Pcm24,
            5 => AuEncoding::Pcm32,
            6 => AuEncoding::Float32,
            other => {
                return Err(AudioError::UnsupportedFormat {
                    path: path.to_path_buf(),
                    format: format!("Sun .au encoding {other}"),
                });
            }
        };
        let sample_rate = word(16);
        let channels = word(20);
        if sample_rate == 0 {
            return Err(au_err(path, "sample rate is 0"));
        }
        let channels = u16::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| au_err(path, "bad channel count"))?;
        if offset < 24 || offset > file_len {
            return Err(au_err(path, "data offset outside the file"));
        }
        let available = file_len - offset;
        // A size of 0xffffffff means "unknown": read to the end. A size larger than
        // the file (a truncated file) is clipped to what is there.
        let data_len = if size == u32::MAX {
            available
        } else {
            u64::from(size).min(available)
        };
        Ok(AuHeader {
            offset,
            data_len,
            encoding,
            sample_rate,
            channels,
        })
    }
}

fn read_au(path: &Path) -> Result<(Vec<f32>, u32), AudioError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let head: &[u8; 24] = bytes
        .get(..24)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| au_err(path, "file shorter than the 24-byte header"))?;
    let h = AuHeader::parse(path, head, bytes.len() as u64)?;
    let start = h.offset as usize;
    let data = bytes
        .get(start..start + h.data_len as usize)
        .ok_or_else(|| au_err(path, "data outside the file"))?;
    let width = h.encoding.bytes() as usize;
    let interleaved: Vec<f32> = match h.encoding {
        AuEncoding::Pcm8 => data.iter().map(|&b| f32::from(b as i8) / 128.0).collect(),
        AuEncoding::Pcm16 => data
            .chunks_exact(width)
            .map(|c| f32::from(i16::from_be_bytes([c[0], c[1]])) / 32768.0)
            .collect(),
        AuEncoding::Pcm24 => data
            .chunks_exact(width)
            .map(|c| {
                let v = i32::from_be_bytes([c[0], c[1], c[2], 0]) >> 8;
                v as f32 / 8_388_608.0
            })
            .collect(),
        AuEncoding::Pcm32 => data
            .chunks_exact(width)
            .map(|c| {
                (f64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]])) / 2_147_483_648.0) as f32
            })
            .collect(),
        AuEncoding::Float32 => data
            .chunks_exact(width)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    };
    let channels = usize::from(h.channels);
    let whole = interleaved.len() / channels * channels;
    let mut interleaved = interleaved;
    interleaved.truncate(whole);
    Ok((downmix(interleaved, channels), h.sample_rate))
}

/// The samples of a mono WAV file to write.
#[derive(Debug, Clone, Copy)]
pub enum WavData<'a> {
    /// 16-bit PCM.
    Pcm16(&'a [i16]),
    /// 32-bit IEEE float.
    Float32(&'a [f32]),
}

/// 16-bit PCM of `samples` by the inverse of the reader's scaling (`round(x * 32768)`, clipped to
/// the i16 range), so that a 16-bit file reads back within half a step of `samples`.
pub fn to_pcm16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Writes a mono WAV file at `sample_rate` atomically (encoded in memory, then
/// [`write_atomic`](crate::fsio::write_atomic)): never half-written.
///
/// # Errors
/// [`AudioError::Write`] or [`AudioError::Io`], naming `path`.
pub fn write_wav_mono(path: &Path, data: WavData<'_>, sample_rate: u32) -> Result<(), AudioError> {
    let err = |e: hound::Error| AudioError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (bits, format, n) = match data {
        WavData::Pcm16(s) => (16, hound::SampleFormat::Int, s.len()),
        WavData::Float32(s) => (32, hound::SampleFormat::Float, s.len()),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut buf = Cursor::new(Vec::with_capacity(44 + n * usize::from(bits / 8)));
    {
        let mut w = hound::WavWriter::new(&mut buf, spec).map_err(err)?;
        match data {
            WavData::Pcm16(s) => {
                let mut w16 = w.get_i16_writer(n as u32);
                for &x in s {
                    w16.write_sample(x);
                }
                w16.flush().map_err(err)?;
            }
            WavData::Float32(s) => {
                for &x in s {
                    w.write_sample(x).map_err(err)?;
                }
            }
        }
        w.finalize().map_err(err)?;
    }
    crate::fsio::write_atomic(path, buf.get_ref()).map_err(|e| AudioError::Io {
        path: e.path,
        source: e.source,
    })
}
