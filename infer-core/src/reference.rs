//! Plain scalar reference of the front end, in f64, kept beside the fast path
//! to hold it honest.
//!
//! Straightforward and slow: the window is `0.5 - 0.5 cos(2 pi n / N)` from
//! libm in f64, the spectrum a direct DFT (O(N^2) per frame), the filterbank
//! the dense librosa formula `max(0, min(lower, upper)) * norm` evaluated for
//! every (mel, bin) pair, the dB conversion in f64. It shares only the
//! mel-scale conversions ([`crate::filterbank::mel_edge_hz`]) with the fast
//! path. Uses about 24 KiB of stack; meant for host tests, not the device.

use crate::Error;
use crate::config::{FrontendConfig, MAX_N_FFT, MAX_N_MELS, MelNorm};
use crate::filterbank::{bin_hz, mel_edge_hz};
use crate::frontend::Sample;

/// Log-mel of `input` in f64, mel-major `[n_mels, frames]` like
/// [`crate::frontend::LogMel::compute_f32`] (including `top_db`). Returns
/// the number of frames.
///
/// # Errors
/// As [`crate::frontend::LogMel::compute_f32`], plus config errors.
pub fn log_mel<S: Sample>(
    cfg: &FrontendConfig,
    input: &[S],
    out: &mut [f64],
) -> Result<usize, Error> {
    cfg.validate()?;
    if input.is_empty() {
        return Err(Error::InputEmpty);
    }
    let frames = cfg.n_frames(input.len());
    if frames == 0 {
        return Err(Error::InputTooShort);
    }
    if !input.iter().all(|s| s.is_finite()) {
        return Err(Error::InputNotFinite);
    }
    let n_mels = cfg.n_mels as usize;
    let n_fft = cfg.n_fft as usize;
    let hop = cfg.hop_length as usize;
    let needed = frames.checked_mul(n_mels).ok_or(Error::OutputTooSmall)?;
    let out = out.get_mut(..needed).ok_or(Error::OutputTooSmall)?;

    // cos(2 pi j / N) for j in 0..N, from libm.
    let mut cos_tab = [0.0f64; MAX_N_FFT];
    for (j, c) in cos_tab.iter_mut().take(n_fft).enumerate() {
        *c = libm::cos(2.0 * core::f64::consts::PI * j as f64 / n_fft as f64);
    }
    let cos_at = |j: usize| cos_tab.get(j % n_fft).copied().unwrap_or(0.0);
    let mut edges = [0.0f64; MAX_N_MELS + 2];
    for (i, e) in edges.iter_mut().take(n_mels + 2).enumerate() {
        *e = mel_edge_hz(cfg, i);
    }
    let edge = |i: usize| edges.get(i).copied().unwrap_or(0.0);
    let pad = if cfg.center { n_fft / 2 } else { 0 };
    let db_offset = 10.0 * libm::log10((cfg.ref_db as f64).max(cfg.amin as f64));

    let mut frame = [0.0f64; MAX_N_FFT];
    let mut spec = [0.0f64; MAX_N_FFT / 2 + 1];
    for t in 0..frames {
        for (n, x) in frame.iter_mut().take(n_fft).enumerate() {
            let sample = (t * hop + n)
                .checked_sub(pad)
                .and_then(|i| input.get(i))
                .map_or(0.0, |s| s.to_f32() as f64);
            *x = sample * (0.5 - 0.5 * cos_at(n));
        }
        // Direct DFT: X[k] = sum_n x[n] (cos(2 pi k n / N) - i sin(2 pi k n / N)),
        // sin(2 pi j / N) = cos(2 pi (j - N/4) / N).
        for (k, s) in spec.iter_mut().take(n_fft / 2 + 1).enumerate() {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            let mut j = 0usize; // (k * n) mod N
            for &x in frame.iter().take(n_fft) {
                re += x * cos_at(j);
                im -= x * cos_at(j + n_fft - n_fft / 4);
                j += k;
                if j >= n_fft {
                    j -= n_fft;
                }
            }
            let p = re * re + im * im;
            *s = if cfg.power == 1 { libm::sqrt(p) } else { p };
        }
        for m in 0..n_mels {
            let norm = if cfg.norm == MelNorm::Slaney {
                2.0 / (edge(m + 2) - edge(m))
            } else {
                1.0
            };
            let mut acc = 0.0f64;
            for (k, &s) in spec.iter().take(n_fft / 2 + 1).enumerate() {
                let f = bin_hz(cfg, k);
                let lower = (f - edge(m)) / (edge(m + 1) - edge(m));
                let upper = (edge(m + 2) - f) / (edge(m + 2) - edge(m + 1));
                let w = lower.min(upper).max(0.0);
                acc += w * s;
            }
            let v = 10.0 * libm::log10((acc * norm).max(cfg.amin as f64)) - db_offset;
            if let Some(o) = out.get_mut(m * frames + t) {
                *o = v;
            }
        }
    }
    if let Some(top) = cfg.top_db {
        let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for v in out.iter_mut() {
            *v = v.max(max - top as f64);
        }
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand calculation: a full-scale sine at bin-centre frequency k0 has
    /// windowed DFT magnitude N/4 at k0 and N/8 at k0 +- 1 (periodic Hann), so
    /// with one triangular filter (no norm) peaking exactly on k0 the power is
    /// (N/4)^2 plus the two neighbours weighted by their triangle weights.
    #[test]
    fn reference_matches_hand_calculation() {
        // n_fft 64 at sr 64 Hz: bin k is k Hz; one HTK filter over 4..32 Hz.
        let cfg = FrontendConfig {
            sample_rate: 64,
            n_fft: 64,
            hop_length: 64,
            n_mels: 1,
            f_min: 4.0,
            f_max: 32.0,
            mel_scale: crate::config::MelScale::Htk,
            norm: MelNorm::None,
            power: 2,
            ref_db: 1.0,
            amin: 1e-10,
            top_db: None,
            center: false,
        };
        let k0 = 10usize;
        let x: Vec<f32> = (0..64)
            .map(|n| (2.0 * core::f64::consts::PI * k0 as f64 * n as f64 / 64.0).cos() as f32)
            .collect();
        let mut out = [0.0f64; 1];
        assert_eq!(log_mel(&cfg, &x, &mut out).unwrap(), 1);
        // Expected power: sum over k of w(k) |X[k]|^2 with |X[k0]| = N/4 = 16
        // and |X[k0 +- 1]| = N/8 = 8, w = the triangle of edges e0 < e1 < e2.
        let (e0, e1, e2) = (
            mel_edge_hz(&cfg, 0),
            mel_edge_hz(&cfg, 1),
            mel_edge_hz(&cfg, 2),
        );
        let w = |f: f64| ((f - e0) / (e1 - e0)).min((e2 - f) / (e2 - e1)).max(0.0);
        let p = w(9.0) * 64.0 + w(10.0) * 256.0 + w(11.0) * 64.0;
        let want = 10.0 * p.log10();
        // The input is the cosine rounded to f32 (relative error 6e-8), hence 1e-5 dB.
        assert!((out[0] - want).abs() < 1e-5, "{} vs {want}", out[0]);
    }

    #[test]
    fn reference_rejects_bad_input() {
        let cfg = FrontendConfig::DEFAULT;
        let mut out = [0.0f64; 128];
        assert_eq!(log_mel::<f32>(&cfg, &[], &mut out), Err(Error::InputEmpty));
        assert_eq!(
            log_mel(&cfg, &[f32::NAN], &mut out),
            Err(Error::InputNotFinite)
        );
        assert_eq!(
            log_mel(&cfg, &[0.0f32; 600], &mut out),
            Err(Error::OutputTooSmall)
        );
    }
}
