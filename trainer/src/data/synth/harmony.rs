//! The pitched upper parts: the chord instrument (strings, pads, piano comping, strummed or
//! shuffled guitar, power chords, reggae skank, stabs) with its optional distortion, and the
//! lead melody (a random walk on the clip's scale).

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::mix::normalise_rms;
use super::plan::{Plan, uniform};
use super::styles::{Harmony, Lead};
use super::voices::{Noise, Voice, Wave, add_note, add_piano, add_pluck, lp_coef};

/// The chord instrument's sounds, drawn once per clip (whichever instrument plays).
struct Sounds {
    /// The synth pad (strings and pads take its envelope and filter).
    pad: Voice,
    /// Brightness of plucked strings.
    pluck_bright: f32,
}

/// The harmony bus: each bar's chord (voiced from C3..B3 for the key) played by the clip's chord
/// instrument.
pub(super) fn chords(plan: &Plan, rng: &mut Xoshiro256PlusPlus, noise: &mut Noise) -> Vec<f32> {
    let mut harm = vec![0.0f32; plan.n];
    let chord_root = 48.0 + plan.key; // C3 .. B3
    let pad = Voice {
        wave: Wave::Saw,
        attack: rng.random_range(0.05..0.5),
        decay: 2.0,
        sustain: 0.8,
        release: 0.3,
        cutoff: rng.random_range(1200.0..4500.0),
        detune: rng.random_range(4.0..14.0),
        vibrato: (0.0, 0.0),
    };
    let pluck_bright = rng.random_range(0.3..0.9);
    let sounds = Sounds { pad, pluck_bright };
    for b in 0..plan.n_bars {
        let c = plan.chord_at(b);
        let notes: Vec<f32> = c
            .tones
            .iter()
            .map(|&t| chord_root + (c.root + t) as f32)
            .collect();
        chord_bar(&mut harm, plan, b, &notes, &sounds, rng, noise);
    }
    harm
}

/// Bar `b` of the chord instrument, playing `notes` (MIDI pitches).
fn chord_bar(
    harm: &mut [f32],
    plan: &Plan,
    b: usize,
    notes: &[f32],
    sounds: &Sounds,
    rng: &mut Xoshiro256PlusPlus,
    noise: &mut Noise,
) {
    let step = plan.grid.step;
    let harmony = plan.harmony;
    match harmony {
        Harmony::Strings | Harmony::Pad => {
            let t = plan.grid.time(b, 0, rng);
            let strings = harmony == Harmony::Strings;
            let v = Voice {
                wave: if strings { Wave::Saw } else { Wave::Square },
                vibrato: if strings { (0.08, 5.5) } else { (0.0, 0.0) },
                ..sounds.pad
            };
            for &p in notes {
                add_note(harm, t, plan.grid.bar, p, 0.3, &v);
            }
        }
        Harmony::Piano => piano_bar(harm, plan, b, notes, rng),
        Harmony::Strum => {
            for k in [0, 4, 6, 8, 12, 14] {
                let t = plan.grid.time(b, k, rng);
                for (j, &p) in notes.iter().enumerate() {
                    let bright = sounds.pluck_bright;
                    add_pluck(
                        harm,
                        t + 0.012 * j as f32,
                        2.0 * step,
                        p,
                        0.3,
                        bright,
                        noise,
                    );
                }
            }
        }
        Harmony::ShufflePluck => {
            for k in [0, 2, 4, 6, 8, 10, 12, 14] {
                let t = plan.grid.time(b, k, rng);
                let six = if k % 4 == 2 { 9.0 } else { 7.0 };
                for p in [notes[0], notes[0] + six] {
                    let bright = sounds.pluck_bright;
                    add_pluck(harm, t, 1.8 * step, p - 12.0, 0.4, bright, noise);
                }
            }
        }
        Harmony::PowerChords => power_chord_bar(harm, plan, b, notes, rng),
        Harmony::Skank => {
            let v = Voice {
                wave: Wave::Square,
                attack: 0.003,
                decay: 0.05,
                sustain: 0.0,
                release: 0.02,
                cutoff: 2500.0,
                detune: 5.0,
                vibrato: (0.0, 0.0),
            };
            for k in [4, 12] {
                let t = plan.grid.time(b, k, rng);
                for &p in notes {
                    add_note(harm, t, 1.2 * step, p + 12.0, 0.4, &v);
                }
            }
        }
        Harmony::Stabs => {
            let v = Voice {
                wave: Wave::Square,
                attack: 0.004,
                decay: 0.12,
                sustain: 0.1,
                release: 0.05,
                cutoff: rng.random_range(1500.0..5000.0),
                detune: 7.0,
                vibrato: (0.0, 0.0),
            };
            for k in [2, 6, 10, 14] {
                if rng.random_bool(0.8) {
                    let t = plan.grid.time(b, k, rng);
                    for &p in notes {
                        add_note(harm, t, 1.5 * step, p + 12.0, 0.3, &v);
                    }
                }
            }
        }
    }
}

