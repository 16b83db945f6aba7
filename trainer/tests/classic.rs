//! The classic baseline (MFCC mean/std + RBF SVM) against independent references:
//! librosa's MFCCs (a committed fixture; live on the dev clips when
//! `GTZAN_DEV_DIR` is set), hand-made separable data, and scikit-learn's SVC on
//! the same features and folds.
//!
//! Reference scripts: `tools/reference/classic_mfcc.py` (fixture and clip MFCCs),
//! `tools/reference/classic_svm.py` (sklearn cross-validation).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use trainer::classic::{
    self, ClassicError, Classifier, ClassifierConfig, LIBROSA_TOP_DB, N_MFCC, TrackFeatures,
};
use trainer::data::cache::FrontendConfig;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> PathBuf {
    manifest().parent().unwrap().to_path_buf()
}

/// The synthetic signal of `tools/reference/classic_mfcc.py` (same formula, f64
/// then f32).
fn synthetic() -> Vec<f32> {
    use std::f64::consts::PI;
    (0..11025)
        .map(|n| {
            if n >= 8000 {
                return 0.0;
            }
            let t = n as f64 / 22050.0;
            let env = 0.5 + 0.5 * (2.0 * PI * 3.0 * t).sin();
            let x = env
                * (0.5 * (2.0 * PI * 440.0 * t).sin() + 0.25 * (2.0 * PI * 1234.5 * t + 0.3).sin())
                + 0.1 * (2.0 * PI * (200.0 * t + 1500.0 * t * t)).sin();
            x as f32
        })
        .collect()
}

/// (max abs error, max abs error / max |reference|) of `got` vs `want`.
fn errors(got: &[f32], want: &[f32]) -> (f32, f32) {
    assert_eq!(got.len(), want.len());
    let abs = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0f32, f32::max);
    let scale = want.iter().map(|v| v.abs()).fold(0f32, f32::max);
    (abs, abs / scale)
}

#[test]
fn mfcc_matches_librosa_fixture() {
    let dir = manifest().join("tests/fixtures/classic");
    let y = synthetic();
    let cfg = FrontendConfig::DEFAULT;
    // Without the floor, silent frames sit at the -100 dB amin floor where f32
    // rounding of the two implementations differs more (measured 3e-5 relative).
    for (file, top_db, tol) in [
        ("mfcc_top80.npy", Some(LIBROSA_TOP_DB), 1e-5),
        ("mfcc_nofloor.npy", None, 1e-4),
    ] {
        let (shape, want) = trainer::base::npy::read_f32(&dir.join(file)).unwrap();
        let (frames, got) = classic::mfcc::mfcc(&cfg, &y, N_MFCC, top_db).unwrap();
        assert_eq!(shape, vec![N_MFCC, frames], "{file}");
        let (abs, rel) = errors(&got, &want);
        println!("{file}: max abs error {abs:.3e}, relative to max |c| {rel:.3e}");
        assert!(rel < tol, "{file}: max abs error {abs} (relative {rel})");
    }
}

