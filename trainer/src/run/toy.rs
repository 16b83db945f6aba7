//! The toy source (`DataSource::Toy`): a small in-memory set of log-mel-like patterns with no
//! audio, for tests of the training loop.

use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::run::config::ToySpec;
use crate::run::examples::{Examples, FeatureStore, Prepared};

/// The toy set of `spec`: every class in both splits (an 80/20 split by track per class, by a
/// shuffle seeded from `seed`).
pub fn toy(spec: &ToySpec, seed: u64) -> Prepared {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x7079_5f74_6f79);
    let normal = rand_distr::Normal::new(0.0f32, spec.noise_db.max(1e-6)).expect("finite std");
    let (m, f) = (spec.n_mels, spec.frames);
    let mut all_features: Vec<Vec<f32>> = Vec::new();
    let mut all = Examples {
        n_mels: m,
        ..Default::default()
    };
    let mut track = 0;
    for c in 0..spec.n_classes {
        let lo = c * m / spec.n_classes;
        let hi = ((c + 1) * m / spec.n_classes).max(lo + 1);
        let rate = (c + 1) as f32 / f as f32 * 2.0;
        for _ in 0..spec.tracks_per_class {
            let gain: f32 = rng.random_range(10.0..20.0);
            for _ in 0..spec.segments_per_track {
                let phase: f32 = rng.random_range(0.0..std::f32::consts::TAU);
                let mut x = vec![0f32; m * f];
                for (i, v) in x.iter_mut().enumerate() {
                    let (mi, t) = (i / f, i % f);
                    let band = if (lo..hi).contains(&mi) {
                        gain * (0.6 + 0.4 * (std::f32::consts::TAU * rate * t as f32 + phase).sin())
                    } else {
                        0.0
                    };
                    *v = -50.0 + band + rng.sample(normal);
                }
                all_features.push(x);
                all.labels.push(c);
                all.tracks.push(track);
            }
            track += 1;
        }
    }
    // split tracks 80/20 by a seeded shuffle (per class, so both sides hold every class)
    let mut test_tracks = std::collections::HashSet::new();
    for c in 0..spec.n_classes {
        let mut ids: Vec<usize> =
            (c * spec.tracks_per_class..(c + 1) * spec.tracks_per_class).collect();
        ids.shuffle(&mut rng);
        let n_test = (spec.tracks_per_class / 5).max(1);
        test_tracks.extend(ids.into_iter().take(n_test));
    }
    let (mut train, mut test) = (
        Examples {
            n_mels: m,
            ..Default::default()
        },
        Examples {
            n_mels: m,
            ..Default::default()
        },
    );
    let (mut train_f, mut test_f) = (Vec::new(), Vec::new());
    for (i, x) in all_features.into_iter().enumerate() {
        let (dst, f) = if test_tracks.contains(&all.tracks[i]) {
            (&mut test, &mut test_f)
        } else {
            (&mut train, &mut train_f)
        };
        f.push(x);
        dst.labels.push(all.labels[i]);
        dst.tracks.push(all.tracks[i]);
    }
    train.features = FeatureStore::Memory(train_f);
    test.features = FeatureStore::Memory(test_f);
    Prepared {
        genres: (0..spec.n_classes).map(|c| format!("class{c}")).collect(),
        train,
        valid: Examples {
            n_mels: m,
            ..Default::default()
        },
        test,
        input_frames: f,
        fingerprint: format!("toy:{}", serde_json::to_string(spec).unwrap_or_default()),
        split_lists: None,
    }
}
