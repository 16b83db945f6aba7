//! Time shift of the waveform by a random offset of up to `max` seconds
//! either way.
//!
//! The offset `d` (in samples) is drawn uniformly from
//! `[-round(max * sr), round(max * sr)]`; a positive `d` moves the content
//! later. With [`ShiftFill::Circular`] (the default) the samples pushed out at
//! one end come back at the other (a rotation: nothing is lost, the clip keeps
//! its length); with [`ShiftFill::Zero`] the vacated samples are silence.

use rand::{Rng, RngExt};

/// What fills the samples a shift vacates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftFill {
    /// Rotate: what leaves one end re-enters at the other (`fill=circular`).
    Circular,
    /// Zeros (`fill=zero`).
    Zero,
}

/// `timeshift:max=SECONDS[,fill=circular|zero]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeShift {
    /// Largest shift in seconds, either way (default 0.5).
    pub max_seconds: f32,
    /// Fill mode (default circular).
    pub fill: ShiftFill,
}

impl Default for TimeShift {
    fn default() -> Self {
        TimeShift {
            max_seconds: 0.5,
            fill: ShiftFill::Circular,
        }
    }
}

impl TimeShift {
    /// Draws the shift in samples for a clip at `sample_rate`.
    pub fn draw<R: Rng + ?Sized>(&self, sample_rate: u32, rng: &mut R) -> i64 {
        let max = (f64::from(self.max_seconds) * f64::from(sample_rate)).round() as i64;
        if max == 0 {
            0
        } else {
            rng.random_range(-max..=max)
        }
    }
}

/// Shifts `samples` by `by` samples (positive: later), filling as `fill` says.
pub fn shift(samples: &mut [f32], by: i64, fill: ShiftFill) {
    let n = samples.len();
    if n == 0 || by == 0 {
        return;
    }
    match fill {
        ShiftFill::Circular => {
            let r = by.rem_euclid(n as i64) as usize;
            samples.rotate_right(r);
        }
        ShiftFill::Zero => {
            let d = by.unsigned_abs() as usize;
            if d >= n {
                samples.fill(0.0);
            } else if by > 0 {
                samples.copy_within(..n - d, d);
                samples[..d].fill(0.0);
            } else {
                samples.copy_within(d.., 0);
                samples[n - d..].fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_by_hand() {
        let mut a = [1.0, 2.0, 3.0, 4.0, 5.0];
        shift(&mut a, 2, ShiftFill::Circular);
        assert_eq!(a, [4.0, 5.0, 1.0, 2.0, 3.0]);
        let mut a = [1.0, 2.0, 3.0, 4.0, 5.0];
        shift(&mut a, -1, ShiftFill::Circular);
        assert_eq!(a, [2.0, 3.0, 4.0, 5.0, 1.0]);
        let mut a = [1.0, 2.0, 3.0, 4.0, 5.0];
        shift(&mut a, 2, ShiftFill::Zero);
        assert_eq!(a, [0.0, 0.0, 1.0, 2.0, 3.0]);
        let mut a = [1.0, 2.0, 3.0, 4.0, 5.0];
        shift(&mut a, -2, ShiftFill::Zero);
        assert_eq!(a, [3.0, 4.0, 5.0, 0.0, 0.0]);
        let mut a = [1.0, 2.0];
        shift(&mut a, 7, ShiftFill::Zero);
        assert_eq!(a, [0.0, 0.0]);
    }
}
