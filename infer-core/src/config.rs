//! Front-end configuration: the parameters of the log-mel spectrogram.
//!
//! [`FrontendConfig`] is a plain serde type so that it can travel inside a
//! model file and a run's `config.json`. Its two presets reproduce the
//! spectrograms of the reference tools: [`FrontendConfig::DEFAULT`] is
//! librosa 0.11's `melspectrogram` + `power_to_db` with its defaults as used
//! on GTZAN, [`FrontendConfig::HTK1024`] is the torchaudio-style variant
//! (HTK mel scale, no filter normalisation).

use serde::{Deserialize, Serialize};

use crate::Error;

pub use crate::limits::{MAX_N_FFT, MIN_N_FFT};
/// The largest number of FFT bins (`MAX_N_FFT / 2 + 1`).
pub const MAX_N_BINS: usize = MAX_N_FFT / 2 + 1;
/// The largest number of mel bands.
pub const MAX_N_MELS: usize = 128;

/// The mel scale used to place the triangular filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above
    /// (librosa's default, `htk=False`).
    Slaney,
    /// The HTK formula `2595 * log10(1 + f / 700)` (torchaudio's default).
    Htk,
}

/// How the triangular mel filters are normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MelNorm {
    /// Slaney-style area normalisation: each filter is scaled by
    /// `2 / (f_upper - f_lower)` (librosa's default, `norm='slaney'`).
    Slaney,
    /// Peak 1 triangles (torchaudio's default, `norm=None`).
    None,
}

/// Parameters of the log-mel front end. All frequencies are in Hz.
///
/// The pipeline is: (optional centre padding with zeros) -> periodic Hann
/// window of `n_fft` samples every `hop_length` samples -> real FFT ->
/// `|X|^power` -> mel filterbank -> `10 * log10(max(amin, S)) - 10 *
/// log10(max(amin, ref_db))` -> (optional) floor at `max - top_db`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrontendConfig {
    /// Sample rate of the input audio.
    pub sample_rate: u32,
    /// FFT and window length (a power of two in `MIN_N_FFT..=MAX_N_FFT`).
    pub n_fft: u32,
    /// Step between frames, in samples (`1..=n_fft`).
    pub hop_length: u32,
    /// Number of mel bands (`1..=MAX_N_MELS`).
    pub n_mels: u32,
    /// Lowest filter edge.
    pub f_min: f32,
    /// Highest filter edge (at most `sample_rate / 2`).
    pub f_max: f32,
    /// Mel scale.
    pub mel_scale: MelScale,
    /// Filter normalisation.
    pub norm: MelNorm,
    /// Exponent of the magnitude spectrum: 1 (magnitude) or 2 (power).
    pub power: u8,
    /// The dB reference value (`ref` of `librosa.power_to_db`).
    pub ref_db: f32,
    /// The floor applied before the logarithm (`amin`).
    pub amin: f32,
    /// If set, values below `max - top_db` are raised to it (whole-signal
    /// form only; see [`crate::stream::LogMelStream`]).
    pub top_db: Option<f32>,
    /// Pad `n_fft / 2` zeros at both ends so frame `t` is centred on sample
    /// `t * hop_length` (librosa's `center=True, pad_mode='constant'`).
    pub center: bool,
}

impl FrontendConfig {
    /// librosa 0.11 defaults as used on GTZAN: 22050 Hz, `n_fft` 2048, hop
    /// 512, 128 mels from 0 Hz to 11025 Hz, Slaney scale and norm, power 2,
    /// `power_to_db(ref=1.0, amin=1e-10, top_db=None)`, centred with zero
    /// padding. A 3 s segment (66150 samples) gives 128 x 130.
    pub const DEFAULT: FrontendConfig = FrontendConfig {
        sample_rate: 22050,
        n_fft: 2048,
        hop_length: 512,
        n_mels: 128,
        f_min: 0.0,
        f_max: 11025.0,
        mel_scale: MelScale::Slaney,
        norm: MelNorm::Slaney,
        power: 2,
        ref_db: 1.0,
        amin: 1e-10,
        top_db: None,
        center: true,
    };