/// Piano comping: arpeggios in 8ths for classical; elsewhere chords on random steps (always
/// likely on the downbeat, denser for jazz).
fn piano_bar(harm: &mut [f32], plan: &Plan, b: usize, notes: &[f32], rng: &mut Xoshiro256PlusPlus) {
    let step = plan.grid.step;
    if plan.genre == 1 {
        for (i, k) in (0..16).step_by(2).enumerate() {
            let p = notes[i % notes.len()] + if i >= notes.len() { 12.0 } else { 0.0 };
            let t = plan.grid.time(b, k, rng);
            add_piano(harm, t, 2.0 * step, p, 0.5, 0.5);
        }
    } else {
        for k in 0..16 {
            let p = if k == 0 {
                0.8
            } else if plan.genre == 5 {
                0.18
            } else {
                0.12
            };
            if rng.random::<f32>() < p {
                let t = plan.grid.time(b, k, rng);
                for &q in notes {
                    add_piano(harm, t, 3.0 * step, q, 0.3, 0.6);
                }
            }
        }
    }
}

/// Power chords an octave down: chugs on 8ths, or for metal on 16ths with random rests and riff
/// roots drawn from the scale on each beat.
fn power_chord_bar(
    harm: &mut [f32],
    plan: &Plan,
    b: usize,
    notes: &[f32],
    rng: &mut Xoshiro256PlusPlus,
) {
    let v = Voice {
        wave: Wave::Saw,
        attack: 0.003,
        decay: 0.3,
        sustain: 0.6,
        release: 0.02,
        cutoff: 3500.0,
        detune: 8.0,
        vibrato: (0.0, 0.0),
    };
    let metal = plan.genre == 6;
    let stride = if metal { 1 } else { 2 };
    let scale = &plan.scale;
    for k in (0..16).step_by(stride) {
        if metal && rng.random_bool(0.25) {
            continue;
        }
        let riff = if metal && k % 4 == 0 {
            scale[rng.random_range(0..scale.len())] as f32
        } else {
            0.0
        };
        let t = plan.grid.time(b, k, rng);
        let d = 0.9 * stride as f32 * plan.grid.step;
        for &p in notes {
            add_note(harm, t, d, p - 12.0 + riff, 0.35, &v);
        }
    }
}

/// Amp distortion of a bus: with a gain drawn from `dist` above 1.05, the bus is normalised to
/// RMS 1, soft-clipped (`tanh`, scaled so full drive peaks near 1) and low-passed by a drawn
/// speaker cabinet (3-6 kHz). A clean gain leaves the bus as it is.
pub(super) fn distort(buf: &mut [f32], dist: (f32, f32), rng: &mut Xoshiro256PlusPlus) {
    let gain = uniform(rng, dist);
    if gain > 1.05 {
        normalise_rms(buf);
        let norm = gain.tanh();
        let cab = lp_coef(rng.random_range(3000.0..6000.0));
        let mut y = 0.0;
        for v in buf.iter_mut() {
            y += cab * ((gain * *v * 0.5).tanh() / norm - y);
            *v = y;
        }
    }
}

/// How a lead instrument sounds.
#[derive(Clone, Copy)]
enum LeadSound {
    /// A synth voice.
    Synth(Voice),
    /// A plucked string.
    Pluck,
    /// A piano, an octave up.
    Piano,
}

