//! Whole-signal log-mel spectrogram on the fast path.
//!
//! ```text
//! samples -> [zero pad n_fft/2 each side] -> frames of n_fft every hop
//!   -> periodic Hann -> real FFT -> |X|^power (in place)
//!   -> sparse mel filterbank -> 10 log10(max(amin, S)) - 10 log10(max(amin, ref))
//!   -> [top_db floor over the whole output]
//! ```
//!
//! The real FFT is [`crate::rfft`]'s radix-4 one for `n_fft = 2048` (the default front end and
//! the only size on the device; the power comes out folded and goes to
//! [`MelFilterbank::apply_folded`]), microfft's for the other sizes (host builds,
//! `fft-all-sizes`). The dB step is [`db10`].

use crate::Error;
use crate::config::{FrontendConfig, MAX_N_FFT, MAX_N_MELS};
pub use crate::db::db10;
use crate::filterbank::MelFilterbank;
use crate::rfft;
use crate::window;

/// A sample format the front end accepts.
pub trait Sample: Copy {
    /// The sample as f32 in `[-1, 1)` for full-scale PCM.
    fn to_f32(self) -> f32;
    /// Whether the sample is finite (always true for integers).
    fn is_finite(self) -> bool;
}

impl Sample for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

impl Sample for i16 {
    /// `x / 32768`, as librosa (soundfile) loads 16-bit PCM; exact in f32.
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32 * (1.0 / 32768.0)
    }
    #[inline]
    fn is_finite(self) -> bool {
        true
    }
}

/// The log-mel front end: configuration, sparse filterbank and one FFT
/// buffer. Fixed size (see the crate README for `size_of`), no heap.
#[derive(Clone)]
pub struct LogMel {
    cfg: FrontendConfig,
    n_fft: usize,
    hop: usize,
    n_mels: usize,
    fb: MelFilterbank,
    /// `10 * log10(max(amin, ref_db))`, subtracted from every value.
    db_offset: f32,
    /// Frame, then spectrum, in place.
    buf: [f32; MAX_N_FFT],
    /// The last frame's log-mel values.
    mel: [f32; MAX_N_MELS],
}

impl LogMel {
    /// Validates `cfg` and builds the filterbank.
    ///
    /// # Errors
    /// Whatever [`FrontendConfig::validate`] reports.
    pub fn new(cfg: &FrontendConfig) -> Result<LogMel, Error> {
        Ok(Self::with_filterbank(cfg, MelFilterbank::new(cfg)?))
    }

    /// [`LogMel::new`] with the filterbank's band edges computed beforehand (see
    /// [`MelFilterbank::from_edges`]).
    ///
    /// # Errors
    /// As [`MelFilterbank::from_edges`].
    pub fn with_mel_edges(cfg: &FrontendConfig, edges: &[f64]) -> Result<LogMel, Error> {
        Ok(Self::with_filterbank(
            cfg,
            MelFilterbank::from_edges(cfg, edges)?,
        ))
    }

