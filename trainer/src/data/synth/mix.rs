//! From four buses to a clip: mixing at drawn levels, slow dynamics, master compression, the
//! recording chain (bandwidth, tilt EQ), the noise floor and hum, and the final peak level.

use std::f32::consts::PI;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::SR;
use super::plan::{Plan, jitter_db, uniform};
use super::voices::{Noise, lp_coef};

/// Root mean square of `x` (0 for an empty slice).
pub(super) fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
}

/// Scales `x` to RMS 1; leaves a silent (RMS <= 1e-9) buffer as it is.
pub(super) fn normalise_rms(x: &mut [f32]) {
    let r = rms(x);
    if r > 1e-9 {
        x.iter_mut().for_each(|v| *v /= r);
    }
}

/// The four buses of a clip, each `n` samples.
pub(super) struct Buses {
    pub(super) drums: Vec<f32>,
    pub(super) bass: Vec<f32>,
    pub(super) harm: Vec<f32>,
    pub(super) lead: Vec<f32>,
}

/// The mix: each bus normalised to RMS 1, then summed at drawn levels (+-7 dB around the
/// style's drum level, a louder bass for hip-hop and reggae, the lead a little below).
pub(super) fn mix_buses(plan: &Plan, buses: Buses, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    let Buses {
        mut drums,
        mut bass,
        mut harm,
        lead: mut lead_bus,
    } = buses;
    normalise_rms(&mut drums);
    normalise_rms(&mut bass);
    normalise_rms(&mut harm);
    normalise_rms(&mut lead_bus);
    let genre = plan.genre;
    let g_drums = plan.style.drum_level * jitter_db(rng, 7.0);
    let g_bass = jitter_db(rng, 7.0) * if genre == 8 || genre == 4 { 1.2 } else { 0.7 };
    let g_harm = jitter_db(rng, 7.0);
    let g_lead = 0.7 * jitter_db(rng, 7.0);
    (0..plan.n)
        .map(|i| g_drums * drums[i] + g_bass * bass[i] + g_harm * harm[i] + g_lead * lead_bus[i])
        .collect()
}

/// Slow dynamics: a gain swell of drawn period (6-20 s) and phase, dipping by up to `depth`
/// (classical swells, small elsewhere). Depth 0 leaves the mix as it is and draws nothing.
pub(super) fn dynamics(mix: &mut [f32], depth: f32, rng: &mut Xoshiro256PlusPlus) {
    if depth > 0.0 {
        let period = rng.random_range(6.0..20.0);
        let phase = rng.random_range(0.0..(2.0 * PI));
        for (i, v) in mix.iter_mut().enumerate() {
            let t = i as f32 / SR;
            let e = 1.0 - depth * (0.5 + 0.5 * (2.0 * PI * t / period + phase).sin());
            *v *= e;
        }
    }
}

/// Master compression: the mix normalised to RMS 1, then, with a drive drawn from `drive` above
/// 1.05, soft-clipped (`tanh(0.4 * drive * x)`).
pub(super) fn compress(mix: &mut [f32], drive: (f32, f32), rng: &mut Xoshiro256PlusPlus) {
    let drive = uniform(rng, drive);
    normalise_rms(mix);
    if drive > 1.05 {
        for v in mix.iter_mut() {
            *v = (*v * drive * 0.4).tanh();
        }
    }
}

/// The recording chain: a low-pass at a bandwidth drawn from `bandwidth`, then a mastering tilt
/// EQ (low and high bands +-6 dB around a drawn 250-3000 Hz crossover: recordings differ), then
/// normalisation to RMS 1.
pub(super) fn record(mix: &mut [f32], bandwidth: (f32, f32), rng: &mut Xoshiro256PlusPlus) {
    let a = lp_coef(uniform(rng, bandwidth));
    let mut y = 0.0;
    for v in mix.iter_mut() {
        y += a * (*v - y);
        *v = y;
    }
    let xover = lp_coef(rng.random_range(250.0..3000.0));
    let low_gain = jitter_db(rng, 6.0);
    let high_gain = jitter_db(rng, 6.0);
    let mut lo = 0.0;
    for v in mix.iter_mut() {
        lo += xover * (*v - lo);
        *v = low_gain * lo + high_gain * (*v - lo);
    }
    normalise_rms(mix);
}

/// The noise floor: white plus pink-ish noise at a level drawn from `level` (+-6 dB), and in
/// one clip in five a mains hum (50 or 60 Hz) at twice that level.
pub(super) fn noise_floor(
    mix: &mut [f32],
    level: (f32, f32),
    rng: &mut Xoshiro256PlusPlus,
    noise: &mut Noise,
) {
    let noise_level = uniform(rng, level) * jitter_db(rng, 6.0) * 4.0;
    let hum = if rng.random_bool(0.2) {
        noise_level * 2.0
    } else {
        0.0
    };
    let hum_f = if rng.random_bool(0.5) { 50.0 } else { 60.0 };
    let mut pink = 0.0f32;
    for (i, v) in mix.iter_mut().enumerate() {
        pink = 0.97 * pink + 0.03 * noise.next();
        let w = 0.5 * noise.next() + 3.0 * pink;
        *v += noise_level * w + hum * (2.0 * PI * hum_f * i as f32 / SR).sin();
    }
}

