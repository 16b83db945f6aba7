//! The triangular mel filterbank, stored sparsely.
//!
//! Filter `m` rises from `mel_f[m]` to `mel_f[m+1]` and falls to `mel_f[m+2]`,
//! where `mel_f` holds `n_mels + 2` frequencies equally spaced on the mel
//! scale from `f_min` to `f_max` (librosa's `filters.mel`). An FFT bin at
//! frequency `f` with `mel_f[k] <= f < mel_f[k+1]` therefore lies on exactly
//! two slopes: the rising slope of filter `k` (weight `r = (f - mel_f[k]) /
//! (mel_f[k+1] - mel_f[k])`) and the falling slope of filter `k - 1` (weight
//! `1 - r`). So the whole bank is one `u8` and one `f32` per bin, plus one
//! normalisation factor per filter: about 5 KiB at `n_fft = 2048` instead of
//! the 512 KiB of the dense `[128, 1025]` matrix.
//!
//! The edges and weights are computed in f64 exactly as librosa does
//! (`rfftfreq`, `linspace` on the mel scale, Slaney `2 / (f_{m+2} - f_m)`
//! normalisation) and rounded to f32 once.

use crate::Error;
use crate::config::{FrontendConfig, MAX_N_BINS, MAX_N_MELS, MelNorm, MelScale};

mod folded;

/// Slaney scale: linear part `f / (200/3)` below 1 kHz.
const SLANEY_F_SP: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;

fn slaney_logstep() -> f64 {
    libm::log(6.4) / 27.0
}

/// Hz to mel (librosa's `hz_to_mel`).
pub fn hz_to_mel(f: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * libm::log10(1.0 + f / 700.0),
        MelScale::Slaney => {
            let min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
            if f >= SLANEY_MIN_LOG_HZ {
                min_log_mel + libm::log(f / SLANEY_MIN_LOG_HZ) / slaney_logstep()
            } else {
                f / SLANEY_F_SP
            }
        }
    }
}

/// Mel to Hz (librosa's `mel_to_hz`).
pub fn mel_to_hz(m: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (libm::pow(10.0, m / 2595.0) - 1.0),
        MelScale::Slaney => {
            let min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
            if m >= min_log_mel {
                SLANEY_MIN_LOG_HZ * libm::exp(slaney_logstep() * (m - min_log_mel))
            } else {
                SLANEY_F_SP * m
            }
        }
    }
}

/// The `n_mels + 2` edges of `cfg` as Rust expressions, `f64::from_bits(0x...)` each: what the
/// device builds' `build.rs` (firmware-example, board-nrf52840) write into a static, so the
/// firmware carries the edges' exact bits instead of the mel scale's f64 log, exp and pow.
#[cfg(feature = "std")]
pub fn mel_edges_source(cfg: &FrontendConfig) -> std::vec::Vec<std::string::String> {
    (0..cfg.n_mels as usize + 2)
        .map(|i| std::format!("f64::from_bits({:#018x})", mel_edge_hz(cfg, i).to_bits()))
        .collect()
}

/// Edge `i` (of `n_mels + 2`) of the filterbank in Hz, as librosa's
/// `mel_frequencies(n_mels + 2, fmin, fmax)`: `np.linspace` on the mel scale
/// (`start + i * step`, the last one exactly `stop`) mapped back to Hz.
pub fn mel_edge_hz(cfg: &FrontendConfig, i: usize) -> f64 {
    let n = cfg.n_mels as usize + 2;
    let lo = hz_to_mel(cfg.f_min as f64, cfg.mel_scale);
    let hi = hz_to_mel(cfg.f_max as f64, cfg.mel_scale);
    let mel = if i + 1 >= n {
        hi
    } else {
        let step = (hi - lo) / (n - 1) as f64;
        i as f64 * step + lo
    };
    mel_to_hz(mel, cfg.mel_scale)
}

/// Centre frequency of FFT bin `k` in Hz, as `np.fft.rfftfreq(n_fft, 1/sr)`.
pub fn bin_hz(cfg: &FrontendConfig, k: usize) -> f64 {
    let val = 1.0 / (cfg.n_fft as f64 * (1.0 / cfg.sample_rate as f64));
    k as f64 * val
}

/// Sparse mel filterbank: per FFT bin, the filter whose rising slope it lies
/// on and the rising weight; per filter, its normalisation.
#[derive(Clone)]
pub struct MelFilterbank {
    n_mels: usize,
    n_bins: usize,
    /// Bins `first_bin..end_bin` carry weight; all others none.
    first_bin: usize,
    end_bin: usize,
    /// `rising[k]` = `m` such that `mel_f[m] <= f_k < mel_f[m+1]` (`0..=n_mels`).
    rising: [u8; MAX_N_BINS],
    /// Weight of bin `k` in filter `rising[k]`; `1 - weight` goes to filter `rising[k] - 1`.
    weight: [f32; MAX_N_BINS],
    /// Per-filter factor (Slaney `2 / (f_{m+2} - f_m)`, or 1).
    norm: [f32; MAX_N_MELS],
}

