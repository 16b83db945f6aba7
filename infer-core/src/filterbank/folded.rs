//! The filterbank on the 2048-point FFT's folded power spectrum ([`crate::rfft`]).

use super::MelFilterbank;
use crate::Error;

impl MelFilterbank {
    /// [`MelFilterbank::apply`] on the 2048-point FFT's folded power ([`crate::rfft`]: `4
    /// |X[b]|^2` at `2b` for `b <= 512`, at `2049 - 2b` above), `power` 2 or 1 (the square
    /// root, `2 |X|`); the factor 4 (or 2) is removed exactly with the normalisation. Each
    /// filter's two slopes are summed in registers (bins ascending, as `apply` adds them), so
    /// per bin it costs the two products and two additions. Needs `n_bins == 1025`.
    ///
    /// # Errors
    /// [`Error::OutputTooSmall`] if either slice is too short or the bank is not 2048-point's,
    /// [`Error::ConfigBadPower`] for a power other than 1 or 2.
    pub fn apply_folded(&self, folded: &[f32], power: u8, mel: &mut [f32]) -> Result<(), Error> {
        self.apply_folded_impl::<true>(folded, power, mel)
    }

    /// [`MelFilterbank::apply_folded`] in portable Rust only, on every target: the reference the
    /// firmware's `kernels` binary checks the M4F loop against.
    ///
    /// # Errors
    /// As [`MelFilterbank::apply_folded`].
    pub fn apply_folded_portable(
        &self,
        folded: &[f32],
        power: u8,
        mel: &mut [f32],
    ) -> Result<(), Error> {
        self.apply_folded_impl::<false>(folded, power, mel)
    }

    #[inline(always)]
    fn apply_folded_impl<const ASM: bool>(
        &self,
        folded: &[f32],
        power: u8,
        mel: &mut [f32],
    ) -> Result<(), Error> {
        const HALF: usize = 512;
        let scale = match power {
            2 => 0.25,
            1 => 0.5,
            _ => return Err(Error::ConfigBadPower),
        };
        if self.n_bins != 2 * HALF + 1 {
            return Err(Error::OutputTooSmall);
        }
        let folded: &[f32; 4 * HALF] = folded
            .get(..4 * HALF)
            .and_then(|s| s.try_into().ok())
            .ok_or(Error::OutputTooSmall)?;
        let n_mels = self.n_mels;
        let mel = mel.get_mut(..n_mels).ok_or(Error::OutputTooSmall)?;
        mel.fill(0.0);
        let (lo, hi) = (self.first_bin, self.end_bin.min(2 * HALF + 1));
        if lo >= hi {
            return Ok(());
        }
        let split = hi.min(HALF + 1).max(lo);
        let start = split.max(HALF + 1).min(hi);
        let (pairs, _) = folded.as_chunks::<2>();
        let bins = [lo, split, start, hi];
        let slopes = if power == 1 {
            self.slopes_folded::<true, ASM>(pairs, bins, mel)
        } else {
            self.slopes_folded::<false, ASM>(pairs, bins, mel)
        };
        if let Some(m) = (slopes.cur as usize)
            .checked_sub(1)
            .and_then(|i| mel.get_mut(i))
        {
            *m = slopes.down;
        }
        if let Some(m) = mel.get_mut(slopes.cur as usize) {
            *m = slopes.up;
        }
        for (acc, &n) in mel.iter_mut().zip(&self.norm) {
            *acc *= n * scale;
        }
        Ok(())
    }

    /// The slope sums of [`MelFilterbank::apply_folded`] over bins `lo..split` (at `2b`) and
    /// `start..hi` (at `2049 - 2b`), with `sqrt` applied to each power when `SQRT`.
    #[inline(always)]
    fn slopes_folded<const SQRT: bool, const ASM: bool>(
        &self,
        pairs: &[[f32; 2]],
        [lo, split, start, hi]: [usize; 4],
        mel: &mut [f32],
    ) -> Slopes {
        const SLOTS: usize = 1025;
        #[cfg(tinygenre_dsp)]
        if ASM && !SQRT {
            // the M4F's loop (`dsp::fft4`, the same arithmetic)
            use crate::dsp::fft4::{mel_slopes_ascending, mel_slopes_descending};
            let mut cur = self.rising.get(lo).copied().unwrap_or(0) as usize;
            let mut state = [0.0f32; 2];
            if let (Some(p), Some(r), Some(w)) = (
                pairs.get(lo..split),
                self.rising.get(lo..split),
                self.weight.get(lo..split),
            ) {
                mel_slopes_ascending(p, r, w, mel, &mut cur, &mut state);
            }
            if let (Some(p), Some(r), Some(w)) = (
                pairs.get(SLOTS - hi..SLOTS - start),
                self.rising.get(start..hi),
                self.weight.get(start..hi),
            ) {
                mel_slopes_descending(p, r, w, mel, &mut cur, &mut state);
            }
            return Slopes {
                cur: cur as u8, // at most n_mels <= 128
                up: state[0],
                down: state[1],
            };
        }
        let mut slopes = Slopes {
            cur: self.rising.get(lo).copied().unwrap_or(0),
            up: 0.0,
            down: 0.0,
        };
        if let (Some(p), Some(r), Some(w)) = (
            pairs.get(lo..split),
            self.rising.get(lo..split),
            self.weight.get(lo..split),
        ) {
            for ((&[p, _], &r), &w) in p.iter().zip(r).zip(w) {
                slopes = slopes.add::<SQRT>(mel, r, w, p);
            }
        }
        if let (Some(p), Some(r), Some(w)) = (
            pairs.get(SLOTS - hi..SLOTS - start),
            self.rising.get(start..hi),
            self.weight.get(start..hi),
        ) {
            for ((&[_, p], &r), &w) in p.iter().rev().zip(r).zip(w) {
                slopes = slopes.add::<SQRT>(mel, r, w, p);
            }
        }
        slopes
    }
}

