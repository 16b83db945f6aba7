//! Statistical and structural checks of the random stages against their
//! definitions: noise level, mixup's Beta-distributed lambda and row sums,
//! SpecAugment masks, time shift, and the waveform transform's determinism
//! and per-copy keys.

use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use trainer::augment::noise::add_noise;
use trainer::augment::{AugSpec, Mask, MaskValue, SpecAugment};

fn spec(s: &str) -> AugSpec {
    s.parse().unwrap()
}

fn std_dev(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

fn music(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f32 / 22050.0;
            0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.1 * (2.0 * std::f32::consts::PI * 1234.5 * t).sin()
        })
        .collect()
}

/// The standard deviation of (augmented - original) is within 2% of sigma.
/// With n = 220500 samples the sample std's relative standard error is
/// 1/sqrt(2n) = 0.15%, so 2% is more than 13 standard errors.
#[test]
fn noise_std_matches_sigma() {
    for sigma in [0.001f32, 0.015, 0.1] {
        let x = music(220_500);
        let mut y = x.clone();
        add_noise(&mut y, sigma, &mut StdRng::seed_from_u64(7));
        let d: Vec<f64> = y.iter().zip(&x).map(|(a, b)| f64::from(a - b)).collect();
        let s = std_dev(&d);
        let rel = (s / f64::from(sigma) - 1.0).abs();
        println!(
            "noise sigma {sigma}: measured {s:.6} ({:.3}% off)",
            rel * 100.0
        );
        assert!(rel < 0.02, "sigma {sigma}: std {s}");
    }
    // Through the spec and the waveform transform too.
    let t = spec("noise:sigma=0.001").waveform_transform(1, 3).unwrap();
    let x = music(220_500);
    let mut y = x.clone();
    let draw = t.apply_named("blues.00000", &mut y, 22050);
    assert_eq!(draw.noise_sigma, Some(0.001));
    let d: Vec<f64> = y.iter().zip(&x).map(|(a, b)| f64::from(a - b)).collect();
    assert!((std_dev(&d) / 0.001 - 1.0).abs() < 0.02);
}

/// Per-clip sigma drawn from U[min, max]: every draw inside, and the mean of
/// 2000 draws within 5 standard errors of (min + max) / 2.
#[test]
fn noise_uniform_sigma_per_clip() {
    let t = spec("noise:min=0.001,max=0.015")
        .waveform_transform(1, 9)
        .unwrap();
    let draws: Vec<f64> = (0..2000)
        .map(|i| f64::from(t.draw(&format!("track.{i:05}"), 22050).noise_sigma.unwrap()))
        .collect();
    assert!(draws.iter().all(|&s| (0.001..=0.015).contains(&(s as f32))));
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let se = 0.014 / 12f64.sqrt() / (draws.len() as f64).sqrt();
    assert!((mean - 0.008).abs() < 5.0 * se, "mean {mean}");
}

