//! Pitch shifting without a change of tempo, after `librosa.effects.pitch_shift`.
//!
//! For a shift of `n` semitones, `rate = 2^(-n/12)`:
//! 1. time-stretch by `rate` with the phase vocoder ([`super::stretch`]):
//!    `round(len / rate)` samples, same pitch;
//! 2. resample from `sr / rate` to `sr` (output/input ratio `rate`), which
//!    restores the duration and multiplies every frequency by `2^(n/12)`;
//! 3. trim or zero-pad to the input length (`librosa.util.fix_length`).
//!
//! librosa resamples with soxr (`res_type='soxr_hq'`); this uses rubato's
//! asynchronous sinc resampler (256-tap Blackman-Harris² sinc, 256× oversampled
//! table, cubic interpolation between table points, automatic cut-off), its
//! start-up delay trimmed. The two differ only in the stop band and the
//! transition band of the anti-aliasing filter; see `docs/augmentation.md` for
//! the measured parity.

use realfft::RealFftPlanner;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::stretch;

/// Errors from resampling (only for inputs rubato rejects, such as a
/// non-finite ratio).
#[derive(Debug, thiserror::Error)]
pub enum PitchError {
    /// The ratio is not a positive finite number.
    #[error("resampling ratio {0} is not a positive finite number")]
    BadRatio(f64),
    /// rubato could not be constructed or failed.
    #[error("resampler: {0}")]
    Resampler(String),
}

/// Resamples a mono signal by `ratio` (output rate / input rate) with a
/// high-quality sinc resampler; returns `ceil(len * ratio)` samples aligned
/// with the input (the filter delay removed), as `librosa.resample`.
pub fn resample(y: &[f32], ratio: f64) -> Result<Vec<f32>, PitchError> {
    if !(ratio > 0.0 && ratio.is_finite()) {
        return Err(PitchError::BadRatio(ratio));
    }
    let expected = (y.len() as f64 * ratio).ceil() as usize;
    if y.is_empty() {
        return Ok(Vec::new());
    }
    if ratio == 1.0 {
        return Ok(y.to_vec());
    }
    let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2)
        .oversampling_factor(256)
        .interpolation(SincInterpolationType::Cubic);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, 1, FixedAsync::Input)
        .map_err(|e| PitchError::Resampler(e.to_string()))?;
    let input =
        InterleavedSlice::new(y, 1, y.len()).map_err(|e| PitchError::Resampler(e.to_string()))?;
    let out = resampler
        .process_all(&input, y.len(), None)
        .map_err(|e| PitchError::Resampler(e.to_string()))?;
    let mut out = out.take_data();
    out.resize(expected, 0.0);
    Ok(out)
}

/// Shifts the pitch of `y` by `n_steps` semitones (fractional allowed),
/// keeping its length and tempo, as
/// `librosa.effects.pitch_shift(y, sr=sr, n_steps=n_steps)` (the result does
/// not depend on `sr`: the STFT sizes are fixed in samples and the resampling
/// ratio is `2^(-n/12)` whatever the rate).
pub fn pitch_shift(y: &[f32], n_steps: f64) -> Result<Vec<f32>, PitchError> {
    if !n_steps.is_finite() {
        return Err(PitchError::BadRatio(n_steps));
    }
    if n_steps == 0.0 || y.is_empty() {
        return Ok(y.to_vec());
    }
    let rate = 2f64.powf(-n_steps / 12.0);
    let mut planner = RealFftPlanner::<f32>::new();
    let stretched = stretch::time_stretch(y, rate, &mut planner);
    let mut shifted = resample(&stretched, rate)?;
    shifted.resize(y.len(), 0.0);
    Ok(shifted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_length_is_ceil_of_len_times_ratio() {
        let y = vec![0.25f32; 10_001];
        let out = resample(&y, 0.75).unwrap();
        assert_eq!(out.len(), (10_001f64 * 0.75).ceil() as usize);
        // A constant signal stays constant away from the edges.
        for &v in &out[500..7000] {
            assert!((v - 0.25).abs() < 1e-3, "{v}");
        }
    }

    #[test]
    fn zero_steps_is_the_identity_and_bad_steps_are_rejected() {
        let y = vec![0.5f32, -0.5, 0.25];
        assert_eq!(pitch_shift(&y, 0.0).unwrap(), y);
        assert!(pitch_shift(&y, f64::NAN).is_err());
        assert!(resample(&y, -1.0).is_err());
    }
}
