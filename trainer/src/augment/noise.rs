//! Additive Gaussian noise: `x(t) + sigma * n(t)`, `n ~ N(0, 1)` i.i.d.
//!
//! `sigma` is either fixed (the study: 0.001) or drawn once per clip,
//! uniformly from `[min, max]` (Wei et al.: `[0.001, 0.015]`).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// How the noise level is chosen for each clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseLevel {
    /// The same `sigma` for every clip (`noise:sigma=0.001`).
    Fixed(f32),
    /// `sigma ~ U[min, max]`, drawn per clip (`noise:min=0.001,max=0.015`).
    Uniform {
        /// Lower bound (inclusive).
        min: f32,
        /// Upper bound (inclusive).
        max: f32,
    },
}

impl NoiseLevel {
    /// The study's default: a fixed sigma of 0.001.
    pub const DEFAULT: NoiseLevel = NoiseLevel::Fixed(0.001);

    /// Draws the noise standard deviation for one clip.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f32 {
        match *self {
            NoiseLevel::Fixed(s) => s,
            NoiseLevel::Uniform { min, max } if max > min => rng.random_range(min..=max),
            NoiseLevel::Uniform { min, .. } => min,
        }
    }
}

/// Adds `sigma * n`, `n ~ N(0, 1)`, to every sample.
pub fn add_noise<R: Rng + ?Sized>(samples: &mut [f32], sigma: f32, rng: &mut R) {
    if sigma == 0.0 {
        return;
    }
    for s in samples.iter_mut() {
        let n: f32 = StandardNormal.sample(rng);
        *s += sigma * n;
    }
}