/// mixup: every target row sums to 1; each row is lambda * own + (1 - lambda)
/// * partner for inputs and targets alike; and lambda's empirical mean and
/// variance match Beta(alpha, alpha) (mean 1/2, variance 1/(4(2 alpha + 1)))
/// within 5 standard errors: SE(mean) = sqrt(var / N), SE(variance) =
/// sqrt((mu4 - var^2) / N) with mu4 = var^2 (3 - 6 / (2 alpha + 3)) for a
/// symmetric Beta.
#[test]
fn mixup_rows_and_lambda_distribution() {
    let (batch, classes, features) = (8usize, 10usize, 5usize);
    for alpha in [0.2f64, 1.0] {
        let s = spec(&format!("mixup:alpha={alpha}"));
        let mut rng = StdRng::seed_from_u64(11);
        let n_batches = 20_000usize;
        let mut lambdas = Vec::with_capacity(n_batches);
        for b in 0..n_batches {
            // Row i is class i (distinct classes), inputs tagged by row.
            let mut targets = vec![0.0f32; batch * classes];
            let mut inputs = vec![0.0f32; batch * features];
            for i in 0..batch {
                targets[i * classes + i] = 1.0;
                for f in 0..features {
                    inputs[i * features + f] = (i * 10 + f + b % 3) as f32;
                }
            }
            let orig = inputs.clone();
            let draw = s
                .apply_batch(&mut inputs, &mut targets, batch, &mut rng)
                .unwrap();
            let lam = draw.lambda;
            for i in 0..batch {
                let row = &targets[i * classes..(i + 1) * classes];
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "row {i} sums to {sum}");
                let j = draw.perm[i];
                // The target row tells lambda and the partner independently of `draw`.
                if j != i {
                    assert!((row[i] - lam).abs() < 1e-6 && (row[j] - (1.0 - lam)).abs() < 1e-6);
                } else {
                    assert!((row[i] - 1.0).abs() < 1e-6);
                }
                for f in 0..features {
                    let want = lam * orig[i * features + f] + (1.0 - lam) * orig[j * features + f];
                    assert!((inputs[i * features + f] - want).abs() < 1e-4);
                }
            }
            let mut p = draw.perm.clone();
            p.sort_unstable();
            assert_eq!(p, (0..batch).collect::<Vec<_>>(), "a permutation");
            lambdas.push(f64::from(lam));
        }
        let n = lambdas.len() as f64;
        let mean = lambdas.iter().sum::<f64>() / n;
        let var = lambdas.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let want_var = 1.0 / (4.0 * (2.0 * alpha + 1.0));
        let mu4 = want_var.powi(2) * (3.0 - 6.0 / (2.0 * alpha + 3.0));
        let se_mean = (want_var / n).sqrt();
        let se_var = ((mu4 - want_var.powi(2)) / n).sqrt();
        println!(
            "mixup alpha {alpha}: lambda mean {mean:.4} (0.5 +- {:.4}), var {var:.4} ({want_var:.4} +- {:.4})",
            5.0 * se_mean,
            5.0 * se_var
        );
        assert!((mean - 0.5).abs() < 5.0 * se_mean, "mean {mean}");
        assert!((var - want_var).abs() < 5.0 * se_var, "var {var}");
    }
    // No mixup stage: nothing changes.
    let mut x = vec![1.0f32; 4];
    let mut y = vec![1.0f32, 0.0, 0.0, 1.0];
    assert!(
        spec("noise")
            .apply_batch(&mut x, &mut y, 2, &mut StdRng::seed_from_u64(0))
            .is_none()
    );
    assert_eq!(y, [1.0, 0.0, 0.0, 1.0]);
}

/// SpecAugment: exactly the drawn bands and frames hold the fill value (the
/// pre-masking mean, or 0), widths within the limits, the rest untouched.
#[test]
fn specaugment_masks() {
    let (n_mels, frames) = (128usize, 130usize);
    let mel: Vec<f32> = (0..n_mels * frames)
        .map(|i| -40.0 + (i % 97) as f32 * 0.37)
        .collect();
    let mean = mel.iter().map(|&v| f64::from(v)).sum::<f64>() / mel.len() as f64;
    let mut rng = StdRng::seed_from_u64(5);
    for value in [MaskValue::Mean, MaskValue::Zero] {
        let sa = SpecAugment {
            time: 20,
            freq: 16,
            masks: 2,
            value,
        };
        for _ in 0..200 {
            let mut m = mel.clone();
            let (masks, fill) = sa.apply(&mut m, n_mels, frames, &mut rng);
            match value {
                MaskValue::Mean => assert!((f64::from(fill) - mean).abs() < 1e-3),
                MaskValue::Zero => assert_eq!(fill, 0.0),
            }
            assert_eq!(masks.len(), 4);
            let mut masked = vec![false; n_mels * frames];
            for mask in &masks {
                match *mask {
                    Mask::Freq { start, end } => {
                        assert!(end - start <= 16 && end <= n_mels);
                        for r in start..end {
                            masked[r * frames..(r + 1) * frames].fill(true);
                        }
                    }
                    Mask::Time { start, end } => {
                        assert!(end - start <= 20 && end <= frames);
                        for r in 0..n_mels {
                            masked[r * frames + start..r * frames + end].fill(true);
                        }
                    }
                }
            }
            for i in 0..m.len() {
                if masked[i] {
                    assert_eq!(m[i], fill);
                } else {
                    assert_eq!(m[i], mel[i]);
                }
            }
        }
    }
}

