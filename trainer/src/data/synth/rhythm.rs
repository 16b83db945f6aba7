//! The rhythm section: the drum bus (kick, snare, hats or ride, crashes, from the style's
//! per-step probabilities) and the bass bus (the clip's bass pattern over the progression).

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::plan::{Plan, jitter_db, uniform};
use super::styles::Bass;
use super::voices::{Noise, Voice, add_cymbal, add_kick, add_noise_hit, add_note};

/// A clip's drum kit: timbres and levels, drawn once per clip.
struct Kit {
    /// Kick (start Hz, end Hz, decay s).
    kick: (f32, f32, f32),
    hat_decay: f32,
    hat_lp: f32,
    snare_lp: f32,
    /// Ride cymbal base frequency (a crash is 1.3 times higher).
    ride_base: f32,
    kick_gain: f32,
    snare_gain: f32,
    hat_gain: f32,
    /// Kick on 16ths (else on 8ths only: half the metal clips).
    double: bool,
}

impl Kit {
    /// Draws the kit of a clip around its style's timbres.
    fn draw(plan: &Plan, rng: &mut Xoshiro256PlusPlus) -> Kit {
        let st = &plan.style;
        let kick = (
            st.kick_tone.0 * jitter_db(rng, 2.0),
            st.kick_tone.1 * jitter_db(rng, 2.0),
            st.kick_tone.2 * jitter_db(rng, 3.0),
        );
        let hat_decay = uniform(rng, st.hat_decay);
        let hat_lp = rng.random_range(6000.0..10500.0);
        let snare_lp = st.snare_tone.2 * jitter_db(rng, 3.0);
        let ride_base = rng.random_range(300.0..480.0);
        let kick_gain = jitter_db(rng, 4.0);
        let snare_gain = jitter_db(rng, 4.0);
        let hat_gain = jitter_db(rng, 6.0);
        // Half the metal clips play straight eighths on the kick instead of 16ths.
        let double = plan.genre != 6 || rng.random_bool(0.6);
        Kit {
            kick,
            hat_decay,
            hat_lp,
            snare_lp,
            ride_base,
            kick_gain,
            snare_gain,
            hat_gain,
            double,
        }
    }
}

/// The drum bus: for every bar, a possible crash, then for each of the 16 steps a kick, snare
/// and hat (or ride) hit with the style's probabilities. Silent, and drawing nothing, for a
/// style without drums (`drum_level` 0).
pub(super) fn drums(plan: &Plan, rng: &mut Xoshiro256PlusPlus, noise: &mut Noise) -> Vec<f32> {
    let mut buf = vec![0.0f32; plan.n];
    if plan.style.drum_level > 0.0 {
        let kit = Kit::draw(plan, rng);
        for b in 0..plan.n_bars {
            drum_bar(&mut buf, plan, &kit, b, rng, noise);
        }
    }
    buf
}

/// One bar of drums into `buf`.
fn drum_bar(
    buf: &mut [f32],
    plan: &Plan,
    kit: &Kit,
    b: usize,
    rng: &mut Xoshiro256PlusPlus,
    noise: &mut Noise,
) {
    let st = &plan.style;
    if st.crash > 0.0 && rng.random_bool(f64::from(st.crash)) {
        let t = plan.grid.time(b, 0, rng);
        add_cymbal(buf, t, 0.5 * kit.hat_gain, 0.9, kit.ride_base * 1.3, noise);
    }
    for k in 0..16 {
        let vel = rng.random_range(0.75..1.0);
        if (kit.double || k % 2 == 0) && rng.random::<f32>() < st.kick[k] {
            let t = plan.grid.time(b, k, rng);
            let (f_hi, f_lo, decay) = kit.kick;
            add_kick(buf, t, 1.0 * vel * kit.kick_gain, f_hi, f_lo, decay);
        }
        if rng.random::<f32>() < st.snare[k] {
            let t = plan.grid.time(b, k, rng);
            let (decay, body, _) = st.snare_tone;
            let amp = if body == 0.0 { 0.25 } else { 0.6 };
            let amp = amp * vel * kit.snare_gain;
            add_noise_hit(buf, t, amp, decay, 0.6, kit.snare_lp, body, noise);
        }
        if rng.random::<f32>() < st.hat[k] {
            let t = plan.grid.time(b, k, rng);
            if st.ride {
                let amp = 0.35 * vel * kit.hat_gain;
                add_cymbal(buf, t, amp, kit.hat_decay, kit.ride_base, noise);
            } else {
                let amp = 0.22 * vel * kit.hat_gain;
                add_noise_hit(buf, t, amp, kit.hat_decay, 1.0, kit.hat_lp, 0.0, noise);
            }
        }
    }
}