/// Genre directories (sorted) and their `.wav` tracks (sorted) under `root/genres`.
fn dev_tracks(root: &Path) -> Vec<(usize, PathBuf)> {
    let mut genres: Vec<PathBuf> = std::fs::read_dir(root.join("genres"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    genres.sort();
    let mut out = Vec::new();
    for (label, g) in genres.iter().enumerate() {
        let mut wavs: Vec<PathBuf> = std::fs::read_dir(g)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wav"))
            .collect();
        wavs.sort();
        out.extend(wavs.into_iter().map(|w| (label, w)));
    }
    out
}

/// `GTZAN_DEV_DIR` and a python3 that imports `modules`, or a printed reason.
fn dev_dir_and_python(modules: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("GTZAN_DEV_DIR") else {
        println!("skipped: GTZAN_DEV_DIR is not set");
        return None;
    };
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("skipped: python3 cannot import {modules}");
        return None;
    }
    Some(PathBuf::from(dir))
}

#[test]
fn mfcc_matches_librosa_on_dev_clips() {
    let Some(root) = dev_dir_and_python("librosa") else {
        return;
    };
    // The first track of every other genre: 5 real clips of ~30 s.
    let clips: Vec<PathBuf> = {
        let all = dev_tracks(&root);
        let mut seen = Vec::new();
        all.into_iter()
            .filter(|(g, _)| {
                let first = !seen.contains(g);
                seen.push(*g);
                first && g % 2 == 0
            })
            .map(|(_, p)| p)
            .collect()
    };
    assert!(!clips.is_empty(), "no clips under {}", root.display());
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(repo_root().join("tools/reference/classic_mfcc.py"))
        .arg("clips")
        .arg(out.path())
        .args(&clips)
        .status()
        .unwrap();
    assert!(status.success());
    let cfg = FrontendConfig::DEFAULT;
    let (mut worst_abs, mut worst_rel) = (0f32, 0f32);
    for (i, clip) in clips.iter().enumerate() {
        let (shape, want) =
            trainer::base::npy::read_f32(&out.path().join(format!("{i}.npy"))).unwrap();
        let y = trainer::base::audio::load_mono(clip, 22050).unwrap();
        let (frames, got) = classic::mfcc::mfcc(&cfg, &y, N_MFCC, Some(LIBROSA_TOP_DB)).unwrap();
        assert_eq!(shape, vec![N_MFCC, frames], "{}", clip.display());
        let (abs, rel) = errors(&got, &want);
        println!(
            "{}: max abs error {abs:.3e}, relative to max |c| {rel:.3e}",
            clip.display()
        );
        // Per coefficient: the largest error relative to that coefficient's range.
        for k in 0..N_MFCC {
            let row = k * frames..(k + 1) * frames;
            let (a, _) = errors(&got[row.clone()], &want[row.clone()]);
            let scale = want[row].iter().map(|v| v.abs()).fold(0f32, f32::max);
            println!("  c{k:<2} max |err| {a:.3e}  max |c| {scale:.1}");
        }
        worst_abs = worst_abs.max(abs);
        worst_rel = worst_rel.max(rel);
    }
    println!("dev clips: max abs error {worst_abs:.3e}, relative {worst_rel:.3e}");
    assert!(
        worst_rel < 1e-5,
        "max abs {worst_abs}, relative {worst_rel}"
    );
}

/// splitmix64 + Box-Muller: a self-contained deterministic normal generator.
struct Gauss(u64);

impl Gauss {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// `per_class` points per class around `n_classes` random 40-d centres (spread
/// `spread` per dimension, unit noise); dimension d scaled by `10^(d % 4)` so
/// the features have very different ranges (standardisation matters).
fn blobs(g: &mut Gauss, centres: &[Vec<f64>], per_class: usize) -> Vec<(Vec<f32>, usize)> {
    let mut out = Vec::new();
    for (label, c) in centres.iter().enumerate() {
        for _ in 0..per_class {
            let row = c
                .iter()
                .enumerate()
                .map(|(d, m)| ((m + g.normal()) * 10f64.powi((d % 4) as i32)) as f32)
                .collect();
            out.push((row, label));
        }
    }
    out
}

#[test]
fn separable_blobs_are_classified() {
    let mut g = Gauss(7);
    let centres: Vec<Vec<f64>> = (0..5)
        .map(|_| (0..40).map(|_| 1.5 * g.normal()).collect())
        .collect();
    let train = blobs(&mut g, &centres, 30);
    let test = blobs(&mut g, &centres, 20);
    let r = classic::evaluate(&train, &test).unwrap();
    println!("blobs: accuracy {:.3}", r.track_accuracy);
    assert!(r.track_accuracy >= 0.95, "{}", r.track_accuracy);
    assert_eq!(r.predictions.len(), test.len());
    assert_eq!(r.confusion.len(), 5);
    let total: usize = r.confusion.iter().flatten().sum();
    let diag: usize = (0..5).map(|i| r.confusion[i][i]).sum();
    assert_eq!(total, test.len());
    assert!((diag as f64 / total as f64 - r.track_accuracy).abs() < 1e-12);
    // Deterministic: a second fit predicts the same.
    assert_eq!(
        classic::evaluate(&train, &test).unwrap().predictions,
        r.predictions
    );
}

#[test]
fn standardisation_uses_training_statistics_only() {
    let mut g = Gauss(11);
    let centres: Vec<Vec<f64>> = (0..3)
        .map(|_| (0..40).map(|_| g.normal()).collect())
        .collect();
    let train = blobs(&mut g, &centres, 10);
    let test = blobs(&mut g, &centres, 5);
    let x: Vec<&[f32]> = train.iter().map(|(f, _)| f.as_slice()).collect();
    let y: Vec<usize> = train.iter().map(|(_, l)| *l).collect();
    let model = Classifier::fit(&x, &y, &ClassifierConfig::default()).unwrap();
    // Hand-computed training mean and population std of dimension 3.
    let n = x.len() as f64;
    let mean = x.iter().map(|r| f64::from(r[3])).sum::<f64>() / n;
    let std = (x
        .iter()
        .map(|r| (f64::from(r[3]) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!((model.scaler().mean[3] - mean).abs() < 1e-9 * mean.abs().max(1.0));
    assert!((model.scaler().scale[3] - std).abs() < 1e-9 * std);
    // sklearn's gamma='scale' on standardised data: 1 / (40 * var) = 1/40.
    assert!(
        (model.gamma() - 1.0 / 40.0).abs() < 1e-9,
        "{}",
        model.gamma()
    );
    // Poisoning the test set (huge outliers added) changes nothing for the other rows.
    let clean = classic::evaluate(&train, &test).unwrap();
    let mut poisoned = test.clone();
    poisoned.push((vec![1e9; 40], 0));
    poisoned.push((vec![-1e9; 40], 1));
    let dirty = classic::evaluate(&train, &poisoned).unwrap();
    assert_eq!(dirty.predictions[..test.len()], clean.predictions[..]);
}

#[test]
fn errors_name_the_problem() {
    let row = |v: f32| (vec![v; 4], 0usize);
    assert_eq!(
        classic::evaluate(&[], &[row(1.0)]).unwrap_err(),
        ClassicError::EmptyTrainingSet
    );
    let train = vec![(vec![0.0; 4], 0), (vec![1.0; 4], 1), (vec![0.5; 3], 1)];
    assert_eq!(
        classic::evaluate(&train, &[]).unwrap_err(),
        ClassicError::DimMismatch {
            row: 2,
            expected: 4,
            got: 3
        }
    );
    let train = vec![(vec![0.0; 4], 0), (vec![1.0, f32::NAN, 0.0, 0.0], 1)];
    assert_eq!(
        classic::evaluate(&train, &[]).unwrap_err(),
        ClassicError::NonFiniteFeature { row: 1, col: 1 }
    );
    let train = vec![(vec![0.0; 4], 2), (vec![1.0; 4], 2)];
    assert_eq!(
        classic::evaluate(&train, &[]).unwrap_err(),
        ClassicError::TooFewClasses { found: 1 }
    );
    let train = vec![(vec![0.0; 4], 0), (vec![1.0; 4], 1)];
    assert_eq!(
        classic::evaluate(&train, &[(vec![0.0; 5], 0)]).unwrap_err(),
        ClassicError::DimMismatch {
            row: 0,
            expected: 4,
            got: 5
        }
    );
    assert!(matches!(
        TrackFeatures::from_samples(&FrontendConfig::DEFAULT, &[]),
        Err(ClassicError::Frontend(_))
    ));
}

/// 3-fold cross-validation on the dev clips, stratified by genre and by track:
/// the p-th track (sorted by name) of each genre is a test track in fold p % 3.
/// Prints our per-fold accuracy and, when python3 has scikit-learn and librosa,
/// sklearn's SVC on our features and on librosa's features, same folds.
#[test]
fn dev_clips_cross_validation() {
    let Some(root) = std::env::var_os("GTZAN_DEV_DIR").map(PathBuf::from) else {
        println!("skipped: GTZAN_DEV_DIR is not set");
        return;
    };
    let tracks = dev_tracks(&root);
    let start = Instant::now();
    let cfg = FrontendConfig::DEFAULT;
    let features: Vec<Vec<f32>> = tracks
        .iter()
        .map(|(_, p)| {
            let y = trainer::base::audio::load_mono(p, 22050).unwrap();
            TrackFeatures::from_samples(&cfg, &y).unwrap().to_vec()
        })
        .collect();
    let t_features = start.elapsed();
    let mut folds = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (g, _) in &tracks {
        let p = seen.entry(*g).or_insert(0usize);
        folds.push(*p % 3);
        *p += 1;
    }
    let start = Instant::now();
    let mut ours = vec![usize::MAX; tracks.len()];
    let mut accs = Vec::new();
    for f in 0..3 {
        let split = |test: bool| -> Vec<(Vec<f32>, usize)> {
            (0..tracks.len())
                .filter(|&i| (folds[i] == f) == test)
                .map(|i| (features[i].clone(), tracks[i].0))
                .collect()
        };
        let r = classic::evaluate(&split(false), &split(true)).unwrap();
        let test_idx: Vec<usize> = (0..tracks.len()).filter(|&i| folds[i] == f).collect();
        for (&i, &p) in test_idx.iter().zip(&r.predictions) {
            ours[i] = p;
        }
        println!(
            "fold {f}: {} train, {} test tracks, accuracy {:.3}",
            tracks.len() - test_idx.len(),
            test_idx.len(),
            r.track_accuracy
        );
        accs.push(r.track_accuracy);
    }
    let mean = accs.iter().sum::<f64>() / 3.0;
    println!(
        "ours: mean track accuracy {mean:.3} ({} tracks; features {:.1} s, 3 folds fit+predict {:.3} s)",
        tracks.len(),
        t_features.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let n_genres = tracks.iter().map(|(g, _)| g + 1).max().unwrap_or(1);
    assert!(
        mean > 3.0 / n_genres as f64,
        "mean accuracy {mean} not well above chance {}",
        1.0 / n_genres as f64
    );

    if dev_dir_and_python("sklearn, librosa").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flat: Vec<f32> = features.iter().flatten().copied().collect();
    trainer::base::npy::write_f32(&dir.path().join("features.npy"), &[tracks.len(), 40], &flat)
        .unwrap();
    let cv = serde_json::json!({
        "labels": tracks.iter().map(|(g, _)| *g).collect::<Vec<_>>(),
        "folds": folds,
        "paths": tracks.iter().map(|(_, p)| p.display().to_string()).collect::<Vec<_>>(),
    });
    std::fs::write(dir.path().join("cv.json"), cv.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(repo_root().join("tools/reference/classic_svm.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accs_of = |k: &str| -> Vec<f64> {
        v[k]["acc"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .collect()
    };
    let sk: Vec<usize> = v["ours"]["pred"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as usize)
        .collect();
    let agree = ours.iter().zip(&sk).filter(|(a, b)| a == b).count();
    let (sk_ours, sk_librosa) = (accs_of("ours"), accs_of("librosa"));
    let mean_of = |a: &[f64]| a.iter().sum::<f64>() / a.len() as f64;
    println!(
        "sklearn SVC on our features: folds {sk_ours:?}, mean {:.3}",
        mean_of(&sk_ours)
    );
    println!(
        "sklearn SVC on librosa's features: folds {sk_librosa:?}, mean {:.3}",
        mean_of(&sk_librosa)
    );
    println!(
        "our features vs librosa's: max abs error {:.3e}, max relative {:.3e}",
        v["max_feature_abs_err"].as_f64().unwrap(),
        v["max_feature_rel_err"].as_f64().unwrap()
    );
    println!(
        "ours vs sklearn (same features, same folds): {agree}/{} predictions agree",
        ours.len()
    );
    // Same features, same C/gamma/tol, both SMO solvers: the predictions may only
    // differ on near-ties of the one-vs-one vote.
    assert!(agree * 10 >= ours.len() * 9, "{agree}/{} agree", ours.len());
}