/// The two open slopes of [`MelFilterbank::apply_folded`]: `up` sums filter `cur`'s rising
/// slope, `down` filter `cur - 1`'s falling one.
#[derive(Clone, Copy)]
struct Slopes {
    cur: u8,
    up: f32,
    down: f32,
}

impl Slopes {
    /// Adds bin power `p` (rising filter `r`, weight `w`); by value, so the sums stay in
    /// registers.
    #[inline(always)]
    fn add<const SQRT: bool>(mut self, mel: &mut [f32], r: u8, w: f32, p: f32) -> Slopes {
        let p = if SQRT { crate::dsp::sqrt_f32(p) } else { p };
        if r != self.cur {
            self = self.advance(mel, r);
        }
        self.up += w * p;
        self.down += (1.0 - w) * p;
        self
    }

    /// Closes filters up to `r - 1` (a new rising slope starts at filter `r`).
    #[inline(always)]
    fn advance(mut self, mel: &mut [f32], r: u8) -> Slopes {
        while self.cur < r {
            if let Some(m) = (self.cur as usize)
                .checked_sub(1)
                .and_then(|i| mel.get_mut(i))
            {
                *m = self.down;
            }
            self.down = self.up;
            self.up = 0.0;
            self.cur += 1;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::config::FrontendConfig;
    use crate::filterbank::MelFilterbank;
    use crate::rfft::folded_bin;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    /// `apply_folded` equals `apply` on the unfolded spectrum (`|X|^2 = folded / 4`, `|X| =
    /// sqrt(folded) / 2`: exact scalings) bit for bit, for both presets' 2048-point banks and
    /// a narrower band.
    #[test]
    fn folded_equals_apply_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(13);
        for cfg in [
            FrontendConfig::DEFAULT,
            FrontendConfig {
                f_min: 300.0,
                f_max: 8000.0,
                n_mels: 40,
                ..FrontendConfig::DEFAULT
            },
            FrontendConfig {
                n_fft: 2048,
                ..FrontendConfig::HTK1024
            },
        ] {
            let fb = MelFilterbank::new(&cfg).unwrap();
            for power in [1u8, 2] {
                let folded: Vec<f32> = (0..2048).map(|_| rng.random_range(0.0f32..100.0)).collect();
                let spec: Vec<f32> = (0..=1024)
                    .map(|b| {
                        let p = folded_bin(&folded, b).unwrap() / 4.0;
                        if power == 1 { p.sqrt() } else { p }
                    })
                    .collect();
                let n = cfg.n_mels as usize;
                let (mut a, mut f) = (vec![0.0f32; n], vec![0.0f32; n]);
                fb.apply(&spec, &mut a).unwrap();
                fb.apply_folded(&folded, power, &mut f).unwrap();
                let a: Vec<u32> = a.iter().map(|v| v.to_bits()).collect();
                let f: Vec<u32> = f.iter().map(|v| v.to_bits()).collect();
                assert_eq!(a, f, "{cfg:?} power {power}");
            }
        }
        let fb = MelFilterbank::new(&FrontendConfig::HTK1024).unwrap();
        let mut m = [0.0f32; 128];
        assert!(
            fb.apply_folded(&[0.0; 2048], 2, &mut m).is_err(),
            "1024-point bank"
        );
        let fb = MelFilterbank::new(&FrontendConfig::DEFAULT).unwrap();
        assert!(fb.apply_folded(&[0.0; 2048], 3, &mut m).is_err());
        assert!(fb.apply_folded(&[0.0; 2047], 2, &mut m).is_err());
    }
}
