//! Post-processing of the executor's dense outputs: softmax, the smoothed posterior and the
//! decision (`Post`), the executor observer that feeds it (`Sink`), and `argmax`.

use super::{Decision, Hop, MAX_SMOOTHING};
use crate::executor::{Act, Observer};
use crate::format::MAX_CLASSES;
use crate::quant::QParams;

/// Index of the largest value (the first on ties; 0 for an empty slice).
pub fn argmax<T: PartialOrd>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if v.get(best).is_some_and(|b| x > b) {
            best = i;
        }
    }
    best
}

/// Numerically stable softmax of `logits` into `out` (same length).
pub fn softmax(logits: &[f32], out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = libm::expf(x - max);
        sum += *o;
    }
    if sum > 0.0 {
        for o in out.iter_mut() {
            *o /= sum;
        }
    }
}

/// Logits to smoothed posterior and decision.
#[derive(Debug, Clone)]
pub(super) struct Post<A> {
    pub(super) n_classes: usize,
    pub(super) logits_q: Option<QParams>,
    pub(super) smoothing: usize,
    pub(super) threshold: f32,
    /// Report every `every`-th dense output.
    pub(super) every: u32,
    /// Dense outputs until the next report (0: this one).
    pub(super) skip: u32,
    /// Samples between consecutive dense outputs' windows.
    pub(super) stride: u64,
    pub(super) history: [[f32; MAX_CLASSES]; MAX_SMOOTHING],
    pub(super) filled: usize,
    pub(super) next: usize,
    pub(super) dense: u64,
    pub(super) hops: u64,
    pub(super) raw: [A; MAX_CLASSES],
    pub(super) posterior: [f32; MAX_CLASSES],
    /// The sum of every reported hop's own (unsmoothed) softmax posterior since the start, in
    /// hop order: the clip's mean posterior is this over `hops`.
    pub(super) track: [f32; MAX_CLASSES],
}

impl<A: Act> Post<A> {
    pub(super) fn reset(&mut self) {
        self.filled = 0;
        self.next = 0;
        self.skip = 0;
        self.dense = 0;
        self.hops = 0;
        self.track = [0.0; MAX_CLASSES];
    }

    /// The mean of every hop's own softmax posterior so far into `out` (`[n_classes]`, or
    /// shorter), and the decision it makes: the genre with the largest mean (the first on
    /// ties; the threshold applies), [`Decision::Undecided`] before the first hop.
    pub(super) fn track(&self, out: &mut [f32]) -> Decision {
        let n = self.n_classes;
        // a u32 count: its conversion is one instruction on the device (u64's is a routine)
        let hops = u32::try_from(self.hops).unwrap_or(u32::MAX);
        if hops == 0 {
            out.fill(0.0);
            return Decision::Undecided;
        }
        let inv = 1.0 / hops as f32;
        for (o, &s) in out.iter_mut().zip(self.track.iter().take(n)) {
            *o = s * inv;
        }
        let sums = self.track.get(..n).unwrap_or(&[]);
        let best = argmax(sums);
        match sums.get(best) {
            Some(&s) if s * inv >= self.threshold => Decision::Genre(best),
            _ => Decision::Undecided,
        }
    }

    /// One dense output: reports it as a hop if it is one.
    fn dense(&mut self, logits: &[A], on_hop: &mut impl FnMut(&Hop<'_, A>)) {
        let d = self.dense;
        self.dense += 1;
        // a countdown, not `d % every`: no 64-bit division on a 32-bit core
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        self.skip = self.every - 1;
        let n = self.n_classes;
        let mut real = [0.0f32; MAX_CLASSES];
        for ((r, raw), &l) in real.iter_mut().zip(self.raw.iter_mut()).zip(logits) {
            // never a NaN posterior: an f32 model's logits are finite for finite input, and a
            // non-finite one (overflow) is clamped before the softmax
            let v = l.to_real(self.logits_q);
            *r = if v.is_nan() {
                0.0
            } else {
                v.clamp(-1e30, 1e30)
            };
            *raw = l;
        }
        if let (Some(slot), Some(real)) = (self.history.get_mut(self.next), real.get(..n)) {
            softmax(real, slot.get_mut(..n).unwrap_or(&mut []));
            for (t, &p) in self.track.iter_mut().zip(slot.iter().take(n)) {
                *t += p;
            }
        }
        self.next = (self.next + 1) % self.smoothing;
        self.filled = (self.filled + 1).min(self.smoothing);
        // the mean over the history, oldest first (a fixed order: the same bits everywhere)
        let oldest = (self.next + self.smoothing - self.filled) % self.smoothing;
        let post = self.posterior.get_mut(..n).unwrap_or(&mut []);
        post.fill(0.0);
        for k in 0..self.filled {
            let Some(h) = self.history.get((oldest + k) % self.smoothing) else {
                continue;
            };
            for (p, &v) in post.iter_mut().zip(h) {
                *p += v;
            }
        }
        let inv = 1.0 / self.filled as f32;
        for p in post.iter_mut() {
            *p *= inv;
        }
        let best = argmax(post);
        let decision = match post.get(best) {
            Some(&p) if p >= self.threshold => Decision::Genre(best),
            _ => Decision::Undecided,
        };
        let hop = Hop {
            index: self.hops,
            start_sample: d * self.stride,
            logits: self.raw.get(..n).unwrap_or(&[]),
            posterior: self.posterior.get(..n).unwrap_or(&[]),
            decision,
        };
        on_hop(&hop);
        self.hops += 1;
    }
}

/// Receives the executor's dense outputs.
pub(super) struct Sink<'p, 'f, A, F> {
    pub(super) post: &'p mut Post<A>,
    pub(super) on_hop: &'f mut F,
}

impl<A: Act, F: FnMut(&Hop<'_, A>)> Observer<A> for Sink<'_, '_, A, F> {
    fn logits(&mut self, logits: &[A]) {
        self.post.dense(logits, self.on_hop);
    }
}