impl MelFilterbank {
    /// Builds the filterbank of a configuration.
    ///
    /// # Errors
    /// Whatever [`FrontendConfig::validate`] reports.
    pub fn new(cfg: &FrontendConfig) -> Result<Self, Error> {
        cfg.validate()?;
        let mut edges = [0.0f64; MAX_N_MELS + 2];
        for (i, e) in edges.iter_mut().take(cfg.n_mels as usize + 2).enumerate() {
            *e = mel_edge_hz(cfg, i);
        }
        Self::from_edges(cfg, &edges)
    }

    /// Builds the filterbank of a configuration from its band edges computed beforehand:
    /// `edges[i]` must be [`mel_edge_hz`]`(cfg, i)` for `i` in `0..n_mels + 2` (longer slices
    /// are fine), and the result is then bit-identical to [`MelFilterbank::new`]'s. For a device
    /// whose configuration is known at build time: it leaves out the mel scale's f64 `log`,
    /// `exp` and `pow` (about 2 KiB of flash on a Cortex-M4F), keeping the rest of the set-up.
    ///
    /// # Errors
    /// Whatever [`FrontendConfig::validate`] reports; [`Error::FrontendMismatch`] if `edges`
    /// holds fewer than `n_mels + 2` values.
    pub fn from_edges(cfg: &FrontendConfig, edges: &[f64]) -> Result<Self, Error> {
        cfg.validate()?;
        let n_mels = cfg.n_mels as usize;
        let n_bins = cfg.n_bins();
        let edges = edges.get(..n_mels + 2).ok_or(Error::FrontendMismatch)?;
        let mut fb = MelFilterbank {
            n_mels,
            n_bins,
            first_bin: 0,
            end_bin: 0,
            rising: [0; MAX_N_BINS],
            weight: [0.0; MAX_N_BINS],
            norm: [1.0; MAX_N_MELS],
        };
        if cfg.norm == MelNorm::Slaney {
            for (m, n) in fb.norm.iter_mut().take(n_mels).enumerate() {
                let (lo, hi) = (edge(edges, m), edge(edges, m + 2));
                *n = (2.0 / (hi - lo)) as f32;
            }
        }
        let lowest = edge(edges, 0);
        let highest = edge(edges, n_mels + 1);
        let mut first = None;
        let mut end = 0;
        let mut m = 0usize; // current segment: edges[m] <= f < edges[m + 1]
        for k in 0..n_bins {
            let f = bin_hz(cfg, k);
            if f < lowest || f >= highest {
                continue;
            }
            while m < n_mels && f >= edge(edges, m + 1) {
                m += 1;
            }
            let (lo, hi) = (edge(edges, m), edge(edges, m + 1));
            let w = if hi > lo { (f - lo) / (hi - lo) } else { 0.0 };
            if let (Some(r), Some(wt)) = (fb.rising.get_mut(k), fb.weight.get_mut(k)) {
                *r = m as u8; // m <= n_mels <= MAX_N_MELS = 128
                *wt = w as f32;
            }
            first.get_or_insert(k);
            end = k + 1;
        }
        fb.first_bin = first.unwrap_or(0);
        fb.end_bin = end;
        Ok(fb)
    }

    /// Number of filters.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Number of FFT bins the bank reads (`n_fft / 2 + 1`).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// Weight of FFT bin `bin` in filter `mel` (the dense matrix entry
    /// `M[mel, bin]` of librosa's `filters.mel`); 0 out of range.
    pub fn weight(&self, mel: usize, bin: usize) -> f32 {
        if bin < self.first_bin || bin >= self.end_bin || mel >= self.n_mels {
            return 0.0;
        }
        let (Some(&r), Some(&w)) = (self.rising.get(bin), self.weight.get(bin)) else {
            return 0.0;
        };
        let r = r as usize;
        let norm = self.norm.get(mel).copied().unwrap_or(0.0);
        if mel == r {
            w * norm
        } else if mel + 1 == r {
            (1.0 - w) * norm
        } else {
            0.0
        }
    }

