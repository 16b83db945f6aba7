//! A run SIGKILLed during its second epoch and resumed reaches exactly the metrics of an
//! uninterrupted run (same seed, CPU), and `--resume` refuses a different configuration.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");
// 4 classes x 12 tracks x 4 segments of 32x32: about a second per epoch on one core.
const TOY: &str = "4:12:4:32:32";

fn args(out: &Path) -> Vec<String> {
    [
        "run", "--toy", TOY, "--epochs", "3", "--batch", "16", "--seed", "7", "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn run_ok(args: &[String]) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("spawn trainer");
    assert!(
        out.status.success(),
        "trainer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `epochs.csv` without the wall-time column.
fn rows(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("epochs.csv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|l| {
            l.rsplit_once(',')
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        })
        .collect()
}

fn metrics(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).expect("metrics.json"))
            .unwrap();
    v.as_object_mut().unwrap().remove("seconds");
    v
}

#[test]
fn sigkill_in_epoch_two_then_resume_matches_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let killed = tmp.path().join("killed");

    run_ok(&args(&whole));
    assert_eq!(rows(&whole).len(), 3);

    let mut child = Command::new(BIN)
        .args(args(&killed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn trainer");
    let t0 = Instant::now();
    // epoch 1 is complete once its row is in epochs.csv (written after the checkpoint)
    while rows(&killed).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "epoch 1 never finished"
        );
        assert!(child.try_wait().unwrap().is_none(), "trainer exited early");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(200)); // well inside epoch 2
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(rows(&killed).len(), 1, "the kill did not land in epoch 2");
    assert!(!killed.join("metrics.json").exists());

    let mut resume = args(&killed);
    resume.push("--resume".into());
    run_ok(&resume);

    assert_eq!(
        rows(&killed),
        rows(&whole),
        "per-epoch losses/accuracies differ after resuming"
    );
    assert_eq!(metrics(&killed), metrics(&whole));
}

#[test]
fn resume_refuses_a_different_configuration_and_fresh_run_refuses_existing_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let mut a = args(&dir);
    a[4] = "1".into(); // --epochs 1
    run_ok(&a);

    let again = Command::new(BIN).args(&a).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));

    let mut other = a.clone();
    other[8] = "8".into(); // --seed 8
    other.push("--resume".into());
    let out = Command::new(BIN).args(&other).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("different configuration") && err.contains("\"seed\":7"),
        "{err}"
    );
}

#[test]
fn load_baseline_reads_the_trained_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let mut a = args(&dir);
    a[4] = "1".into(); // --epochs 1
    run_ok(&a);
    let (cfg, plain) = trainer::run::checkpoint::load_baseline(&dir).unwrap();
    assert_eq!(cfg.seed, 7);
    assert_eq!(plain.convs.len(), 5);
    assert_eq!((plain.dense.out_features, plain.dense.in_features), (4, 8));
    // the checkpoint's Burn model and the plain copy agree on a test example
    let file = trainer::run::config::RunFile::read(&dir).unwrap();
    let device = burn::tensor::Device::flex();
    let model = trainer::run::checkpoint::load_model(&dir, &file, &device).unwrap();
    let data = trainer::run::loader::prepare(&cfg).unwrap();
    let pred = trainer::evaluate::inference::predict(
        &model,
        &data.test,
        32,
        file.normalisation(),
        8,
        &device,
    )
    .unwrap();
    let logits = plain.forward(&data.test.get(0).unwrap());
    let max = logits.iter().cloned().fold(f32::MIN, f32::max);
    let z: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    for (p, l) in pred.probs[0].iter().zip(&logits) {
        assert!((p - (l - max).exp() / z).abs() < 1e-5);
    }
}
