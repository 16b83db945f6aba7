//! The distillation teacher: tract-onnx against onnxruntime's reference outputs of the tiny test
//! teacher (tests/fixtures/teacher, made by tools/teacher/tiny_teacher.py), typed errors for
//! every broken teacher file, and distilled runs end to end on a small synthetic set.
//!
//! Needs the `teacher` feature (`required-features` in Cargo.toml); `cargo test --workspace`,
//! the README's test command, turns it on through the tests crate.

use std::path::{Path, PathBuf};
use std::process::Command;

use trainer::base::npy::read_f32;
use trainer::teacher::{Teacher, TeacherError, sha256_hex};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/teacher")
}

fn tiny() -> PathBuf {
    fixtures().join("tiny-teacher.onnx")
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tiny_teacher_matches_onnxruntime() {
    let t = Teacher::load(&tiny(), None).unwrap();
    let info = t.info();
    assert_eq!(
        (info.sample_rate, info.window_samples, info.embedding_dim),
        (8000, 2400, 8)
    );
    assert_eq!(info.class_names[0], "Blues");
    assert_eq!(info.class_names.len(), 6);
    let mut worst = (0f32, 0f32);
    for suffix in ["", "2"] {
        let (_, x) = read_f32(&fixtures().join(format!("tiny-input{suffix}.npy"))).unwrap();
        let (_, l) = read_f32(&fixtures().join(format!("tiny-logits{suffix}.npy"))).unwrap();
        let (_, e) = read_f32(&fixtures().join(format!("tiny-embedding{suffix}.npy"))).unwrap();
        let out = t.infer(&x).unwrap();
        let (dl, de) = (max_abs(&out.logits, &l), max_abs(&out.embedding, &e));
        worst = (worst.0.max(dl), worst.1.max(de));
        assert!(
            dl < 1e-5 && de < 1e-5,
            "input{suffix}: logits {dl:e}, embedding {de:e}"
        );
    }
    println!(
        "tract vs onnxruntime, tiny teacher: max abs diff logits {:e}, embedding {:e}",
        worst.0, worst.1
    );
    // Longer audio is cut into evenly spread windows whose outputs are averaged: a signal made of
    // the two reference windows back to back gives the mean of their outputs.
    let (_, a) = read_f32(&fixtures().join("tiny-input.npy")).unwrap();
    let (_, b) = read_f32(&fixtures().join("tiny-input2.npy")).unwrap();
    let (_, la) = read_f32(&fixtures().join("tiny-logits.npy")).unwrap();
    let (_, lb) = read_f32(&fixtures().join("tiny-logits2.npy")).unwrap();
    let both: Vec<f32> = a.iter().chain(&b).copied().collect();
    let out = t.infer(&both).unwrap();
    let mean: Vec<f32> = la.iter().zip(&lb).map(|(x, y)| (x + y) / 2.0).collect();
    assert!(max_abs(&out.logits, &mean) < 1e-5);
}

#[test]
fn broken_teacher_files_are_typed_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let err = |p: &Path| Teacher::load(p, None).unwrap_err();

    let missing = tmp.path().join("nope.onnx");
    let e = err(&missing);
    assert!(matches!(e, TeacherError::Io { .. }), "{e}");
    assert!(e.to_string().contains("nope.onnx"), "{e}");

    let bytes = std::fs::read(tiny()).unwrap();
    let truncated = tmp.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = err(&truncated);
    assert!(matches!(e, TeacherError::NotOnnx { .. }), "{e}");
    assert!(e.to_string().contains("truncated.onnx"), "{e}");

    let text = tmp.path().join("notes.onnx");
    std::fs::write(&text, "this is not a model\n").unwrap();
    let e = err(&text);
    assert!(
        matches!(
            e,
            TeacherError::NotOnnx { .. } | TeacherError::Contract { .. }
        ),
        "{e}"
    );

    let e = err(&fixtures().join("broken-no-metadata.onnx"));
    assert!(matches!(e, TeacherError::Contract { .. }), "{e}");
    assert!(e.to_string().contains("tinygenre.teacher"), "{e}");

    let e = err(&fixtures().join("broken-output-name.onnx"));
    assert!(matches!(e, TeacherError::Contract { .. }), "{e}");
    assert!(e.to_string().contains("logits"), "{e}");

    let e = err(&fixtures().join("broken-class-count.onnx"));
    assert!(matches!(e, TeacherError::Contract { .. }), "{e}");
    assert!(e.to_string().contains("5 classes"), "{e}");

    let e = Teacher::load(&tiny(), Some(&"0".repeat(64))).unwrap_err();
    assert!(matches!(e, TeacherError::HashMismatch { .. }), "{e}");
    let good = sha256_hex(&bytes);
    Teacher::load(&tiny(), Some(&good)).unwrap();
}

