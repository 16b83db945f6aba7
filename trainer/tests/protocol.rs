//! The evaluation protocol: nothing that shapes the shipped model reads the test split. Two runs
//! of `--select best-valid` and int8 export on the same tracks, the second with every test clip
//! replaced by loud noise ("poisoned"): every per-epoch figure, the selected epoch, its
//! checkpoint and the exported models are byte-identical, while the final report's test figures
//! differ (the poison did reach the test split). `epochs.csv` has no test column: the test split
//! is read once, for the final report. Normalisation, model selection and calibration all read
//! training or validation data.

use std::fs;
use std::path::Path;
use std::process::Command;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use trainer::base::audio::{WavData, load_mono_native, to_pcm16, write_wav_mono};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn trainer(cache: &Path, args: &[&str]) -> String {
    let o = Command::new(BIN)
        .args(args)
        .env("TINYGENRE_CACHE", cache)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "trainer {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Train with validation-based selection, export f32 and int8; returns (f32, int8) bytes.
fn train_and_export(root: &Path, run: &Path, cache: &Path) -> (Vec<u8>, Vec<u8>) {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let log = trainer(
        cache,
        &[
            "run",
            "--data",
            &s(root),
            "--split",
            "random:0.34",
            "--select",
            "best-valid",
            "--epochs",
            "3",
            "--batch",
            "8",
            "--seed",
            "3",
            "--out",
            &s(run),
        ],
    );
    assert!(log.contains("select: epoch "), "{log}");
    // the run's closing summary: against chance and the classic baseline on the same tracks,
    // where the confusion matrix is, what to run next
    assert!(log.contains("chance 0.100"), "{log}");
    assert!(
        log.contains("classic baseline (MFCC + SVM) on the same tracks"),
        "{log}"
    );
    assert!(
        log.contains("confusion_tracks.png") && log.contains("next: trainer export"),
        "{log}"
    );
    let png = fs::read(run.join("confusion_tracks.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let classic: serde_json::Value =
        serde_json::from_slice(&fs::read(run.join("classic.json")).unwrap()).unwrap();
    let test_list = fs::read_to_string(run.join("split/test.txt")).unwrap();
    assert_eq!(
        classic["test"].as_array().unwrap().len(),
        test_list.lines().count()
    );
    let f32p = run.join("f32.postcard");
    let i8p = run.join("int8.postcard");
    trainer(cache, &["export", "--run", &s(run), "--out", &s(&f32p)]);
    trainer(
        cache,
        &[
            "export",
            "--run",
            &s(run),
            "--int8",
            "--calibrate",
            "16",
            "--out",
            &s(&i8p),
        ],
    );
    (fs::read(f32p).unwrap(), fs::read(i8p).unwrap())
}

fn column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("{name}: {csv}"));
    lines
        .map(|l| l.split(',').nth(i).unwrap().to_string())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn poisoning_the_test_split_leaves_the_exported_model_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    trainer::data::synth::generate(&clean, 4, 3.5, 23).unwrap();
    let cache = tmp.path().join("cache");
    // (the same run directory name: the exported model carries it)
    let run_a = tmp.path().join("a").join("run");
    let (f32_a, int8_a) = train_and_export(&clean, &run_a, &cache);

    // the same tracks, each test clip replaced by full-scale uniform noise
    let poisoned = tmp.path().join("poisoned");
    copy_dir(&clean, &poisoned);
    let test = fs::read_to_string(run_a.join("split/test.txt")).unwrap();
    let test: Vec<&str> = test.lines().filter(|l| !l.is_empty()).collect();
    let valid = fs::read_to_string(run_a.join("split/valid.txt")).unwrap();
    assert_eq!(test.len(), 10, "one test track per genre");
    assert_eq!(valid.lines().filter(|l| !l.is_empty()).count(), 10);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    for t in &test {
        let p = poisoned.join("genres").join(t);
        let (y, sr) = load_mono_native(&p).unwrap();
        let noise: Vec<f32> = y.iter().map(|_| rng.random_range(-0.99f32..0.99)).collect();
        write_wav_mono(&p, WavData::Pcm16(&to_pcm16(&noise)), sr).unwrap();
    }
    let run_b = tmp.path().join("b").join("run");
    let (f32_b, int8_b) = train_and_export(&poisoned, &run_b, &cache);

    let m = |r: &Path| -> serde_json::Value {
        serde_json::from_slice(&fs::read(r.join("metrics.json")).unwrap()).unwrap()
    };
    // the poison reached the test split, which only the final report reads...
    assert_ne!(
        m(&run_a)["confusion_segments"],
        m(&run_b)["confusion_segments"]
    );
    let csv_a = fs::read_to_string(run_a.join("epochs.csv")).unwrap();
    let csv_b = fs::read_to_string(run_b.join("epochs.csv")).unwrap();
    assert_eq!(
        csv_a.lines().next(),
        Some("epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds"),
        "epochs.csv has training and validation columns only"
    );
    // ...and nothing else: the same split, curves, selected epoch and exported bytes
    for f in ["split/train.txt", "split/valid.txt", "split/test.txt"] {
        assert_eq!(
            fs::read(run_a.join(f)).unwrap(),
            fs::read(run_b.join(f)).unwrap(),
            "{f}"
        );
    }
    for c in [
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_accuracy",
    ] {
        assert_eq!(column(&csv_a, c), column(&csv_b, c), "{c}");
    }
    // the selected epoch is the one of lowest validation loss
    let losses: Vec<f64> = column(&csv_a, "valid_loss")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    let argmin = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    assert_eq!(
        m(&run_a)["selected_epoch"].as_u64(),
        Some(argmin as u64 + 1),
        "{csv_a}"
    );
    assert_eq!(m(&run_a)["selected_epoch"], m(&run_b)["selected_epoch"]);
    // the selected checkpoint exists in both runs; its weights are compared through the f32
    // export below, which writes them bit for bit (the .bpk files themselves also hold Burn's
    // parameter ids, which are not seeded)
    let selected = m(&run_a)["selected_epoch"].as_u64().unwrap();
    for r in [&run_a, &run_b] {
        assert!(
            r.join(format!("checkpoints/best.{selected}.bpk")).exists(),
            "{}",
            r.display()
        );
    }
    assert!(
        f32_a == f32_b,
        "the selected checkpoint or the f32 export read the test split"
    );
    assert!(int8_a == int8_b, "int8 calibration read the test split");
}
