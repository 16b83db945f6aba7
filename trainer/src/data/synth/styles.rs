//! The genres as data: for each, the ranges its clips' parameters are drawn from (tempo, swing,
//! drum patterns and timbres, bass, harmony and lead instruments, mix, recording).

use super::voices::Wave;

/// Bass patterns (one bar each): none, straight 8ths, root-fifth boom-chick, walking quarters,
/// octaves, 808 sub hits, reggae one-drop, a sustained note per bar, boogie-woogie.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Bass {
    None,
    Eighths,
    RootFifth,
    Walking,
    Octave,
    Sub808,
    OneDrop,
    Sustained,
    Boogie,
}

/// Chord instruments.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Harmony {
    Strings,
    Piano,
    Strum,
    PowerChords,
    Skank,
    Stabs,
    Pad,
    ShufflePluck,
}

/// Lead (melody) instruments; `None` for no lead.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Lead {
    None,
    Violin,
    Sax,
    Vocal,
    PianoMelody,
    GuitarLick,
    Distorted,
    Fiddle,
    Organ,
}

/// A genre: the ranges each clip's parameters are drawn from.
pub(super) struct Style {
    pub(super) tempo: (f32, f32),
    pub(super) swing: (f32, f32),
    /// Per-16th-step probabilities (one bar).
    pub(super) kick: [f32; 16],
    pub(super) snare: [f32; 16],
    pub(super) hat: [f32; 16],
    /// Ride cymbal pattern instead of hats.
    pub(super) ride: bool,
    /// Probability of a crash on the first beat of a bar.
    pub(super) crash: f32,
    /// Kick (start Hz, end Hz, decay s).
    pub(super) kick_tone: (f32, f32, f32),
    /// Snare (decay s, body Hz, low-pass Hz); brush when the decay is long.
    pub(super) snare_tone: (f32, f32, f32),
    pub(super) hat_decay: (f32, f32),
    pub(super) drum_level: f32,
    pub(super) basses: &'static [Bass],
    pub(super) bass_wave: Wave,
    pub(super) bass_cutoff: (f32, f32),
    pub(super) harmonies: &'static [Harmony],
    pub(super) leads: &'static [Lead],
    pub(super) lead_prob: f32,
    /// Distortion gain range of the harmony bus (1 = clean).
    pub(super) dist: (f32, f32),
    /// Master compression drive range.
    pub(super) drive: (f32, f32),
    /// Recording bandwidth (low-pass Hz) range.
    pub(super) bandwidth: (f32, f32),
    /// Noise floor (relative amplitude) range.
    pub(super) noise: (f32, f32),
    /// Slow dynamics depth (0 = none).
    pub(super) dynamics: f32,
    /// Peak level range.
    pub(super) level: (f32, f32),
}

/// A one-bar drum pattern (`X` hit, `O` rest per 16th step) as per-step probabilities `p`.
const fn steps(on: [u8; 16], p: f32) -> [f32; 16] {
    let mut out = [0.0f32; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = on[i] as f32 * p;
        i += 1;
    }
    out
}

/// A hit and a rest in a drum pattern.
const X: u8 = 1;
const O: u8 = 0;
const EIGHTHS: [u8; 16] = [X, O, X, O, X, O, X, O, X, O, X, O, X, O, X, O];
const BACKBEAT: [u8; 16] = [O, O, O, O, X, O, O, O, O, O, O, O, X, O, O, O];
const FOUR: [u8; 16] = [X, O, O, O, X, O, O, O, X, O, O, O, X, O, O, O];