/// The bass bus: the clip's bass pattern, bar by bar, on the root of each bar's chord
/// (E1..D#2 for the key), with the style's waveform and a drawn cutoff.
pub(super) fn bass(plan: &Plan, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    let st = &plan.style;
    let mut bass = vec![0.0f32; plan.n];
    let bass_root = 28.0 + plan.key; // E1 .. D#2
    let bass_voice = Voice {
        wave: st.bass_wave,
        attack: 0.005,
        decay: if plan.bass == Bass::Sub808 { 0.5 } else { 0.25 },
        sustain: if plan.bass == Bass::Sustained {
            0.8
        } else {
            0.3
        },
        release: 0.04,
        cutoff: uniform(rng, st.bass_cutoff),
        detune: 0.0,
        vibrato: (0.0, 0.0),
    };
    let step = plan.grid.step;
    for b in 0..plan.n_bars {
        let c = plan.chord_at(b);
        let r = bass_root + c.root as f32;
        let third = c.tones.get(1).copied().unwrap_or(7) as f32;
        let fifth = 7.0;
        // A note at step `k`, `len_steps` long, of pitch `p`, at a drawn velocity.
        let mut note = |k: usize, len_steps: f32, p: f32, rng: &mut Xoshiro256PlusPlus| {
            let t = plan.grid.time(b, k, rng);
            let amp = rng.random_range(0.8..1.0);
            add_note(&mut bass, t, len_steps * step, p, amp, &bass_voice);
        };
        match plan.bass {
            Bass::None => {}
            Bass::Eighths => {
                for k in (0..16).step_by(2) {
                    note(k, 1.8, r, rng);
                }
            }
            Bass::RootFifth => {
                for (i, k) in [0, 4, 8, 12].into_iter().enumerate() {
                    let p = if i % 2 == 0 { r } else { r + fifth - 12.0 };
                    note(k, 2.5, p, rng);
                }
            }
            Bass::Walking => {
                let walk = [
                    0.0,
                    third,
                    fifth,
                    if rng.random_bool(0.5) { 9.0 } else { 11.0 },
                ];
                for (i, k) in [0, 4, 8, 12].into_iter().enumerate() {
                    note(k, 3.6, r + walk[i], rng);
                }
            }
            Bass::Boogie => {
                for (i, k) in [0, 2, 4, 6, 8, 10, 12, 14].into_iter().enumerate() {
                    let off = [0.0, 0.0, 4.0, 4.0, 7.0, 7.0, 9.0, 10.0][i];
                    note(k, 1.8, r + off, rng);
                }
            }
            Bass::Octave => {
                for (i, k) in (0..16).step_by(2).enumerate() {
                    note(k, 1.5, r + if i % 2 == 1 { 12.0 } else { 0.0 }, rng);
                }
            }
            Bass::Sub808 => {
                for k in [0, 6, 10] {
                    note(k, 5.0, r, rng);
                }
            }
            Bass::OneDrop => {
                for (k, off) in [(0, 0.0), (3, 0.0), (6, 7.0), (10, 3.0), (11, 0.0)] {
                    if rng.random_bool(0.85) {
                        note(k, 2.0, r + off, rng);
                    }
                }
            }
            Bass::Sustained => note(0, 16.0, r + 12.0, rng),
        }
    }
    bass
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    fn plan(genre: usize, seconds: f32, seed: u64) -> Plan {
        Plan::draw(genre, seconds, &mut rng(seed))
    }

    #[test]
    fn a_style_without_drums_gives_silence_and_draws_nothing() {
        let p = plan(1, 2.0, 5); // classical: drum_level 0
        let (mut r, fresh) = (rng(77), rng(77));
        let mut noise = Noise::new(&mut rng(1));
        let d = drums(&p, &mut r, &mut noise);
        assert_eq!(d.len(), p.n);
        assert!(d.iter().all(|&v| v == 0.0));
        assert_eq!(r, fresh);
    }

    #[test]
    fn drums_sound_for_a_drummed_style() {
        for g in [0, 3, 5, 6, 9] {
            let p = plan(g, 2.0, 5);
            let mut noise = Noise::new(&mut rng(1));
            let d = drums(&p, &mut rng(8), &mut noise);
            assert_eq!(d.len(), p.n);
            assert!(d.iter().all(|v| v.is_finite()));
            let energy: f32 = d.iter().map(|v| v * v).sum();
            assert!(energy > 1.0, "genre {g}: energy {energy}");
        }
    }

    #[test]
    fn no_bass_pattern_gives_silence_and_the_others_sound() {
        let mut p = plan(9, 2.0, 5);
        p.bass = Bass::None;
        assert!(bass(&p, &mut rng(4)).iter().all(|&v| v == 0.0));
        for pattern in [
            Bass::Eighths,
            Bass::RootFifth,
            Bass::Walking,
            Bass::Octave,
            Bass::Sub808,
            Bass::OneDrop,
            Bass::Sustained,
            Bass::Boogie,
        ] {
            p.bass = pattern;
            let x = bass(&p, &mut rng(4));
            assert_eq!(x.len(), p.n);
            let energy: f32 = x.iter().map(|v| v * v).sum();
            assert!(energy > 1.0 && energy.is_finite());
        }
    }
}
