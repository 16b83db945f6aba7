//! [`Limits`]: what a header may announce before a single sample is allocated.

use std::sync::OnceLock;

/// Bounds every decoder checks from the header, before it allocates anything for the samples:
/// a header that lies about its rate (a 400 KB file "at 1 Hz" resampled to 22 050 Hz wanted
/// 35 GB), its channels or its length is a typed error instead of an abort.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lowest sample rate accepted, Hz.
    pub min_rate: u32,
    /// Highest sample rate accepted, Hz.
    pub max_rate: u32,
    /// Most channels accepted (at least one is always required).
    pub max_channels: u16,
    /// Longest clip accepted, seconds (of the audio the file holds).
    pub max_seconds: f64,
}

impl Limits {
    /// 8 kHz..=192 kHz, 1..=8 channels, at most 10 minutes.
    pub const DEFAULT: Limits = Limits {
        min_rate: 8_000,
        max_rate: 192_000,
        max_channels: 8,
        max_seconds: 600.0,
    };

    /// These limits with another duration limit (seconds).
    pub fn with_max_seconds(self, max_seconds: f64) -> Limits {
        Limits {
            max_seconds,
            ..self
        }
    }

    /// The limits [`super::load_mono`], [`super::probe`] and dataset discovery use: those set
    /// once with [`Limits::set_process_default`] (the trainer's `--max-duration`), else
    /// [`Limits::DEFAULT`].
    pub fn process_default() -> Limits {
        PROCESS.get().copied().unwrap_or(Limits::DEFAULT)
    }

    /// Sets the limits of [`Limits::process_default`] for the rest of the process; once only
    /// (the command line does it before any file is read). `Err` with the limits already in
    /// force if they were set before.
    pub fn set_process_default(limits: Limits) -> Result<(), Limits> {
        PROCESS.set(limits).map_err(|_| Limits::process_default())
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

static PROCESS: OnceLock<Limits> = OnceLock::new();

/// Parses a duration limit in seconds (`--max-duration`): a finite number above zero.
pub fn parse_max_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|e| format!("{s:?} is not a number of seconds: {e}"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{s:?}: the duration limit must be above 0 s"))
    }
}