    /// torchaudio-style variant: `n_fft` 1024, hop 512, 128 mels, HTK mel
    /// scale, no filter normalisation, dB with reference 1 (otherwise as
    /// [`FrontendConfig::DEFAULT`]).
    pub const HTK1024: FrontendConfig = FrontendConfig {
        sample_rate: 22050,
        n_fft: 1024,
        hop_length: 512,
        n_mels: 128,
        f_min: 0.0,
        f_max: 11025.0,
        mel_scale: MelScale::Htk,
        norm: MelNorm::None,
        power: 2,
        ref_db: 1.0,
        amin: 1e-10,
        top_db: None,
        center: true,
    };

    /// 16 kHz variant, for microphones that cannot deliver 22050 Hz (the nRF52840's PDM gives
    /// 16 kHz): `n_fft` 1024 (64 ms), hop 372 (23.25 ms, against [`FrontendConfig::DEFAULT`]'s
    /// 23.22 ms, so 3 s still make 130 frames), 128 Slaney mels up to the 8 kHz Nyquist frequency
    /// (otherwise as [`FrontendConfig::DEFAULT`]). The trainer's `--sample-rate 16000` trains on it.
    pub const RATE16K: FrontendConfig = FrontendConfig {
        sample_rate: 16000,
        n_fft: 1024,
        hop_length: 372,
        f_max: 8000.0,
        ..FrontendConfig::DEFAULT
    };

    /// Checks every parameter; the first problem found is returned.
    ///
    /// # Errors
    /// [`Error::ConfigBadSampleRate`], [`Error::ConfigUnsupportedFftSize`],
    /// [`Error::ConfigBadHop`], [`Error::ConfigBadMelCount`],
    /// [`Error::ConfigBadFrequencyRange`], [`Error::ConfigBadPower`],
    /// [`Error::ConfigBadDecibel`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.sample_rate == 0 {
            return Err(Error::ConfigBadSampleRate);
        }
        let n_fft = self.n_fft as usize;
        if !crate::fft::is_supported(n_fft) {
            return Err(Error::ConfigUnsupportedFftSize);
        }
        if self.hop_length == 0 || self.hop_length > self.n_fft {
            return Err(Error::ConfigBadHop);
        }
        if self.n_mels == 0 || self.n_mels as usize > MAX_N_MELS {
            return Err(Error::ConfigBadMelCount);
        }
        let nyquist = self.sample_rate as f64 / 2.0;
        let (lo, hi) = (self.f_min as f64, self.f_max as f64);
        if !lo.is_finite() || !hi.is_finite() || lo < 0.0 || lo >= hi || hi > nyquist {
            return Err(Error::ConfigBadFrequencyRange);
        }
        if self.power != 1 && self.power != 2 {
            return Err(Error::ConfigBadPower);
        }
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if !positive(self.ref_db) || !positive(self.amin) {
            return Err(Error::ConfigBadDecibel);
        }
        if let Some(t) = self.top_db
            && (!t.is_finite() || t < 0.0)
        {
            return Err(Error::ConfigBadDecibel);
        }
        Ok(())
    }

    /// Number of frames for `n_samples` input samples: `1 + n_samples / hop`
    /// when centred, `1 + (n_samples - n_fft) / hop` (0 if shorter than
    /// `n_fft`) otherwise. Returns 0 for an invalid `hop_length` of 0.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let hop = self.hop_length as usize;
        let n_fft = self.n_fft as usize;
        if self.center {
            n_samples.checked_div(hop).map_or(0, |q| q + 1)
        } else if n_samples >= n_fft {
            (n_samples - n_fft).checked_div(hop).map_or(0, |q| q + 1)
        } else {
            0
        }
    }

    /// Number of FFT bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft as usize / 2 + 1
    }
}