    /// `mel[m] = sum_k M[m, k] * spec[k]` for `m` in `0..n_mels`.
    /// `spec` must hold `n_bins` values and `mel` `n_mels`.
    ///
    /// # Errors
    /// [`Error::OutputTooSmall`] if either slice is too short.
    pub fn apply(&self, spec: &[f32], mel: &mut [f32]) -> Result<(), Error> {
        let mel = mel.get_mut(..self.n_mels).ok_or(Error::OutputTooSmall)?;
        let range = self.first_bin..self.end_bin;
        let spec = spec.get(range.clone()).ok_or(Error::OutputTooSmall)?;
        let rising = self
            .rising
            .get(range.clone())
            .ok_or(Error::OutputTooSmall)?;
        let weight = self.weight.get(range).ok_or(Error::OutputTooSmall)?;
        mel.fill(0.0);
        for ((&p, &r), &w) in spec.iter().zip(rising).zip(weight) {
            let r = r as usize;
            if let Some(acc) = mel.get_mut(r) {
                *acc += w * p;
            }
            if let Some(acc) = r.checked_sub(1).and_then(|i| mel.get_mut(i)) {
                *acc += (1.0 - w) * p;
            }
        }
        for (acc, &n) in mel.iter_mut().zip(&self.norm) {
            *acc *= n;
        }
        Ok(())
    }

    /// [`MelFilterbank::apply`] on the FFT's packed output ([`crate::fft::rfft_packed`] of
    /// `2 (n_bins - 1)` samples), each bin's power (`|X[k]|^2`, its square root for `power ==
    /// 1`) computed where it is read: bit-identical to [`crate::fft::power_spectrum_in_place`]
    /// then [`MelFilterbank::apply`], without the pass over the spectrum.
    ///
    /// # Errors
    /// [`Error::OutputTooSmall`] if either slice is too short, [`Error::ConfigBadPower`] for a
    /// power other than 1 or 2.
    pub fn apply_packed(&self, packed: &[f32], power: u8, mel: &mut [f32]) -> Result<(), Error> {
        if power != 1 && power != 2 {
            return Err(Error::ConfigBadPower);
        }
        let half = self.n_bins.saturating_sub(1);
        let packed = packed.get(..2 * half).ok_or(Error::OutputTooSmall)?;
        let (pairs, _) = packed.as_chunks::<2>();
        let &[dc, nyq] = pairs.first().ok_or(Error::OutputTooSmall)?;
        let pw = |v: f32| {
            if power == 1 {
                crate::dsp::sqrt_f32(v)
            } else {
                v
            }
        };
        let mel = mel.get_mut(..self.n_mels).ok_or(Error::OutputTooSmall)?;
        mel.fill(0.0);
        let (lo, hi) = (self.first_bin, self.end_bin);
        let add = |mel: &mut [f32], k: usize, p: f32| {
            let (Some(&r), Some(&w)) = (self.rising.get(k), self.weight.get(k)) else {
                return;
            };
            let r = r as usize;
            if let Some(acc) = mel.get_mut(r) {
                *acc += w * p;
            }
            if let Some(acc) = r.checked_sub(1).and_then(|i| mel.get_mut(i)) {
                *acc += (1.0 - w) * p;
            }
        };
        // bins in ascending order, as `apply` adds them: DC, 1..half, Nyquist
        if lo == 0 && hi > 0 {
            add(mel, 0, pw(dc * dc));
        }
        let mid = lo.max(1)..hi.min(half).max(lo.max(1));
        let bins = pairs.get(mid.clone()).unwrap_or(&[]);
        let rising = self.rising.get(mid.clone()).unwrap_or(&[]);
        let weight = self.weight.get(mid).unwrap_or(&[]);
        for ((&[re, im], &r), &w) in bins.iter().zip(rising).zip(weight) {
            let p = pw(re * re + im * im);
            let r = r as usize;
            if let Some(acc) = mel.get_mut(r) {
                *acc += w * p;
            }
            if let Some(acc) = r.checked_sub(1).and_then(|i| mel.get_mut(i)) {
                *acc += (1.0 - w) * p;
            }
        }
        if lo <= half && half < hi && half > 0 {
            add(mel, half, pw(nyq * nyq));
        }
        for (acc, &n) in mel.iter_mut().zip(&self.norm) {
            *acc *= n;
        }
        Ok(())
    }
}

