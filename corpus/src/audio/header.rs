//! What both containers reduce to: a [`Header`] (rate, channels, sample encoding, where the data
//! starts and how much the header promises), the checks every header passes before anything is
//! allocated ([`Header::plan`]), and the sample decoding shared by WAV and `.au`.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::{AudioError, DecodeWarning};
use super::limits::Limits;

/// A file may hold up to this fraction less sample data than its header promises and still be
/// decoded, with a [`DecodeWarning::Truncated`]; beyond it the file is an
/// [`AudioError::Truncated`]. GTZAN's `.au` files are sometimes a few bytes short of their
/// header; 1 % of a 30 s clip is 0.3 s, while a 30 s header over 10 s of audio is refused.
pub const TRUNCATION_TOLERANCE: f64 = 0.01;

/// Bytes of sample data read and decoded at a time.
const READ_CHUNK: usize = 1 << 16;

/// One stored sample's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sample {
    /// 8-bit unsigned (WAV), offset 128.
    U8,
    /// 8-bit signed (`.au`).
    I8,
    /// Signed integer of 2, 3 or 4 bytes (left-justified), little- or big-endian.
    Int { bytes: u8, big_endian: bool },
    /// 32-bit IEEE float, little- or big-endian.
    F32 { big_endian: bool },
}

impl Sample {
    /// Bytes per stored sample.
    pub(crate) fn bytes(self) -> u64 {
        match self {
            Sample::U8 | Sample::I8 => 1,
            Sample::Int { bytes, .. } => u64::from(bytes),
            Sample::F32 { .. } => 4,
        }
    }

    /// The sample at the start of `b` (at least [`Sample::bytes`] long) in [-1, 1): integers
    /// scaled by `1 / 2^(bits-1)`, as librosa and soundfile read PCM.
    fn decode(self, b: &[u8]) -> f32 {
        match self {
            Sample::U8 => (f32::from(b[0]) - 128.0) / 128.0,
            Sample::I8 => f32::from(b[0] as i8) / 128.0,
            Sample::Int { bytes, big_endian } => {
                let n = usize::from(bytes);
                // left-justify into an i32, then scale by 2^31
                let mut w = [0u8; 4];
                if big_endian {
                    w[..n].copy_from_slice(&b[..n]);
                } else {
                    for (i, &x) in b[..n].iter().enumerate() {
                        w[n - 1 - i] = x;
                    }
                }
                (f64::from(i32::from_be_bytes(w)) / 2_147_483_648.0) as f32
            }
            Sample::F32 { big_endian } => {
                let w = [b[0], b[1], b[2], b[3]];
                if big_endian {
                    f32::from_be_bytes(w)
                } else {
                    f32::from_le_bytes(w)
                }
            }
        }
    }
}

/// A parsed header: enough to check the file and to find and decode its samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    /// Sample rate, Hz (already checked against the limits by [`check_rate_channels`]).
    pub(crate) sample_rate: u32,
    /// Interleaved channels (checked likewise).
    pub(crate) channels: u16,
    /// How each sample is stored.
    pub(crate) sample: Sample,
    /// Bytes per frame (all channels); at least `channels * sample.bytes()`.
    pub(crate) frame_bytes: u64,
    /// Where the sample data starts.
    pub(crate) data_offset: u64,
    /// Bytes of sample data the header announces; `None`: "to the end of the file".
    pub(crate) promised_bytes: Option<u64>,
}

/// What [`Header::plan`] decided: how many bytes and frames to read.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Frames to decode.
    pub(crate) frames: u64,
    /// Notes on the file.
    pub(crate) warnings: Vec<DecodeWarning>,
}

/// Checks the header's rate and channel count against `limits`; the first check after the
/// encoding is known, before anything depends on them.
pub(crate) fn check_rate_channels(
    path: &Path,
    rate: u32,
    channels: u32,
    limits: &Limits,
) -> Result<u16, AudioError> {
    if rate < limits.min_rate || rate > limits.max_rate {
        return Err(AudioError::RateOutOfRange {
            path: path.to_path_buf(),
            rate,
            min: limits.min_rate,
            max: limits.max_rate,
        });
    }
    match u16::try_from(channels) {
        Ok(c) if c >= 1 && c <= limits.max_channels => Ok(c),
        _ => Err(AudioError::ChannelsOutOfRange {
            path: path.to_path_buf(),
            channels,
            max: limits.max_channels,
        }),
    }
}