/// Time shift through the transform: a circular shift is a rotation by the
/// drawn offset (within max seconds); zero fill leaves silence.
#[test]
fn timeshift_through_the_transform() {
    let x: Vec<f32> = (0..22050).map(|i| i as f32).collect();
    for name in ["a.00000", "b.00001", "c.00002"] {
        let t = spec("timeshift:max=0.25").waveform_transform(1, 1).unwrap();
        let mut y = x.clone();
        let d = t.apply_named(name, &mut y, 22050).shift_samples.unwrap();
        assert!(d.abs() <= (0.25f64 * 22050.0).round() as i64);
        for (i, &v) in y.iter().enumerate() {
            let src = (i as i64 - d).rem_euclid(22050) as usize;
            assert_eq!(v, x[src]);
        }
        let z = spec("timeshift:max=0.25,fill=zero")
            .waveform_transform(1, 1)
            .unwrap();
        let mut y = x.clone();
        let d = z.apply_named(name, &mut y, 22050).shift_samples.unwrap();
        for (i, &v) in y.iter().enumerate() {
            let src = i as i64 - d;
            let want = if (0..22050).contains(&src) {
                x[src as usize]
            } else {
                0.0
            };
            assert_eq!(v, want);
        }
    }
}

/// The transform is a function of (spec, copy, seed, track name): equal
/// inputs give bit-identical audio; each offline copy has its own cache key;
/// different copies, seeds and tracks draw differently; the pitch drawn is an
/// integer in [-range, range].
#[test]
fn waveform_transform_is_deterministic_and_keys_are_unique() {
    let s = spec("pitch:range=4,noise:min=0.001,max=0.015");
    let copies = s.offline_transforms(5, 42);
    assert_eq!(copies.len(), 5);
    let keys: HashSet<String> = copies.iter().map(|t| t.key()).collect();
    assert_eq!(keys.len(), 5, "one key per copy");
    assert!(
        copies
            .iter()
            .all(|t| t.key().starts_with(&s.waveform_string()))
    );
    assert_ne!(
        s.waveform_transform(1, 42).unwrap().key(),
        s.waveform_transform(1, 43).unwrap().key()
    );
    assert_ne!(
        spec("noise:sigma=0.001")
            .waveform_transform(1, 42)
            .unwrap()
            .key(),
        spec("noise:sigma=0.002")
            .waveform_transform(1, 42)
            .unwrap()
            .key()
    );
    // Spectrogram and batch stages do not enter the waveform key.
    assert_eq!(
        spec("noise,mixup").waveform_transform(1, 0).unwrap().key(),
        spec("noise").waveform_transform(1, 0).unwrap().key()
    );

    let x = music(44_100);
    let t = s.waveform_transform(2, 42).unwrap();
    let (mut a, mut b) = (x.clone(), x.clone());
    let da = t.apply_named("jazz.00003", &mut a, 22050);
    let db = s
        .waveform_transform(2, 42)
        .unwrap()
        .apply_named("jazz.00003", &mut b, 22050);
    assert_eq!(da, db);
    assert_eq!(a, b, "same (spec, copy, seed, track): identical audio");
    assert_eq!(t.draw("jazz.00003", 22050), da);

    let mut draws = HashSet::new();
    for c in 1..=20 {
        let d = s
            .waveform_transform(c, 42)
            .unwrap()
            .draw("jazz.00003", 22050);
        let p = d.pitch_steps.unwrap();
        assert!(p.fract() == 0.0 && (-4.0..=4.0).contains(&p));
        draws.insert(d.noise_sigma.unwrap().to_bits());
    }
    assert!(draws.len() > 15, "copies draw independently");
    assert_ne!(t.draw("jazz.00003", 22050), t.draw("jazz.00004", 22050));
}