impl Default for FrontendConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_give_librosa_shapes() {
        assert_eq!(FrontendConfig::DEFAULT.validate(), Ok(()));
        assert_eq!(FrontendConfig::HTK1024.validate(), Ok(()));
        assert_eq!(FrontendConfig::RATE16K.validate(), Ok(()));
        assert_eq!(FrontendConfig::RATE16K.n_frames(3 * 16000), 130);
        // librosa: melspectrogram(y=np.zeros(66150)).shape == (128, 130)
        assert_eq!(FrontendConfig::DEFAULT.n_frames(66150), 130);
        // 30 s GTZAN clip: 661500 samples -> 1292 frames (1 + 661500 // 512).
        assert_eq!(FrontendConfig::DEFAULT.n_frames(661_500), 1292);
        let nc = FrontendConfig {
            center: false,
            ..FrontendConfig::DEFAULT
        };
        assert_eq!(nc.n_frames(2047), 0);
        assert_eq!(nc.n_frames(2048), 1);
        assert_eq!(nc.n_frames(2048 + 511), 1);
        assert_eq!(nc.n_frames(2048 + 512), 2);
    }

    #[test]
    fn validate_rejects_each_bad_parameter() {
        let d = FrontendConfig::DEFAULT;
        let cases = [
            (
                FrontendConfig {
                    sample_rate: 0,
                    ..d
                },
                Error::ConfigBadSampleRate,
            ),
            (
                FrontendConfig { n_fft: 1000, ..d },
                Error::ConfigUnsupportedFftSize,
            ),
            (
                FrontendConfig { n_fft: 4096, ..d },
                Error::ConfigUnsupportedFftSize,
            ),
            (
                FrontendConfig {
                    n_fft: 8,
                    hop_length: 4,
                    ..d
                },
                Error::ConfigUnsupportedFftSize,
            ),
            (FrontendConfig { hop_length: 0, ..d }, Error::ConfigBadHop),
            (
                FrontendConfig {
                    hop_length: 2049,
                    ..d
                },
                Error::ConfigBadHop,
            ),
            (FrontendConfig { n_mels: 0, ..d }, Error::ConfigBadMelCount),
            (
                FrontendConfig { n_mels: 129, ..d },
                Error::ConfigBadMelCount,
            ),
            (
                FrontendConfig {
                    f_max: 11025.5,
                    ..d
                },
                Error::ConfigBadFrequencyRange,
            ),
            (
                FrontendConfig {
                    f_min: 5000.0,
                    f_max: 5000.0,
                    ..d
                },
                Error::ConfigBadFrequencyRange,
            ),
            (
                FrontendConfig { f_min: -1.0, ..d },
                Error::ConfigBadFrequencyRange,
            ),
            (
                FrontendConfig {
                    f_max: f32::NAN,
                    ..d
                },
                Error::ConfigBadFrequencyRange,
            ),
            (FrontendConfig { power: 3, ..d }, Error::ConfigBadPower),
            (FrontendConfig { power: 0, ..d }, Error::ConfigBadPower),
            (FrontendConfig { amin: 0.0, ..d }, Error::ConfigBadDecibel),
            (
                FrontendConfig {
                    ref_db: f32::INFINITY,
                    ..d
                },
                Error::ConfigBadDecibel,
            ),
            (
                FrontendConfig {
                    top_db: Some(-1.0),
                    ..d
                },
                Error::ConfigBadDecibel,
            ),
            (
                FrontendConfig {
                    top_db: Some(f32::NAN),
                    ..d
                },
                Error::ConfigBadDecibel,
            ),
        ];
        for (cfg, want) in cases {
            assert_eq!(cfg.validate(), Err(want), "{cfg:?}");
        }
        assert_eq!(
            FrontendConfig {
                top_db: Some(80.0),
                ..d
            }
            .validate(),
            Ok(())
        );
        assert_eq!(
            FrontendConfig {
                n_fft: 16,
                hop_length: 16,
                n_mels: 4,
                ..d
            }
            .validate(),
            Ok(())
        );
        // hop 0 must not divide by zero
        assert_eq!(FrontendConfig { hop_length: 0, ..d }.n_frames(100), 0);
    }
}