/// The style of `genre` (GTZAN order: blues, classical, country, disco, hiphop, jazz, metal,
/// pop, reggae, rock; anything past 8 is rock).
pub(super) fn style(genre: usize) -> Style {
    let none16 = [0.0f32; 16];
    match genre {
        // blues
        0 => Style {
            tempo: (70.0, 118.0),
            swing: (0.2, 0.33),
            kick: steps([X, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 0.8),
            snare: steps(BACKBEAT, 0.85),
            hat: steps(EIGHTHS, 0.7),
            ride: false,
            crash: 0.1,
            kick_tone: (110.0, 55.0, 0.12),
            snare_tone: (0.10, 190.0, 5000.0),
            hat_decay: (0.03, 0.08),
            drum_level: 0.6,
            basses: &[Bass::Walking, Bass::Boogie],
            bass_wave: Wave::Triangle,
            bass_cutoff: (500.0, 1200.0),
            harmonies: &[Harmony::ShufflePluck, Harmony::Piano, Harmony::ShufflePluck],
            leads: &[Lead::GuitarLick, Lead::Sax, Lead::Vocal],
            lead_prob: 0.8,
            dist: (1.0, 4.0),
            drive: (1.0, 2.0),
            bandwidth: (3000.0, 9000.0),
            noise: (0.003, 0.03),
            dynamics: 0.2,
            level: (0.4, 0.9),
        },
        // classical
        1 => Style {
            tempo: (55.0, 120.0),
            swing: (0.0, 0.0),
            kick: none16,
            snare: none16,
            hat: none16,
            ride: false,
            crash: 0.0,
            kick_tone: (100.0, 50.0, 0.1),
            snare_tone: (0.1, 180.0, 4000.0),
            hat_decay: (0.03, 0.05),
            drum_level: 0.0,
            basses: &[Bass::Sustained, Bass::None, Bass::Sustained],
            bass_wave: Wave::Saw,
            bass_cutoff: (300.0, 900.0),
            harmonies: &[Harmony::Strings, Harmony::Piano, Harmony::Strings],
            leads: &[Lead::Violin, Lead::PianoMelody, Lead::Violin],
            lead_prob: 0.8,
            dist: (1.0, 1.0),
            drive: (1.0, 1.0),
            bandwidth: (4000.0, 10000.0),
            noise: (0.0005, 0.01),
            dynamics: 0.7,
            level: (0.2, 0.8),
        },
        // country
        2 => Style {
            tempo: (88.0, 145.0),
            swing: (0.0, 0.12),
            kick: steps([X, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 0.9),
            snare: steps(BACKBEAT, 0.9),
            hat: steps(EIGHTHS, 0.8),
            ride: false,
            crash: 0.1,
            kick_tone: (120.0, 60.0, 0.1),
            snare_tone: (0.06, 220.0, 6000.0),
            hat_decay: (0.02, 0.05),
            drum_level: 0.5,
            basses: &[Bass::RootFifth],
            bass_wave: Wave::Triangle,
            bass_cutoff: (600.0, 1500.0),
            harmonies: &[Harmony::Strum, Harmony::Strum, Harmony::Piano],
            leads: &[Lead::Fiddle, Lead::Vocal, Lead::GuitarLick],
            lead_prob: 0.75,
            dist: (1.0, 1.5),
            drive: (1.0, 2.0),
            bandwidth: (5000.0, 10500.0),
            noise: (0.001, 0.015),
            dynamics: 0.15,
            level: (0.4, 0.9),
        },
        // disco
        3 => Style {
            tempo: (108.0, 132.0),
            swing: (0.0, 0.05),
            kick: steps(FOUR, 1.0),
            snare: steps(BACKBEAT, 1.0),
            hat: steps([O, X, X, X, O, X, X, X, O, X, X, X, O, X, X, X], 0.7),
            ride: false,
            crash: 0.15,
            kick_tone: (130.0, 55.0, 0.14),
            snare_tone: (0.12, 200.0, 7000.0),
            hat_decay: (0.05, 0.16),
            drum_level: 0.8,
            basses: &[Bass::Octave],
            bass_wave: Wave::Saw,
            bass_cutoff: (700.0, 2000.0),
            harmonies: &[Harmony::Strings, Harmony::Stabs, Harmony::Pad],
            leads: &[Lead::Vocal, Lead::Violin, Lead::Organ],
            lead_prob: 0.8,
            dist: (1.0, 1.3),
            drive: (1.5, 3.0),
            bandwidth: (6000.0, 10500.0),
            noise: (0.001, 0.012),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
        // hiphop
        4 => Style {
            tempo: (78.0, 102.0),
            swing: (0.08, 0.25),
            kick: [
                1.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.3,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: [
                0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3, 0.9, 0.3,
            ],
            ride: false,
            crash: 0.0,
            kick_tone: (90.0, 45.0, 0.25),
            snare_tone: (0.14, 180.0, 6000.0),
            hat_decay: (0.02, 0.05),
            drum_level: 1.0,
            basses: &[Bass::Sub808],
            bass_wave: Wave::Sine,
            bass_cutoff: (200.0, 500.0),
            harmonies: &[Harmony::Piano, Harmony::Pad, Harmony::Stabs],
            leads: &[Lead::Vocal, Lead::None],
            lead_prob: 0.6,
            dist: (1.0, 1.5),
            drive: (2.0, 4.0),
            bandwidth: (4000.0, 9000.0),
            noise: (0.002, 0.02),
            dynamics: 0.05,
            level: (0.6, 0.95),
        },
        // jazz
        5 => Style {
            tempo: (95.0, 210.0),
            swing: (0.22, 0.33),
            kick: [
                0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0,
            ],
            snare: [
                0.0, 0.0, 0.15, 0.0, 0.2, 0.0, 0.1, 0.15, 0.0, 0.0, 0.2, 0.0, 0.2, 0.0, 0.15, 0.1,
            ],
            hat: steps([X, O, O, O, X, O, X, O, X, O, O, O, X, O, X, O], 0.95),
            ride: true,
            crash: 0.05,
            kick_tone: (90.0, 55.0, 0.1),
            snare_tone: (0.18, 0.0, 3500.0),
            hat_decay: (0.25, 0.6),
            drum_level: 0.45,
            basses: &[Bass::Walking],
            bass_wave: Wave::Triangle,
            bass_cutoff: (400.0, 900.0),
            harmonies: &[Harmony::Piano, Harmony::Piano, Harmony::ShufflePluck],
            leads: &[Lead::Sax, Lead::PianoMelody, Lead::Sax],
            lead_prob: 0.8,
            dist: (1.0, 1.0),
            drive: (1.0, 1.5),
            bandwidth: (3500.0, 10000.0),
            noise: (0.002, 0.025),
            dynamics: 0.3,
            level: (0.3, 0.85),
        },
        // metal
        6 => Style {
            tempo: (100.0, 200.0),
            swing: (0.0, 0.0),
            kick: [
                1.0, 0.5, 0.9, 0.5, 0.6, 0.5, 0.9, 0.5, 1.0, 0.5, 0.9, 0.5, 0.6, 0.5, 0.9, 0.5,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.9),
            ride: false,
            crash: 0.6,
            kick_tone: (140.0, 60.0, 0.07),
            snare_tone: (0.1, 210.0, 8000.0),
            hat_decay: (0.03, 0.1),
            drum_level: 0.8,
            basses: &[Bass::Eighths],
            bass_wave: Wave::Saw,
            bass_cutoff: (500.0, 1500.0),
            harmonies: &[Harmony::PowerChords],
            leads: &[Lead::Distorted, Lead::None],
            lead_prob: 0.4,
            dist: (8.0, 40.0),
            drive: (2.5, 5.0),
            bandwidth: (6000.0, 10500.0),
            noise: (0.002, 0.02),
            dynamics: 0.05,
            level: (0.7, 0.95),
        },
        // pop
        7 => Style {
            tempo: (90.0, 128.0),
            swing: (0.0, 0.08),
            kick: [
                1.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.2, 1.0, 0.0, 0.5, 0.0, 0.3, 0.0, 0.0, 0.0,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.85),
            ride: false,
            crash: 0.2,
            kick_tone: (120.0, 50.0, 0.15),
            snare_tone: (0.12, 200.0, 7500.0),
            hat_decay: (0.03, 0.09),
            drum_level: 0.7,
            basses: &[Bass::Eighths, Bass::Octave],
            bass_wave: Wave::Sine,
            bass_cutoff: (400.0, 1200.0),
            harmonies: &[Harmony::Pad, Harmony::Piano, Harmony::Stabs, Harmony::Strum],
            leads: &[Lead::Vocal],
            lead_prob: 0.9,
            dist: (1.0, 1.5),
            drive: (1.5, 3.0),
            bandwidth: (7000.0, 10500.0),
            noise: (0.0005, 0.008),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
        // reggae
        8 => Style {
            tempo: (62.0, 95.0),
            swing: (0.05, 0.18),
            kick: steps([O, O, O, O, O, O, O, O, X, O, O, O, O, O, O, O], 1.0),
            snare: [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0,
            ],
            hat: steps(EIGHTHS, 0.8),
            ride: false,
            crash: 0.0,
            kick_tone: (100.0, 50.0, 0.16),
            snare_tone: (0.06, 330.0, 6000.0),
            hat_decay: (0.02, 0.06),
            drum_level: 0.6,
            basses: &[Bass::OneDrop],
            bass_wave: Wave::Sine,
            bass_cutoff: (250.0, 600.0),
            harmonies: &[Harmony::Skank],
            leads: &[Lead::Organ, Lead::Vocal],
            lead_prob: 0.6,
            dist: (1.0, 1.5),
            drive: (1.0, 2.5),
            bandwidth: (4000.0, 9500.0),
            noise: (0.002, 0.02),
            dynamics: 0.1,
            level: (0.45, 0.9),
        },
        // rock
        _ => Style {
            tempo: (95.0, 160.0),
            swing: (0.0, 0.05),
            kick: [
                1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
            snare: steps(BACKBEAT, 1.0),
            hat: steps(EIGHTHS, 0.9),
            ride: false,
            crash: 0.35,
            kick_tone: (120.0, 55.0, 0.11),
            snare_tone: (0.12, 200.0, 7000.0),
            hat_decay: (0.03, 0.12),
            drum_level: 0.75,
            basses: &[Bass::Eighths],
            bass_wave: Wave::Saw,
            bass_cutoff: (500.0, 1400.0),
            harmonies: &[Harmony::PowerChords, Harmony::PowerChords, Harmony::Strum],
            leads: &[Lead::Distorted, Lead::Vocal, Lead::GuitarLick],
            lead_prob: 0.6,
            dist: (2.5, 14.0),
            drive: (1.5, 3.5),
            bandwidth: (5000.0, 10500.0),
            noise: (0.002, 0.02),
            dynamics: 0.1,
            level: (0.6, 0.95),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_turn_a_pattern_into_probabilities() {
        let four = steps(FOUR, 0.5);
        for (k, p) in four.iter().enumerate() {
            assert_eq!(*p, if k % 4 == 0 { 0.5 } else { 0.0 });
        }
        assert_eq!(steps(BACKBEAT, 1.0).iter().sum::<f32>(), 2.0);
        assert_eq!(steps(EIGHTHS, 0.7).iter().filter(|&&p| p > 0.0).count(), 8);
    }

    #[test]
    fn every_style_is_consistent() {
        let ordered = |(lo, hi): (f32, f32)| lo <= hi;
        for g in 0..10 {
            let s = style(g);
            for r in [
                s.tempo,
                s.swing,
                s.hat_decay,
                s.bass_cutoff,
                s.dist,
                s.drive,
                s.bandwidth,
                s.noise,
                s.level,
            ] {
                assert!(ordered(r), "genre {g}: {r:?}");
            }
            let probs = s
                .kick
                .iter()
                .chain(&s.snare)
                .chain(&s.hat)
                .chain([&s.crash]);
            assert!(probs.clone().all(|p| (0.0..=1.0).contains(p)), "genre {g}");
            // a style without drums has empty patterns, and one with drums plays some
            let any_hit = probs.clone().any(|&p| p > 0.0);
            assert_eq!(s.drum_level > 0.0, any_hit, "genre {g}");
            assert!(!s.basses.is_empty() && !s.harmonies.is_empty() && !s.leads.is_empty());
            assert!((0.0..=1.0).contains(&s.lead_prob) && s.dist.0 >= 1.0);
            assert!(s.level.1 <= 1.0 && s.level.0 > 0.0);
        }
        assert_eq!(style(1).drum_level, 0.0, "classical has no drums");
    }
}
