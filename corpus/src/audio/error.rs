//! What can go wrong reading an audio file ([`AudioError`], each naming the file) and what is
//! worth a note but still decoded ([`DecodeWarning`]).

use std::path::PathBuf;

/// Everything that can go wrong reading or writing an audio file. Every variant names the file
/// and says what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's extension is neither `.wav` nor `.au` / `.snd`.
    #[error("{path}: unsupported file type (expected .wav, .au or .snd)")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a well-formed RIFF WAVE file (no `RIFF`/`WAVE` magic, no `fmt ` or `data`
    /// chunk, a `fmt ` chunk that contradicts itself).
    #[error("{path}: not a readable WAV file: {reason}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file is not a well-formed Sun `.au` file (bad magic, short header, bad data offset).
    #[error("{path}: not a readable Sun .au file: {reason}")]
    Au {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The sample encoding is one this reader does not decode, named as the header names it
    /// (e.g. `WAV IEEE float, 64 bits`, `WAV A-law`, `Sun .au mu-law (encoding 1)`).
    #[error("{path}: unsupported sample format: {format}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The format found.
        format: String,
    },
    /// The header's sample rate is outside the accepted range ([`super::Limits`]).
    #[error("{path}: sample rate {rate} Hz is outside {min}..={max} Hz")]
    RateOutOfRange {
        /// The file.
        path: PathBuf,
        /// The rate the header gives.
        rate: u32,
        /// Lowest rate accepted.
        min: u32,
        /// Highest rate accepted.
        max: u32,
    },
    /// The header's channel count is outside the accepted range ([`super::Limits`]).
    #[error("{path}: {channels} channels is outside 1..={max}")]
    ChannelsOutOfRange {
        /// The file.
        path: PathBuf,
        /// The channel count the header gives.
        channels: u32,
        /// Most channels accepted.
        max: u16,
    },
    /// The clip is longer than the duration limit ([`super::Limits::max_seconds`], the
    /// trainer's `--max-duration`).
    #[error(
        "{path}: {seconds:.1} s of audio is longer than the limit of {limit:.1} s (raise it with --max-duration SECONDS)"
    )]
    TooLong {
        /// The file.
        path: PathBuf,
        /// Duration of the audio the file holds.
        seconds: f64,
        /// The limit.
        limit: f64,
    },
    /// The file holds less audio than its header promises, by more than the tolerance
    /// ([`super::TRUNCATION_TOLERANCE`]).
    #[error(
        "{path}: truncated: the header promises {promised_bytes} bytes of audio ({promised_seconds:.2} s) but the file holds {held_bytes} ({held_seconds:.2} s)"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes of sample data the header announces.
        promised_bytes: u64,
        /// Bytes of sample data the file holds.
        held_bytes: u64,
        /// The promised duration.
        promised_seconds: f64,
        /// The duration the file holds.
        held_seconds: f64,
    },
    /// Float samples that are NaN or infinite: the file is corrupt (resampling and the front end
    /// would turn them into NaN features).
    #[error(
        "{path}: {count} samples are not finite numbers (NaN or infinite), the first at frame {first}"
    )]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// How many samples (after down-mixing) are not finite.
        count: u64,
        /// The first such frame.
        first: u64,
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

/// Something about a file that was decoded anyway, with what was used instead. The loaders that
/// return plain samples ([`super::load_mono`]) print each as one `warning:` line naming the file.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DecodeWarning {
    /// The file is a little shorter than its header says (within
    /// [`super::TRUNCATION_TOLERANCE`]); the audio that is there was decoded.
    Truncated {
        /// Bytes of sample data the header announces.
        promised_bytes: u64,
        /// Bytes of sample data the file holds.
        held_bytes: u64,
        /// The promised duration.
        promised_seconds: f64,
        /// The duration decoded.
        held_seconds: f64,
    },
    /// The data size is not a whole number of frames; the partial frame at the end was dropped.
    PartialFrame {
        /// Bytes dropped.
        bytes: u64,
    },
}

impl std::fmt::Display for DecodeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeWarning::Truncated {
                promised_bytes,
                held_bytes,
                promised_seconds,
                held_seconds,
            } => write!(
                f,
                "truncated: the header promises {promised_bytes} bytes of audio ({promised_seconds:.2} s) but the file holds {held_bytes}; using the {held_seconds:.2} s there"
            ),
            DecodeWarning::PartialFrame { bytes } => write!(
                f,
                "the data size is not a whole number of frames; the last {bytes} bytes were dropped"
            ),
        }
    }
}