/// The sound of lead instrument `lead`.
fn lead_sound(lead: Lead) -> LeadSound {
    let synth = |wave, attack, decay, sustain, release, cutoff, detune, vibrato| {
        LeadSound::Synth(Voice {
            wave,
            attack,
            decay,
            sustain,
            release,
            cutoff,
            detune,
            vibrato,
        })
    };
    match lead {
        Lead::Violin => synth(Wave::Saw, 0.08, 1.0, 0.8, 0.1, 3500.0, 0.0, (0.25, 5.5)),
        Lead::Fiddle => synth(Wave::Saw, 0.02, 1.0, 0.8, 0.1, 3500.0, 0.0, (0.25, 5.5)),
        Lead::Sax => synth(Wave::Saw, 0.03, 0.8, 0.7, 0.06, 1800.0, 6.0, (0.15, 4.5)),
        Lead::Vocal => synth(
            Wave::Triangle,
            0.04,
            1.0,
            0.8,
            0.08,
            2500.0,
            3.0,
            (0.3, 5.0),
        ),
        Lead::Organ => synth(Wave::Square, 0.01, 2.0, 0.9, 0.03, 2200.0, 4.0, (0.05, 6.0)),
        Lead::Distorted => synth(
            Wave::Square,
            0.005,
            1.0,
            0.8,
            0.05,
            4500.0,
            10.0,
            (0.3, 6.0),
        ),
        Lead::GuitarLick => LeadSound::Pluck,
        Lead::PianoMelody | Lead::None => LeadSound::Piano,
    }
}

/// The lead bus: a melody (a random walk on the scale from around C4 for the key, note lengths
/// from the genre's feel, phrases with rests) on the clip's lead instrument; the distorted
/// guitar lead is then normalised and soft-clipped. Silent, and drawing nothing, without a lead.
pub(super) fn lead(plan: &Plan, rng: &mut Xoshiro256PlusPlus, noise: &mut Noise) -> Vec<f32> {
    let mut buf = vec![0.0f32; plan.n];
    if plan.lead == Lead::None {
        return buf;
    }
    melody(&mut buf, plan, lead_sound(plan.lead), rng, noise);
    if plan.lead == Lead::Distorted {
        normalise_rms(&mut buf);
        for v in buf.iter_mut() {
            *v = (3.0 * *v).tanh();
        }
    }
    buf
}

/// The melody of [`lead`], played with `sound` into `buf`.
fn melody(
    buf: &mut [f32],
    plan: &Plan,
    sound: LeadSound,
    rng: &mut Xoshiro256PlusPlus,
    noise: &mut Noise,
) {
    let lead_root = 60.0 + plan.key;
    let scale = &plan.scale;
    let mut deg: i32 = rng.random_range(0..scale.len() as i32);
    let note_steps: &[usize] = match plan.genre {
        5 | 6 => &[1, 2, 2, 3],
        1 => &[2, 4, 4, 8],
        _ => &[2, 2, 4, 6],
    };
    let mut t_step = 0usize;
    let total_steps = plan.n_bars * 16;
    while t_step < total_steps {
        let len = note_steps[rng.random_range(0..note_steps.len())];
        // Phrases with rests.
        if rng.random_bool(0.2) {
            t_step += len;
            continue;
        }
        deg += rng.random_range(-2..=2);
        deg = deg.clamp(-(scale.len() as i32), 2 * scale.len() as i32);
        let oct = deg.div_euclid(scale.len() as i32);
        let idx = deg.rem_euclid(scale.len() as i32) as usize;
        let p = lead_root + (scale[idx] + 12 * oct) as f32;
        let t = plan.grid.time(t_step / 16, t_step % 16, rng);
        let d = len as f32 * plan.grid.step * 0.95;
        match sound {
            LeadSound::Pluck => add_pluck(buf, t, d, p, 0.6, 0.8, noise),
            LeadSound::Piano => add_piano(buf, t, d, p + 12.0, 0.6, 0.5),
            LeadSound::Synth(v) => add_note(buf, t, d, p, 0.5, &v),
        }
        t_step += len;
    }
}
