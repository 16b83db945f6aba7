//! SpecAugment's time and frequency masking (Park et al. 2019) on one
//! log-mel segment laid out `[n_mels, frames]` (`mel[m * frames + t]`).
//!
//! `masks` times each: a frequency mask of `f ~ U{0..=freq}` consecutive mel
//! bands starting at `f0 ~ U{0..=n_mels - f}`, and a time mask of
//! `w ~ U{0..=min(time, frames)}` consecutive frames starting at
//! `t0 ~ U{0..=frames - w}`. Masked cells are set to the mean of the segment
//! computed before masking ([`MaskValue::Mean`], the default: the stage runs on
//! the un-normalised log-mel, so the mean is the neutral value that becomes
//! ~0 after `(x - mean) / std`), or to `0.0` ([`MaskValue::Zero`], for a
//! caller that applies it after normalisation).

use rand::{Rng, RngExt};

/// The value written into masked cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskValue {
    /// The mean of the segment before masking (`value=mean`, default).
    Mean,
    /// Zero (`value=zero`).
    Zero,
}

/// `specaugment:time=T,freq=F,masks=M[,value=mean|zero]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecAugment {
    /// Largest time-mask width in frames (default 20).
    pub time: usize,
    /// Largest frequency-mask width in mel bands (default 16).
    pub freq: usize,
    /// Number of time masks and of frequency masks (default 2 each).
    pub masks: usize,
    /// Fill value (default the segment mean).
    pub value: MaskValue,
}

impl Default for SpecAugment {
    fn default() -> Self {
        SpecAugment {
            time: 20,
            freq: 16,
            masks: 2,
            value: MaskValue::Mean,
        }
    }
}

/// One applied mask: a half-open range of mel bands or of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Mel bands `start..end` over all frames.
    Freq {
        /// First band.
        start: usize,
        /// One past the last band.
        end: usize,
    },
    /// Frames `start..end` over all bands.
    Time {
        /// First frame.
        start: usize,
        /// One past the last frame.
        end: usize,
    },
}

impl SpecAugment {
    /// Masks `mel` (`[n_mels, frames]`) in place; returns the masks drawn and
    /// the fill value used.
    ///
    /// # Panics
    /// If `mel.len() != n_mels * frames`.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        mel: &mut [f32],
        n_mels: usize,
        frames: usize,
        rng: &mut R,
    ) -> (Vec<Mask>, f32) {
        assert_eq!(
            mel.len(),
            n_mels * frames,
            "specaugment: mel is not [n_mels, frames]"
        );
        let fill = match self.value {
            MaskValue::Zero => 0.0,
            MaskValue::Mean if mel.is_empty() => 0.0,
            MaskValue::Mean => {
                (mel.iter().map(|&v| f64::from(v)).sum::<f64>() / mel.len() as f64) as f32
            }
        };
        let mut masks = Vec::with_capacity(2 * self.masks);
        for _ in 0..self.masks {
            let f = rng.random_range(0..=self.freq.min(n_mels));
            let f0 = rng.random_range(0..=n_mels - f);
            for row in mel.chunks_exact_mut(frames.max(1)).skip(f0).take(f) {
                row.fill(fill);
            }
            masks.push(Mask::Freq {
                start: f0,
                end: f0 + f,
            });
            let w = rng.random_range(0..=self.time.min(frames));
            let t0 = rng.random_range(0..=frames - w);
            for row in mel.chunks_exact_mut(frames.max(1)) {
                row[t0..t0 + w].fill(fill);
            }
            masks.push(Mask::Time {
                start: t0,
                end: t0 + w,
            });
        }
        (masks, fill)
    }
}