    fn with_filterbank(cfg: &FrontendConfig, fb: MelFilterbank) -> LogMel {
        LogMel {
            cfg: *cfg,
            n_fft: cfg.n_fft as usize,
            hop: cfg.hop_length as usize,
            n_mels: cfg.n_mels as usize,
            fb,
            db_offset: 10.0 * libm::log10f(cfg.ref_db.max(cfg.amin)),
            buf: [0.0; MAX_N_FFT],
            mel: [0.0; MAX_N_MELS],
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FrontendConfig {
        &self.cfg
    }

    /// The filterbank.
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.fb
    }

    /// Log-mel of f32 samples into `out`, mel-major `[n_mels, frames]`
    /// (`out[m * frames + t]`, librosa's layout). Returns `frames`
    /// (= `config.n_frames(input.len())`); `out` may be longer than needed.
    ///
    /// # Errors
    /// [`Error::InputEmpty`], [`Error::InputTooShort`] (no complete frame
    /// without centring), [`Error::InputNotFinite`],
    /// [`Error::OutputTooSmall`]. Nothing is written on error.
    pub fn compute_f32(&mut self, input: &[f32], out: &mut [f32]) -> Result<usize, Error> {
        self.compute(input, out)
    }

    /// As [`LogMel::compute_f32`] for 16-bit PCM, scaled by `1 / 32768`.
    ///
    /// # Errors
    /// As [`LogMel::compute_f32`].
    pub fn compute_i16(&mut self, input: &[i16], out: &mut [f32]) -> Result<usize, Error> {
        self.compute(input, out)
    }

    /// Generic whole-signal form.
    ///
    /// # Errors
    /// As [`LogMel::compute_f32`].
    pub fn compute<S: Sample>(&mut self, input: &[S], out: &mut [f32]) -> Result<usize, Error> {
        if input.is_empty() {
            return Err(Error::InputEmpty);
        }
        let frames = self.cfg.n_frames(input.len());
        if frames == 0 {
            return Err(Error::InputTooShort);
        }
        if !input.iter().all(|s| s.is_finite()) {
            return Err(Error::InputNotFinite);
        }
        let needed = frames
            .checked_mul(self.n_mels)
            .ok_or(Error::OutputTooSmall)?;
        let out = out.get_mut(..needed).ok_or(Error::OutputTooSmall)?;
        let pad = if self.cfg.center { self.n_fft / 2 } else { 0 };
        for t in 0..frames {
            // Frame t covers input[t * hop - pad .. t * hop - pad + n_fft].
            let start = t * self.hop;
            self.load_frame(input, start, pad);
            self.finish_frame()?;
            for (m, &v) in self.mel.iter().take(self.n_mels).enumerate() {
                if let Some(o) = out.get_mut(m * frames + t) {
                    *o = v;
                }
            }
        }
        if let Some(top) = self.cfg.top_db {
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let floor = max - top;
            for v in out.iter_mut() {
                *v = v.max(floor);
            }
        }
        Ok(frames)
    }

    /// Copies padded samples `start - pad .. start - pad + n_fft` into the
    /// frame buffer (zeros outside the input).
    fn load_frame<S: Sample>(&mut self, input: &[S], start: usize, pad: usize) {
        let n_fft = self.n_fft;
        let Some(frame) = self.buf.get_mut(..n_fft) else {
            return;
        };
        let inner = start.checked_sub(pad).and_then(|s| input.get(s..s + n_fft));
        match inner {
            Some(src) => {
                for (d, s) in frame.iter_mut().zip(src) {
                    *d = s.to_f32();
                }
            }
            None => {
                for (n, d) in frame.iter_mut().enumerate() {
                    let idx = (start + n).checked_sub(pad);
                    *d = idx.and_then(|i| input.get(i)).map_or(0.0, |s| s.to_f32());
                }
            }
        }
    }

    /// Mutable access to the `n_fft` raw (unwindowed) samples of the next
    /// frame, for the streaming form.
    pub(crate) fn frame_buffer(&mut self) -> &mut [f32] {
        let n = self.n_fft;
        self.buf.get_mut(..n).unwrap_or(&mut [])
    }

    /// Window, FFT, power, mel and dB of the frame in the buffer; the result
    /// lands in `self.mel`.
    pub(crate) fn finish_frame(&mut self) -> Result<(), Error> {
        let n_fft = self.n_fft;
        let frame = self
            .buf
            .get_mut(..n_fft)
            .ok_or(Error::ConfigUnsupportedFftSize)?;
        window::apply_hann(frame)?;
        if n_fft == rfft::N {
            // the M4F-tuned path: permutation, radix-4 FFT, split fused with the power
            rfft::power_folded_in_place(&mut self.buf);
            return self.finish_folded();
        }
        self.finish_other_sizes()
    }

    /// The front end of another FFT size than 2048 (microfft; host builds only).
    #[cfg(feature = "fft-all-sizes")]
    fn finish_other_sizes(&mut self) -> Result<(), Error> {
        let n_fft = self.n_fft;
        // the power of each bin is computed where the filterbank reads it (no pass over the
        // spectrum; the same values as fft::power_spectrum_in_place)
        if self.cfg.power != 1 && self.cfg.power != 2 {
            return Err(Error::ConfigBadPower);
        }
        crate::fft::rfft_packed(&mut self.buf, n_fft)?;
        self.fb
            .apply_packed(&self.buf, self.cfg.power, &mut self.mel)?;
        self.log_mel();
        Ok(())
    }

    /// Without `fft-all-sizes` only 2048 points are compiled in.
    #[cfg(not(feature = "fft-all-sizes"))]
    fn finish_other_sizes(&mut self) -> Result<(), Error> {
        Err(Error::ConfigUnsupportedFftSize)
    }

    /// Mel and dB of the folded power spectrum in the buffer ([`rfft`]).
    pub(crate) fn finish_folded(&mut self) -> Result<(), Error> {
        self.fb
            .apply_folded(&self.buf, self.cfg.power, &mut self.mel)?;
        self.log_mel();
        Ok(())
    }

    /// The 2048-point buffer, for the streaming form's fused ring gather.
    pub(crate) fn buf_2048(&mut self) -> &mut [f32; rfft::N] {
        &mut self.buf
    }

    /// `10 log10(max(amin, mel)) - db_offset` in place.
    fn log_mel(&mut self) {
        let amin = self.cfg.amin;
        for v in self.mel.iter_mut().take(self.n_mels) {
            // `max` without the call to `fmaxf` (same result: a NaN gives `amin` either way)
            let x = if *v > amin { *v } else { amin };
            *v = db10(x) - self.db_offset;
        }
    }

    /// The log-mel values of the last computed frame (`n_mels` values) and the FFT buffer, whose
    /// contents are dead until the next frame overwrites them (lent to the frame's consumer as
    /// working memory).
    pub(crate) fn last_frame_and_buffer(&mut self) -> (&[f32], &mut [f32]) {
        (self.mel.get(..self.n_mels).unwrap_or(&[]), &mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn max_err_within_80db(ours: &[f32], refr: &[f64]) -> f64 {
        let max = refr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        ours.iter()
            .zip(refr)
            .filter(|(_, r)| **r >= max - 80.0)
            .map(|(o, r)| (*o as f64 - r).abs())
            .fold(0.0, f64::max)
    }

    /// Fast path (f32, radix-4 FFT or microfft, sparse bank) against the f64 direct-DFT
    /// reference on noise, tones and impulses, both presets, with and
    /// without centring.
    #[test]
    fn fast_path_matches_f64_reference() {
        let mut rng = StdRng::seed_from_u64(11);
        let sr = 22050.0f32;
        let n = 8000;
        let signals: Vec<(&str, Vec<f32>)> = vec![
            (
                "noise",
                (0..n).map(|_| rng.random_range(-0.5f32..0.5)).collect(),
            ),
            (
                "tones",
                (0..n)
                    .map(|i| {
                        let t = i as f32 / sr;
                        0.3 * (2.0 * core::f32::consts::PI * 440.0 * t).sin()
                            + 0.1 * (2.0 * core::f32::consts::PI * 3150.0 * t).sin()
                    })
                    .collect(),
            ),
            (
                "impulses",
                (0..n)
                    .map(|i| if i % 1500 == 7 { 0.9 } else { 0.0 })
                    .collect(),
            ),
        ];
        let mut worst: f64 = 0.0;
        for base in [FrontendConfig::DEFAULT, FrontendConfig::HTK1024] {
            for center in [true, false] {
                let cfg = FrontendConfig { center, ..base };
                let mut lm = LogMel::new(&cfg).unwrap();
                for (name, x) in &signals {
                    let frames = cfg.n_frames(x.len());
                    let mut ours = vec![0.0f32; 128 * frames];
                    let mut refr = vec![0.0f64; 128 * frames];
                    assert_eq!(lm.compute_f32(x, &mut ours).unwrap(), frames);
                    assert_eq!(reference::log_mel(&cfg, x, &mut refr).unwrap(), frames);
                    let err = max_err_within_80db(&ours, &refr);
                    worst = worst.max(err);
                    assert!(
                        err < 1e-3,
                        "{name} center {center} {:?}: max err {err} dB",
                        cfg.mel_scale
                    );
                }
            }
        }
        eprintln!("fast path vs f64 reference: worst max |diff| = {worst:.2e} dB");
    }

    #[test]
    fn i16_path_equals_f32_of_scaled_samples() {
        let cfg = FrontendConfig::DEFAULT;
        let mut lm = LogMel::new(&cfg).unwrap();
        let pcm: Vec<i16> = (0..5000)
            .map(|i| ((i * 7919) % 65536 - 32768) as i16)
            .collect();
        let f: Vec<f32> = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
        let frames = cfg.n_frames(pcm.len());
        let mut a = vec![0.0; 128 * frames];
        let mut b = vec![0.0; 128 * frames];
        lm.compute_i16(&pcm, &mut a).unwrap();
        lm.compute_f32(&f, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(i16::MIN.to_f32(), -1.0);
    }

    #[test]
    fn silence_is_amin_floor_and_top_db_clamps() {
        let mut lm = LogMel::new(&FrontendConfig::DEFAULT).unwrap();
        let mut out = vec![0.0; 128 * 3];
        assert_eq!(lm.compute_f32(&[0.0; 1024], &mut out).unwrap(), 3);
        let floor = db10(1e-10);
        assert!(out.iter().all(|&v| v == floor));
        assert!((floor + 100.0).abs() < 1e-4);

        // top_db: whole-output max - top_db floor (librosa power_to_db).
        let cfg = FrontendConfig {
            top_db: Some(30.0),
            ..FrontendConfig::DEFAULT
        };
        let mut lm = LogMel::new(&cfg).unwrap();
        let x: Vec<f32> = (0..4096).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
        let frames = cfg.n_frames(x.len());
        let mut clamped = vec![0.0; 128 * frames];
        lm.compute_f32(&x, &mut clamped).unwrap();
        let mut plain = vec![0.0; 128 * frames];
        LogMel::new(&FrontendConfig::DEFAULT)
            .unwrap()
            .compute_f32(&x, &mut plain)
            .unwrap();
        let max = plain.iter().copied().fold(f32::MIN, f32::max);
        for (c, p) in clamped.iter().zip(&plain) {
            assert_eq!(*c, p.max(max - 30.0));
        }
        assert!(
            plain.iter().any(|&p| p < max - 30.0),
            "test signal must exercise the floor"
        );
    }

    #[test]
    fn empty_input_is_an_error() {
        let mut lm = LogMel::new(&FrontendConfig::DEFAULT).unwrap();
        let mut out = vec![0.0; 128];
        assert_eq!(lm.compute_f32(&[], &mut out), Err(Error::InputEmpty));
        assert_eq!(lm.compute_i16(&[], &mut out), Err(Error::InputEmpty));
    }

    #[test]
    fn input_shorter_than_a_frame_without_centre_is_an_error() {
        let cfg = FrontendConfig {
            center: false,
            ..FrontendConfig::DEFAULT
        };
        let mut lm = LogMel::new(&cfg).unwrap();
        let mut out = vec![0.0; 128];
        assert_eq!(
            lm.compute_f32(&[0.1; 2047], &mut out),
            Err(Error::InputTooShort)
        );
        assert_eq!(lm.compute_f32(&[0.1; 2048], &mut out), Ok(1));
    }

    #[test]
    fn non_finite_samples_are_an_error() {
        let mut lm = LogMel::new(&FrontendConfig::DEFAULT).unwrap();
        let mut out = vec![7.0; 128 * 10];
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut x = vec![0.1f32; 3000];
            x[2999] = bad;
            assert_eq!(lm.compute_f32(&x, &mut out), Err(Error::InputNotFinite));
        }
        assert!(out.iter().all(|&v| v == 7.0), "nothing written on error");
    }

    #[test]
    fn unsupported_n_fft_is_an_error() {
        let cfg = FrontendConfig {
            n_fft: 1500,
            ..FrontendConfig::DEFAULT
        };
        assert!(matches!(
            LogMel::new(&cfg),
            Err(Error::ConfigUnsupportedFftSize)
        ));
        let cfg = FrontendConfig {
            n_fft: 4096,
            ..FrontendConfig::DEFAULT
        };
        assert!(matches!(
            LogMel::new(&cfg),
            Err(Error::ConfigUnsupportedFftSize)
        ));
    }

    #[test]
    fn f_max_above_nyquist_is_an_error() {
        let cfg = FrontendConfig {
            f_max: 12000.0,
            ..FrontendConfig::DEFAULT
        };
        assert!(matches!(
            LogMel::new(&cfg),
            Err(Error::ConfigBadFrequencyRange)
        ));
    }

    #[test]
    fn zero_mels_is_an_error() {
        let cfg = FrontendConfig {
            n_mels: 0,
            ..FrontendConfig::DEFAULT
        };
        assert!(matches!(LogMel::new(&cfg), Err(Error::ConfigBadMelCount)));
    }

    #[test]
    fn output_too_small_is_an_error() {
        let mut lm = LogMel::new(&FrontendConfig::DEFAULT).unwrap();
        let x = vec![0.1f32; 66150];
        let mut out = vec![0.0; 128 * 130 - 1];
        assert_eq!(lm.compute_f32(&x, &mut out), Err(Error::OutputTooSmall));
        let mut out = vec![0.0; 128 * 130];
        assert_eq!(lm.compute_f32(&x, &mut out), Ok(130));
    }
}