fn edge(edges: &[f64], i: usize) -> f64 {
    edges.get(i).copied().unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by librosa 0.11: `hz_to_mel(60)` = 0.9,
    /// `hz_to_mel(60, htk=True)` = 92.681858131657, `hz_to_mel(11025)` =
    /// 49.91059448015905.
    #[test]
    fn scales_match_librosa_hand_values() {
        assert!((hz_to_mel(60.0, MelScale::Slaney) - 0.9).abs() < 1e-12);
        assert!((hz_to_mel(60.0, MelScale::Htk) - 92.681_858_131_657).abs() < 1e-9);
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(11025.0, MelScale::Slaney) - 49.910_594_480_159_05).abs() < 1e-11);
        for f in [0.0, 20.0, 999.0, 1000.0, 4321.5, 11025.0] {
            for s in [MelScale::Slaney, MelScale::Htk] {
                assert!((mel_to_hz(hz_to_mel(f, s), s) - f).abs() < 1e-9 * (1.0 + f));
            }
        }
    }

    /// The sparse bank equals the dense triangular formula of librosa
    /// (`max(0, min(lower, upper))`, times the Slaney norm).
    #[test]
    fn sparse_bank_equals_dense_formula() {
        for cfg in [
            FrontendConfig::DEFAULT,
            FrontendConfig::HTK1024,
            FrontendConfig {
                f_min: 300.0,
                f_max: 8000.0,
                n_mels: 40,
                ..FrontendConfig::DEFAULT
            },
        ] {
            let fb = MelFilterbank::new(&cfg).unwrap();
            let n_mels = cfg.n_mels as usize;
            let edges: Vec<f64> = (0..n_mels + 2).map(|i| mel_edge_hz(&cfg, i)).collect();
            for m in 0..n_mels {
                let norm = if cfg.norm == MelNorm::Slaney {
                    2.0 / (edges[m + 2] - edges[m])
                } else {
                    1.0
                };
                for k in 0..cfg.n_bins() {
                    let f = bin_hz(&cfg, k);
                    let lower = (f - edges[m]) / (edges[m + 1] - edges[m]);
                    let upper = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
                    let want = lower.min(upper).max(0.0) * norm;
                    let got = fb.weight(m, k) as f64;
                    assert!(
                        (got - want).abs() <= 1e-6 * norm,
                        "{cfg:?} m {m} k {k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// The bank from precomputed edges (the firmware's build-time path) is the bank, bit for
    /// bit; too few edges are a typed error.
    #[test]
    fn from_edges_equals_new() {
        for cfg in [FrontendConfig::DEFAULT, FrontendConfig::HTK1024] {
            let edges: Vec<f64> = (0..cfg.n_mels as usize + 2)
                .map(|i| mel_edge_hz(&cfg, i))
                .collect();
            let (a, b) = (
                MelFilterbank::new(&cfg).unwrap(),
                MelFilterbank::from_edges(&cfg, &edges).unwrap(),
            );
            assert_eq!((a.first_bin, a.end_bin), (b.first_bin, b.end_bin));
            assert_eq!(a.rising, b.rising);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.weight), bits(&b.weight));
            assert_eq!(bits(&a.norm), bits(&b.norm));
            assert_eq!(
                MelFilterbank::from_edges(&cfg, &edges[1..]).err(),
                Some(Error::FrontendMismatch)
            );
        }
    }

    #[test]
    fn apply_equals_dense_product() {
        let cfg = FrontendConfig::DEFAULT;
        let fb = MelFilterbank::new(&cfg).unwrap();
        let spec: Vec<f32> = (0..cfg.n_bins())
            .map(|k| 1.0 + (k as f32 * 0.37).sin())
            .collect();
        let mut mel = [0.0f32; 128];
        fb.apply(&spec, &mut mel).unwrap();
        for (m, &got) in mel.iter().enumerate() {
            let want: f64 = (0..cfg.n_bins())
                .map(|k| fb.weight(m, k) as f64 * spec[k] as f64)
                .sum();
            assert!(
                (got as f64 - want).abs() <= 1e-5 * want.abs().max(1e-3),
                "m {m}"
            );
        }
        let mut short = [0.0f32; 10];
        assert_eq!(fb.apply(&spec, &mut short), Err(Error::OutputTooSmall));
        assert_eq!(fb.apply(&spec[..100], &mut mel), Err(Error::OutputTooSmall));
    }

    /// The fused form on the FFT's packed output equals the power spectrum then `apply`, bit
    /// for bit, for both presets and both powers.
    #[test]
    fn apply_packed_equals_power_then_apply() {
        use crate::fft;
        for cfg in [FrontendConfig::DEFAULT, FrontendConfig::HTK1024] {
            for power in [1u8, 2] {
                let cfg = FrontendConfig { power, ..cfg };
                let fb = MelFilterbank::new(&cfg).unwrap();
                let n = cfg.n_fft as usize;
                let x: Vec<f32> = (0..n)
                    .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
                    .collect();
                let mut a = x.clone();
                fft::power_spectrum_in_place(&mut a, n, power).unwrap();
                let mut want = [0.0f32; 128];
                fb.apply(&a, &mut want).unwrap();
                let mut b = x.clone();
                fft::rfft_packed(&mut b, n).unwrap();
                let mut got = [0.0f32; 128];
                fb.apply_packed(&b, power, &mut got).unwrap();
                assert!(
                    want.iter()
                        .zip(&got)
                        .all(|(p, q)| p.to_bits() == q.to_bits())
                );
                assert_eq!(fb.apply_packed(&b, 3, &mut got), Err(Error::ConfigBadPower));
            }
        }
    }
}
