//! Music theory of the generator: scales, chords, and each genre's chord progressions and
//! melody scale.

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

/// Scales, in semitones above the key.
const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
const DORIAN: [i32; 7] = [0, 2, 3, 5, 7, 9, 10];
const MIXOLYDIAN: [i32; 7] = [0, 2, 4, 5, 7, 9, 10];
const PHRYGIAN: [i32; 7] = [0, 1, 3, 5, 7, 8, 10];
const BLUES_SCALE: [i32; 6] = [0, 3, 5, 6, 7, 10];
const PENT_MAJOR: [i32; 5] = [0, 2, 4, 7, 9];
const PENT_MINOR: [i32; 5] = [0, 3, 5, 7, 10];

/// A chord: root (semitones above the key) and intervals above the root.
#[derive(Clone)]
pub(super) struct Chord {
    pub(super) root: i32,
    pub(super) tones: Vec<i32>,
}

/// A chord on `root` of shape `tones`.
fn chord(root: i32, tones: &[i32]) -> Chord {
    Chord {
        root,
        tones: tones.to_vec(),
    }
}

/// Chord shapes, in semitones above the chord's root.
const MAJ: [i32; 3] = [0, 4, 7];
const MIN: [i32; 3] = [0, 3, 7];
const DOM7: [i32; 4] = [0, 4, 7, 10];
const MIN7: [i32; 4] = [0, 3, 7, 10];
const MAJ7: [i32; 4] = [0, 4, 7, 11];
const DOM9: [i32; 5] = [0, 4, 7, 10, 14];
const MIN9: [i32; 5] = [0, 3, 7, 10, 14];
const POWER: [i32; 3] = [0, 7, 12];

/// Chord progression (one chord per bar) for a genre, in semitones above the key.
pub(super) fn progression(genre: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<Chord> {
    let pick = |rng: &mut Xoshiro256PlusPlus, n: usize| rng.random_range(0..n);
    match genre {
        0 => {
            // 12-bar blues with dominant sevenths.
            [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
                .iter()
                .map(|&r| chord(r, &DOM7))
                .collect()
        }
        1 => match pick(rng, 3) {
            0 => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &DOM7),
                chord(0, &MAJ),
            ],
            1 => vec![
                chord(0, &MAJ),
                chord(9, &MIN),
                chord(2, &MIN),
                chord(7, &DOM7),
            ],
            _ => vec![
                chord(0, &MIN),
                chord(5, &MIN),
                chord(7, &DOM7),
                chord(0, &MIN),
            ],
        },
        2 => match pick(rng, 2) {
            0 => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &MAJ),
                chord(0, &MAJ),
            ],
            _ => vec![
                chord(0, &MAJ),
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &DOM7),
            ],
        },
        3 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN7), chord(5, &MIN7)],
            _ => vec![
                chord(2, &MIN7),
                chord(7, &DOM7),
                chord(0, &MAJ7),
                chord(9, &MIN7),
            ],
        },
        4 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN7), chord(8, &MAJ7)],
            _ => vec![
                chord(0, &MIN),
                chord(3, &MAJ),
                chord(8, &MAJ),
                chord(7, &MIN),
            ],
        },
        5 => match pick(rng, 2) {
            0 => vec![
                chord(2, &MIN9),
                chord(7, &DOM9),
                chord(0, &MAJ7),
                chord(0, &MAJ7),
            ],
            _ => vec![
                chord(0, &MAJ7),
                chord(9, &DOM7),
                chord(2, &MIN7),
                chord(7, &DOM9),
            ],
        },
        6 => vec![chord(0, &POWER); 4],
        7 => match pick(rng, 2) {
            0 => vec![
                chord(0, &MAJ),
                chord(7, &MAJ),
                chord(9, &MIN),
                chord(5, &MAJ),
            ],
            _ => vec![
                chord(9, &MIN),
                chord(5, &MAJ),
                chord(0, &MAJ),
                chord(7, &MAJ),
            ],
        },
        8 => match pick(rng, 2) {
            0 => vec![chord(0, &MIN), chord(5, &MIN)],
            _ => vec![
                chord(0, &MAJ),
                chord(5, &MAJ),
                chord(7, &MAJ),
                chord(5, &MAJ),
            ],
        },
        _ => match pick(rng, 3) {
            0 => vec![
                chord(0, &POWER),
                chord(5, &POWER),
                chord(7, &POWER),
                chord(5, &POWER),
            ],
            1 => vec![
                chord(0, &POWER),
                chord(10, &POWER),
                chord(5, &POWER),
                chord(0, &POWER),
            ],
            _ => vec![
                chord(0, &MAJ),
                chord(7, &MAJ),
                chord(5, &MAJ),
                chord(0, &MAJ),
            ],
        },
    }
}

/// The melody scale of a genre (semitones above the key); classical draws major or minor.
pub(super) fn scale_for(genre: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<i32> {
    match genre {
        0 => BLUES_SCALE.to_vec(),
        1 => {
            if rng.random_bool(0.5) {
                MAJOR.to_vec()
            } else {
                MINOR.to_vec()
            }
        }
        2 | 7 => PENT_MAJOR.to_vec(),
        3 => DORIAN.to_vec(),
        4 | 8 => PENT_MINOR.to_vec(),
        5 => MIXOLYDIAN.to_vec(),
        6 => PHRYGIAN.to_vec(),
        _ => PENT_MINOR.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_blues_is_twelve_bars_of_dominant_sevenths_and_draws_nothing() {
        let (mut rng, fresh) = (
            Xoshiro256PlusPlus::seed_from_u64(1),
            Xoshiro256PlusPlus::seed_from_u64(1),
        );
        let p = progression(0, &mut rng);
        let roots: Vec<i32> = p.iter().map(|c| c.root).collect();
        assert_eq!(roots, [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]);
        assert!(p.iter().all(|c| c.tones == [0, 4, 7, 10]));
        assert_eq!(rng, fresh);
    }

    #[test]
    fn every_progression_and_scale_is_well_formed() {
        for g in 0..10 {
            for seed in 0..20 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let p = progression(g, &mut rng);
                assert!((2..=12).contains(&p.len()), "genre {g}");
                for c in &p {
                    assert!((0..12).contains(&c.root));
                    assert_eq!(c.tones[0], 0);
                    assert!(c.tones.windows(2).all(|w| w[0] < w[1]));
                }
                let s = scale_for(g, &mut rng);
                assert_eq!(s[0], 0);
                assert!(s.windows(2).all(|w| w[0] < w[1]) && *s.last().unwrap() < 12);
                assert!((5..=7).contains(&s.len()));
            }
        }
        // only classical draws its mode (major or minor)
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..20 {
            seen.insert(scale_for(1, &mut Xoshiro256PlusPlus::seed_from_u64(seed)));
        }
        assert_eq!(seen.len(), 2);
        assert!(seen.contains(MAJOR.as_slice()) && seen.contains(MINOR.as_slice()));
    }
}
