//! One clip: the plan drawn from the clip's RNG (tempo, key, progression, instruments, timing
//! grid), then the steps that render it, in a fixed order: drums, bass, harmony, lead, mix,
//! dynamics, compression, recording chain, noise floor, level.
//!
//! Every step draws from the same RNG (and the same noise source), so the order of the steps
//! and of the draws inside each one is part of the output: changing it changes every clip
//! (bump [`GENERATOR_VERSION`](super::GENERATOR_VERSION) when that is intended).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::plan::Plan;
use super::voices::Noise;
use super::{harmony, mix, rhythm};

/// Renders one clip of `genre` (0..9), `seconds` long, from `seed`.
pub fn render_clip(genre: usize, seconds: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut noise = Noise::new(&mut rng);
    let plan = Plan::draw(genre, seconds, &mut rng);
    let drums = rhythm::drums(&plan, &mut rng, &mut noise);
    let bass = rhythm::bass(&plan, &mut rng);
    let mut harm = harmony::chords(&plan, &mut rng, &mut noise);
    harmony::distort(&mut harm, plan.style.dist, &mut rng);
    let lead = harmony::lead(&plan, &mut rng, &mut noise);
    let buses = mix::Buses {
        drums,
        bass,
        harm,
        lead,
    };
    let mut out = mix::mix_buses(&plan, buses, &mut rng);
    mix::dynamics(&mut out, plan.style.dynamics, &mut rng);
    mix::compress(&mut out, plan.style.drive, &mut rng);
    mix::record(&mut out, plan.style.bandwidth, &mut rng);
    mix::noise_floor(&mut out, plan.style.noise, &mut rng, &mut noise);
    mix::set_peak(&mut out, plan.style.level, &mut rng);
    out
}

#[cfg(test)]
mod tests {
    use super::super::styles::style;
    use super::*;
    use crate::base::dataset::GTZAN_GENRES;

    #[test]
    fn every_genre_gives_the_requested_length_finite_and_at_its_drawn_level() {
        for (g, name) in GTZAN_GENRES.iter().enumerate() {
            let x = render_clip(g, 1.5, 11 + g as u64);
            assert_eq!(x.len(), 33075, "{name}"); // 1.5 s x 22050 Hz
            assert!(x.iter().all(|v| v.is_finite()), "{name}");
            // The last step scales the peak to a level drawn from the style's range.
            let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let (lo, hi) = style(g).level;
            assert!(
                peak >= lo - 1e-5 && peak <= hi + 1e-5,
                "{name}: peak {peak} outside {lo}..{hi}"
            );
            assert!(peak <= 1.0, "{name}");
        }
    }

    #[test]
    fn a_clip_depends_on_its_seed_only() {
        for g in [0, 5, 9] {
            assert_eq!(render_clip(g, 0.7, 42), render_clip(g, 0.7, 42));
            assert_ne!(render_clip(g, 0.7, 42), render_clip(g, 0.7, 43));
        }
        // 0.7 s: (0.7 * 22050) as usize
        assert_eq!(render_clip(3, 0.7, 1).len(), 15435);
    }
}