/// A small synthetic set: 10 genres, 2 tracks each, 3.5 s (one 3 s segment per track).
fn synth(dir: &Path) -> PathBuf {
    let root = dir.join("data");
    trainer::data::synth::generate(&root, 2, 3.5, 13).unwrap();
    root
}

fn run(args: &[&str], data: &Path, out: &Path, cache: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(["run", "--data"])
        .arg(data)
        .args(args)
        .arg("--out")
        .arg(out)
        .env("TINYGENRE_CACHE", cache)
        .output()
        .unwrap()
}

#[test]
fn distilled_runs_train_report_the_teacher_and_reuse_its_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let data = synth(tmp.path());
    let cache = tmp.path().join("cache");
    let teacher = tiny();
    let t = teacher.to_str().unwrap();
    let online = [
        "--teacher",
        t,
        "--teacher-head",
        "probe",
        "--aug",
        "timeshift:max=0.5",
        "--aug-mode",
        "online",
        "--epochs",
        "2",
        "--batch",
        "4",
    ];
    let o = run(&online, &data, &tmp.path().join("a"), &cache);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    // the originals once, then each epoch's own draw, then the test tracks for the report
    assert!(
        log.contains("teacher: training tracks: 10 tracks (10 computed"),
        "{log}"
    );
    assert!(
        log.contains("teacher: epoch 1 draw: 10 tracks (10 computed"),
        "{log}"
    );
    assert!(
        log.contains("teacher: epoch 2 draw: 10 tracks (10 computed"),
        "{log}"
    );
    assert!(
        log.contains("teacher: test tracks (final report): 10 tracks"),
        "{log}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("a/teacher.json")).unwrap()).unwrap();
    assert_eq!(report["info"]["name"], "tiny-test-teacher");
    let heads: Vec<&str> = report["test"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["head"].as_str().unwrap())
        .collect();
    // the synthetic genres have no class among the tiny teacher's six: no zero-shot row
    assert_eq!(heads, ["probe"]);
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("a/config.json")).unwrap()).unwrap();
    assert_eq!(
        cfg["run"]["distil"]["teacher_sha256"],
        sha256_hex(&std::fs::read(&teacher).unwrap())
    );

    // The same run again: every teacher output comes from the cache.
    let o = run(&online, &data, &tmp.path().join("b"), &cache);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("teacher: epoch 2 draw: 10 tracks (0 computed, 10 from cache)"),
        "{log}"
    );
    let epochs = |d: &str| std::fs::read_to_string(tmp.path().join(d).join("epochs.csv")).unwrap();
    let strip = |s: String| -> Vec<String> {
        // drop the wall-time column
        s.lines()
            .map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string())
            .collect()
    };
    assert_eq!(
        strip(epochs("a")),
        strip(epochs("b")),
        "cached targets changed the run"
    );

    // Offline copies and mixup: the teacher's targets follow the copies and are mixed.
    let o = run(
        &[
            "--teacher",
            t,
            "--aug",
            "noise:sigma=0.01,mixup:alpha=0.2",
            "--epochs",
            "1",
            "--batch",
            "4",
            "--distil-alpha",
            "1",
        ],
        &data,
        &tmp.path().join("c"),
        &cache,
    );
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("teacher: offline copy 1: 10 tracks"), "{log}");

    // Unlabelled music joins training with teacher targets only; a corrupt file is skipped with
    // a warning that names it.
    let unl = tmp.path().join("unlabelled");
    std::fs::create_dir_all(unl.join("album")).unwrap();
    std::fs::copy(
        data.join("genres/rock/rock.00000.wav"),
        unl.join("album/song.wav"),
    )
    .unwrap();
    std::fs::write(
        unl.join("album/broken.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunk",
    )
    .unwrap();
    let o = run(
        &[
            "--teacher",
            t,
            "--unlabelled",
            unl.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch",
            "4",
        ],
        &data,
        &tmp.path().join("e"),
        &cache,
    );
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("broken.wav"), "{log}");
    assert!(
        log.contains("teacher: unlabelled tracks: 1 tracks"),
        "{log}"
    );

    // Every network learns from the teacher: resnet18 on the same segments, arbitrary on whole
    // tracks (the teacher averages its windows over the track).
    for model in ["resnet18", "arbitrary"] {
        let o = run(
            &[
                "--teacher",
                t,
                "--model",
                model,
                "--epochs",
                "1",
                "--batch",
                "4",
            ],
            &data,
            &tmp.path().join(model),
            &cache,
        );
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{model}: {log}");
        assert!(
            tmp.path().join(model).join("teacher.json").exists(),
            "{model}"
        );
    }

    // The shipping path: every track trains (`--split all`, no test split), then int8 export.
    let o = run(
        &[
            "--teacher",
            t,
            "--split",
            "all",
            "--epochs",
            "1",
            "--batch",
            "4",
        ],
        &data,
        &tmp.path().join("d"),
        &cache,
    );
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("teacher: training tracks: 20 tracks"), "{log}");
    assert!(!tmp.path().join("d/metrics.json").exists());
    let model = tmp.path().join("d/model-int8.postcard");
    let o = Command::new(BIN)
        .args(["export", "--int8", "--calibrate", "10", "--run"])
        .arg(tmp.path().join("d"))
        .arg("--out")
        .arg(&model)
        .env("TINYGENRE_CACHE", &cache)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&model).unwrap();
    infer_core::model::Model::from_bytes(&bytes).unwrap();
}