impl Header {
    fn seconds(&self, bytes: u64) -> f64 {
        (bytes / self.frame_bytes) as f64 / f64::from(self.sample_rate)
    }

    /// Checks what the header promises against the `file_len` bytes the file holds and against
    /// the duration limit: a file short by more than [`TRUNCATION_TOLERANCE`] is
    /// [`AudioError::Truncated`], a shorter shortfall a warning; no frame is
    /// [`AudioError::Empty`]; more than `limits.max_seconds` is [`AudioError::TooLong`].
    pub(crate) fn plan(
        &self,
        path: &Path,
        file_len: u64,
        limits: &Limits,
    ) -> Result<Plan, AudioError> {
        let available = file_len.saturating_sub(self.data_offset);
        let promised = self.promised_bytes.unwrap_or(available);
        let held = promised.min(available);
        let mut warnings = Vec::new();
        if held < promised {
            let short = (promised - held) as f64;
            let (promised_seconds, held_seconds) = (self.seconds(promised), self.seconds(held));
            if short > TRUNCATION_TOLERANCE * promised as f64 {
                return Err(AudioError::Truncated {
                    path: path.to_path_buf(),
                    promised_bytes: promised,
                    held_bytes: held,
                    promised_seconds,
                    held_seconds,
                });
            }
            warnings.push(DecodeWarning::Truncated {
                promised_bytes: promised,
                held_bytes: held,
                promised_seconds,
                held_seconds,
            });
        } else if !promised.is_multiple_of(self.frame_bytes) {
            warnings.push(DecodeWarning::PartialFrame {
                bytes: promised % self.frame_bytes,
            });
        }
        let frames = held / self.frame_bytes;
        if frames == 0 {
            return Err(AudioError::Empty {
                path: path.to_path_buf(),
            });
        }
        let seconds = frames as f64 / f64::from(self.sample_rate);
        if seconds > limits.max_seconds {
            return Err(AudioError::TooLong {
                path: path.to_path_buf(),
                seconds,
                limit: limits.max_seconds,
            });
        }
        Ok(Plan { frames, warnings })
    }

    /// Reads the planned frames from `r` and averages each frame's channels: mono samples.
    /// Allocates the `frames` output samples (which the file holds, within the limits) and a
    /// read buffer of at most [`READ_CHUNK`] bytes.
    pub(crate) fn read_mono<R: Read + Seek>(
        &self,
        r: &mut R,
        path: &Path,
        frames: u64,
    ) -> Result<Vec<f32>, AudioError> {
        let io = |source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        };
        let too_big = || AudioError::TooLong {
            path: path.to_path_buf(),
            seconds: frames as f64 / f64::from(self.sample_rate),
            limit: f64::INFINITY,
        };
        let n = usize::try_from(frames).map_err(|_| too_big())?;
        let mut out: Vec<f32> = Vec::new();
        out.try_reserve_exact(n).map_err(|_| too_big())?;
        r.seek(SeekFrom::Start(self.data_offset)).map_err(io)?;
        let frame_bytes = self.frame_bytes as usize;
        let per_chunk = (READ_CHUNK / frame_bytes).max(1);
        let mut buf = vec![0u8; per_chunk.min(n) * frame_bytes];
        let width = self.sample.bytes() as usize;
        let channels = usize::from(self.channels);
        let inv = 1.0 / channels as f64;
        while out.len() < n {
            let k = per_chunk.min(n - out.len());
            let chunk = &mut buf[..k * frame_bytes];
            r.read_exact(chunk).map_err(|e| {
                // the file shrank since its length was read
                io(std::io::Error::new(
                    e.kind(),
                    format!(
                        "reading frame {} of {n} (from byte {}): {e}",
                        out.len(),
                        self.data_offset
                    ),
                ))
            })?;
            out.extend(chunk.chunks_exact(frame_bytes).map(|frame| {
                if channels == 1 {
                    self.sample.decode(frame)
                } else {
                    // summed in f64: the mean of finite f32 values is a finite f32
                    let sum: f64 = frame
                        .chunks_exact(width)
                        .take(channels)
                        .map(|s| f64::from(self.sample.decode(s)))
                        .sum();
                    (sum * inv) as f32
                }
            }));
        }
        if let Some(first) = out.iter().position(|x| !x.is_finite()) {
            return Err(AudioError::NonFinite {
                path: path.to_path_buf(),
                count: out.iter().filter(|x| !x.is_finite()).count() as u64,
                first: first as u64,
            });
        }
        Ok(out)
    }
}
