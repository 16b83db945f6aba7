//! mixup (Zhang et al. 2018) within a batch.
//!
//! One `lambda ~ Beta(alpha, alpha)` per batch (as in the authors' code) and a
//! uniformly random permutation `p` of the batch:
//! `x~_i = lambda * x_i + (1 - lambda) * x_p(i)` and
//! `y~_i = lambda * y_i + (1 - lambda) * y_p(i)` on one-hot (or already
//! soft) targets, so every target row still sums to 1. It runs last, on the
//! normalised log-mel batch, and works on plain slices:
//! `inputs: [batch, features]`, `targets: [batch, classes]`.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Beta, Distribution};

/// `mixup:alpha=A` (default 0.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mixup {
    /// The Beta distribution's parameter, `> 0`.
    pub alpha: f32,
}

impl Default for Mixup {
    fn default() -> Self {
        Mixup { alpha: 0.2 }
    }
}

/// What one call drew.
#[derive(Debug, Clone, PartialEq)]
pub struct MixupDraw {
    /// The mixing weight of each row's own example.
    pub lambda: f32,
    /// Row `i` was mixed with the original row `perm[i]`.
    pub perm: Vec<usize>,
}

impl Mixup {
    /// Mixes the batch in place.
    ///
    /// # Panics
    /// If `alpha <= 0`, or the slices are not `[batch, _]`.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        inputs: &mut [f32],
        targets: &mut [f32],
        batch: usize,
        rng: &mut R,
    ) -> MixupDraw {
        assert!(batch > 0, "mixup: empty batch");
        assert_eq!(
            inputs.len() % batch,
            0,
            "mixup: inputs are not [batch, features]"
        );
        assert_eq!(
            targets.len() % batch,
            0,
            "mixup: targets are not [batch, classes]"
        );
        let beta = Beta::new(self.alpha, self.alpha).expect("mixup: alpha must be > 0");
        let lambda: f32 = beta.sample(rng);
        let mut perm: Vec<usize> = (0..batch).collect();
        perm.shuffle(rng);
        mix_rows(inputs, batch, lambda, &perm);
        mix_rows(targets, batch, lambda, &perm);
        MixupDraw { lambda, perm }
    }
}

/// `rows[i] = lambda * old[i] + (1 - lambda) * old[perm[i]]`.
fn mix_rows(data: &mut [f32], batch: usize, lambda: f32, perm: &[usize]) {
    let width = data.len() / batch;
    let old = data.to_vec();
    for (i, row) in data.chunks_exact_mut(width.max(1)).enumerate().take(batch) {
        let a = &old[i * width..(i + 1) * width];
        let b = &old[perm[i] * width..(perm[i] + 1) * width];
        for ((r, &x), &y) in row.iter_mut().zip(a).zip(b) {
            *r = lambda * x + (1.0 - lambda) * y;
        }
    }
}