/// The final level: the mix scaled so its peak is a level drawn from `level`.
pub(super) fn set_peak(mix: &mut [f32], level: (f32, f32), rng: &mut Xoshiro256PlusPlus) {
    let peak = mix.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-9);
    let level = uniform(rng, level);
    mix.iter_mut().for_each(|v| *v *= level / peak);
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    #[test]
    fn rms_normalisation_hits_rms_one_and_leaves_silence_alone() {
        assert_eq!(rms(&[]), 0.0);
        // rms([3, 4]) = sqrt((9 + 16) / 2) = sqrt(12.5)
        assert!((rms(&[3.0, 4.0]) - 12.5f32.sqrt()).abs() < 1e-6);
        let mut x = vec![3.0, 4.0, -2.0, 0.5];
        normalise_rms(&mut x);
        assert!((rms(&x) - 1.0).abs() < 1e-6);
        // 3 / sqrt((9 + 16 + 4 + 0.25) / 4) = 3 / sqrt(7.3125)
        assert!((x[0] - 3.0 / 7.3125f32.sqrt()).abs() < 1e-6);
        let mut silent = vec![0.0f32; 100];
        normalise_rms(&mut silent);
        assert!(silent.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn set_peak_scales_to_the_drawn_level() {
        let mut x = vec![0.1, -0.4, 0.2];
        set_peak(&mut x, (0.5, 0.5), &mut rng(1));
        // peak 0.4 -> 0.5: every sample times 1.25
        assert_eq!(x, vec![0.125, -0.5, 0.25]);
        let mut x = vec![0.0, 2.0, -1.0];
        let (lo, hi) = (0.6, 0.9);
        set_peak(&mut x, (lo, hi), &mut rng(2));
        assert!(x[1] >= lo && x[1] < hi);
        assert!((x[2] + x[1] / 2.0).abs() < 1e-6);
    }

    #[test]
    fn no_dynamics_draws_nothing_and_changes_nothing() {
        let (mut a, b) = (rng(5), rng(5));
        let mut x = vec![0.5f32; 1000];
        dynamics(&mut x, 0.0, &mut a);
        assert!(x.iter().all(|&v| v == 0.5));
        assert_eq!(a, b);
        // with depth 0.7 the gain stays within [1 - 0.7, 1]
        dynamics(&mut x, 0.7, &mut a);
        assert!(x.iter().all(|&v| (0.15 - 1e-6..=0.5 + 1e-6).contains(&v)));
    }

    #[test]
    fn compression_normalises_and_soft_clips() {
        let mut x: Vec<f32> = (0..1000).map(|i| ((i % 7) as f32 - 3.0) * 10.0).collect();
        let mut y = x.clone();
        // a clean drive (1.0): only the RMS normalisation
        compress(&mut x, (1.0, 1.0), &mut rng(1));
        assert!((rms(&x) - 1.0).abs() < 1e-5);
        // drive 4: tanh(1.6 x), so every sample stays strictly inside (-1, 1)
        compress(&mut y, (4.0, 4.0), &mut rng(1));
        assert!(y.iter().all(|v| v.abs() < 1.0));
        assert!((y[0] - (x[0] * 1.6).tanh()).abs() < 1e-6);
    }

    #[test]
    fn the_recording_chain_ends_at_rms_one() {
        let mut noise = Noise::new(&mut rng(3));
        let mut x: Vec<f32> = (0..22050).map(|_| noise.next()).collect();
        record(&mut x, (4000.0, 9000.0), &mut rng(4));
        assert!((rms(&x) - 1.0).abs() < 1e-4);
        assert!(x.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn the_noise_floor_is_bounded_by_its_level_and_silent_at_level_zero() {
        let mut x = vec![0.0f32; 22050];
        noise_floor(
            &mut x,
            (0.0, 0.0),
            &mut rng(6),
            &mut Noise::new(&mut rng(7)),
        );
        assert!(x.iter().all(|&v| v == 0.0));
        // level 0.01, +-6 dB, x 4: at most 0.08; noise 0.5 |white| + 3 |pink| <= 3.5; hum at
        // most twice the level: |v| <= 0.08 * 3.5 + 0.16 = 0.44
        noise_floor(
            &mut x,
            (0.01, 0.01),
            &mut rng(6),
            &mut Noise::new(&mut rng(7)),
        );
        assert!(x.iter().all(|v| v.abs() <= 0.44));
        assert!(rms(&x) > 0.0);
    }
}
