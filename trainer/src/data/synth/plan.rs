//! What a clip is, drawn before anything is rendered (its style, tempo and timing grid, key,
//! progression, scale and instruments), and the random helpers every rendering step draws with.
//! Below the steps that render (`rhythm`, `harmony`, `mix`, `render`), above the genre tables
//! (`styles`, `theory`).

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::SR;
use super::styles::{Bass, Harmony, Lead, Style, style};
use super::theory::{Chord, progression, scale_for};

/// What a clip is, drawn before anything is rendered: its genre's style, tempo and timing,
/// key, chord progression, melody scale and instruments.
pub(super) struct Plan {
    /// Genre index (0..9, GTZAN order).
    pub(super) genre: usize,
    /// The genre's parameter ranges.
    pub(super) style: Style,
    /// Length in samples.
    pub(super) n: usize,
    /// Where the 16th steps fall.
    pub(super) grid: Grid,
    /// Key, in semitones above C (0..11).
    pub(super) key: f32,
    /// One chord per bar, repeated.
    pub(super) prog: Vec<Chord>,
    /// The melody's scale (semitones above the key).
    pub(super) scale: Vec<i32>,
    /// Bass pattern.
    pub(super) bass: Bass,
    /// Chord instrument.
    pub(super) harmony: Harmony,
    /// Lead instrument (`Lead::None` for none).
    pub(super) lead: Lead,
    /// Bars to render: enough to cover the clip after the grid's offset, plus one.
    pub(super) n_bars: usize,
}

impl Plan {
    /// Draws the plan of a `seconds`-long clip of `genre`.
    pub(super) fn draw(genre: usize, seconds: f32, rng: &mut Xoshiro256PlusPlus) -> Plan {
        let style = style(genre);
        let n = (seconds * SR) as usize;
        let tempo = uniform(rng, style.tempo);
        let beat = 60.0 / tempo;
        let step = beat / 4.0;
        let bar = beat * 4.0;
        let swing = uniform(rng, style.swing);
        let key = rng.random_range(0..12) as f32;
        let prog = progression(genre, rng);
        let scale = scale_for(genre, rng);
        let bass = style.basses[rng.random_range(0..style.basses.len())];
        let harmony = style.harmonies[rng.random_range(0..style.harmonies.len())];
        let lead = if rng.random_bool(f64::from(style.lead_prob)) {
            style.leads[rng.random_range(0..style.leads.len())]
        } else {
            Lead::None
        };
        let offset = rng.random_range(0.0..bar);
        let n_bars = ((seconds + offset) / bar).ceil() as usize + 1;
        Plan {
            genre,
            style,
            n,
            grid: Grid {
                step,
                bar,
                swing,
                offset,
            },
            key,
            prog,
            scale,
            bass,
            harmony,
            lead,
            n_bars,
        }
    }

    /// The chord of bar `b`.
    pub(super) fn chord_at(&self, b: usize) -> &Chord {
        &self.prog[b % self.prog.len()]
    }
}

/// The clip's rhythmic grid: 16 steps a bar, swung, shifted so the clip starts mid-bar.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grid {
    /// A 16th note, in seconds.
    pub(super) step: f32,
    /// A bar (16 steps), in seconds.
    pub(super) bar: f32,
    /// Swing: how late off-beat 16ths fall, as a fraction of a step (twice that for 8ths).
    pub(super) swing: f32,
    /// Time of the clip's start within bar 0, in seconds.
    pub(super) offset: f32,
}

impl Grid {
    /// Time of 16th step `k` of bar `b`, with swing on off-beat 8ths and 16ths and a little
    /// human timing jitter (one draw, +-6 ms).
    pub(super) fn time(&self, b: usize, k: usize, rng: &mut Xoshiro256PlusPlus) -> f32 {
        let sw = if k % 4 == 2 {
            self.swing * 2.0 * self.step
        } else if k % 2 == 1 {
            self.swing * self.step
        } else {
            0.0
        };
        b as f32 * self.bar + k as f32 * self.step + sw - self.offset
            + rng.random_range(-0.006..0.006)
    }
}

/// A draw uniform in `[lo, hi)`; `lo` without a draw when the range is empty.
pub(super) fn uniform(rng: &mut Xoshiro256PlusPlus, (lo, hi): (f32, f32)) -> f32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..hi)
    }
}

/// Random gain in dB (uniform in +-`db`) as a factor.
pub(super) fn jitter_db(rng: &mut Xoshiro256PlusPlus, db: f32) -> f32 {
    10f32.powf(rng.random_range(-db..db) / 20.0)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    #[test]
    fn the_grid_places_steps_with_swing_and_at_most_6_ms_of_jitter() {
        let grid = Grid {
            step: 0.125,
            bar: 2.0,
            swing: 0.2,
            offset: 0.5,
        };
        let mut r = rng(3);
        for _ in 0..200 {
            // bar 1, step 0: 1 * 2.0 + 0 - 0.5 = 1.5 s, no swing on the beat
            assert!((grid.time(1, 0, &mut r) - 1.5).abs() <= 0.006);
            // step 1 (an off-beat 16th): 1.5 + 0.125 + 0.2 * 0.125 = 1.65
            assert!((grid.time(1, 1, &mut r) - 1.65).abs() <= 0.006 + 1e-6);
            // step 2 (an off-beat 8th, swung twice as much): 1.5 + 0.25 + 0.05 = 1.8
            assert!((grid.time(1, 2, &mut r) - 1.8).abs() <= 0.006 + 1e-6);
        }
    }

    #[test]
    fn the_plan_covers_the_clip() {
        for g in 0..10 {
            let p = Plan::draw(g, 3.0, &mut rng(g as u64));
            assert_eq!(p.n, 66150);
            assert!((0.0..12.0).contains(&p.key) && p.key.fract() == 0.0);
            let (lo, hi) = p.style.tempo;
            let tempo = 60.0 / (4.0 * p.grid.step);
            assert!(tempo >= lo - 1e-3 && tempo <= hi + 1e-3, "tempo {tempo}");
            assert!((0.0..p.grid.bar).contains(&p.grid.offset));
            // the bars rendered reach past the clip's end
            assert!(p.n_bars as f32 * p.grid.bar - p.grid.offset >= 3.0);
            assert!(p.style.basses.contains(&p.bass));
            assert!(p.style.harmonies.contains(&p.harmony));
            assert!(p.lead == Lead::None || p.style.leads.contains(&p.lead));
        }
    }

    #[test]
    fn uniform_draws_nothing_from_an_empty_range() {
        let (mut a, b) = (rng(9), rng(9));
        assert_eq!(uniform(&mut a, (0.3, 0.3)), 0.3);
        assert_eq!(uniform(&mut a, (0.5, 0.2)), 0.5);
        assert_eq!(a, b, "an empty range must not advance the RNG");
        let x = uniform(&mut a, (2.0, 3.0));
        assert!((2.0..3.0).contains(&x));
        assert_ne!(a, b);
        for _ in 0..1000 {
            let g = jitter_db(&mut a, 6.0);
            // +-6 dB: a factor between 10^(-6/20) = 0.501 and 10^(6/20) = 1.995
            assert!((0.501..=1.996).contains(&g), "{g}");
        }
    }
}