#[test]
fn distillation_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = synth(tmp.path());
    let cache = tmp.path().join("cache");
    let t = tiny();
    let t = t.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--teacher-head", "probe"], "need --teacher"),
        (&["--preset", "distil"], "--preset distil needs --teacher"),
        (&["--teacher", t, "--distil-alpha", "1.5"], "--distil-alpha"),
        (&["--teacher", t, "--distil-t", "0"], "--distil-t"),
        (
            &["--teacher", "/nonexistent/teacher.onnx"],
            "/nonexistent/teacher.onnx",
        ),
        (
            &["--teacher", t, "--teacher-sha256", "abc"],
            "is not the expected abc",
        ),
        // the synthetic set's genres are not among the tiny teacher's classes
        (
            &[
                "--teacher",
                t,
                "--teacher-head",
                "zero-shot",
                "--epochs",
                "1",
            ],
            "not one of the teacher's 6 classes",
        ),
        (
            &[
                "--teacher",
                t,
                "--teacher-head",
                "zero-shot",
                "--teacher-map",
                "blues=Jazzz",
            ],
            "Jazzz",
        ),
        (&["--unlabelled", "/tmp"], "need --teacher FILE"),
    ];
    // --unlabelled: a folder with no audio is refused by name
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    std::fs::write(empty.join("sub/notes.txt"), "no audio here").unwrap();
    let o = run(
        &[
            "--teacher",
            t,
            "--unlabelled",
            empty.to_str().unwrap(),
            "--epochs",
            "1",
        ],
        &data,
        &tmp.path().join("u0"),
        &cache,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("no audio files (.wav, .au) in it") && err.contains("empty"),
        "{err}"
    );
    for (i, (args, want)) in cases.iter().enumerate() {
        let o = run(args, &data, &tmp.path().join(format!("r{i}")), &cache);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
