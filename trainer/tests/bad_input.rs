//! Bad input, as a user would give it: every row of the closing note's table is a test here. Each
//! runs the `trainer` binary on one bad input and checks that it exits non-zero (not by a signal:
//! no abort), that stderr names the file and the problem, that nothing panicked, and that no
//! half-written file is left behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/genre-int8.postcard")
}

fn trainer(args: &[&str], cache: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TINYGENRE_CACHE", cache)
        .output()
        .unwrap()
}

/// The checks every row shares; returns stderr.
fn refused(o: &Output, names: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(1),
        "exit status {:?}: {err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{err}");
    let lower = err.to_lowercase();
    for n in names {
        assert!(lower.contains(&n.to_lowercase()), "{n:?} not in: {err}");
    }
    err
}

/// No temporary or partial file anywhere under `dir`.
fn nothing_half_written(dir: &Path) {
    for e in walk(dir) {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.starts_with(".tmp") && !name.contains(".tmp") && !name.ends_with(".partial"),
            "half-written file left: {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A canonical 44-byte-header PCM WAV: `fmt` tag, channels, rate, bits, the data size the
/// header states, and the data bytes the file actually holds.
fn wav(tag: u16, channels: u16, rate: u32, bits: u16, stated: u32, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&36u32.wrapping_add(stated).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&stated.to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// A Sun .au header (PCM-16 big-endian, mono) stating `stated` data bytes, then `data`.
fn au(rate: u32, stated: u32, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b".snd");
    for v in [24u32, stated, 3, rate, 1] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// `classify FILE --model genre-int8.postcard` on `bytes` written as `name`; returns stderr.
fn classify_bytes(name: &str, bytes: &[u8], problem: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(name);
    fs::write(&p, bytes).unwrap();
    let m = model();
    let o = trainer(
        &[
            "classify",
            p.to_str().unwrap(),
            "--model",
            m.to_str().unwrap(),
        ],
        &tmp.path().join("cache"),
    );
    let mut names = vec![name];
    names.extend_from_slice(problem);
    refused(&o, &names)
}

#[test]
fn missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("missing.wav");
    let m = model();
    let o = trainer(
        &[
            "classify",
            p.to_str().unwrap(),
            "--model",
            m.to_str().unwrap(),
        ],
        tmp.path(),
    );
    refused(&o, &["missing.wav", "no such file"]);
}

#[test]
fn empty_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("empty");
    fs::create_dir(&data).unwrap();
    let out = tmp.path().join("run");
    let o = trainer(
        &[
            "run",
            "--data",
            data.to_str().unwrap(),
            "--epochs",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &tmp.path().join("cache"),
    );
    refused(&o, &["empty", "genre"]);
    nothing_half_written(tmp.path());
}

#[test]
fn text_named_wav() {
    classify_bytes("notes.wav", b"just some text, not audio\n", &["RIFF"]);
}

#[test]
fn truncated_wav() {
    // the header promises 30 s of 16-bit mono at 22050 Hz; the file holds 10 s
    let data = vec![0u8; 22_050 * 2 * 10];
    let b = wav(1, 1, 22_050, 16, 22_050 * 2 * 30, &data);
    classify_bytes("truncated.wav", &b, &["truncated", "30.0", "10.0"]);
}

#[test]
fn lying_wav() {
    // a data chunk that says 4 GB in a 1 KB file
    let b = wav(1, 1, 22_050, 16, 0xFFFF_FFF0, &[0u8; 1000]);
    classify_bytes("lying.wav", &b, &["truncated"]);
}

#[test]
fn float64_wav() {
    let data = vec![0u8; 22_050 * 8];
    let b = wav(3, 1, 22_050, 64, data.len() as u32, &data);
    classify_bytes("f64.wav", &b, &["float", "64"]);
}

#[test]
fn one_hertz_wav_is_refused_before_any_allocation() {
    // 400 KB of samples at 1 Hz: 200 000 s, resampled to 22050 Hz it would be 35 GB
    let data = vec![0u8; 400_000];
    let b = wav(1, 1, 1, 16, data.len() as u32, &data);
    classify_bytes("one-hertz.wav", &b, &["1 Hz", "8000"]);
}

#[test]
fn truncated_au() {
    // the header promises 30 s of PCM-16 at 22050 Hz; the file holds 10 s
    let data = vec![0u8; 22_050 * 2 * 10];
    let b = au(22_050, 22_050 * 2 * 30, &data);
    classify_bytes("truncated.au", &b, &["truncated", "30.0", "10.0"]);
}

#[test]
fn zero_byte_au() {
    classify_bytes("empty.au", b"", &["header"]);
}

/// The arguments of a tiny run of the toy set, three epochs (a second or two), into `dir`.
const TOY_RUN: [&str; 9] = [
    "run",
    "--toy",
    "4:12:4:32:32",
    "--epochs",
    "3",
    "--batch",
    "16",
    "--seed",
    "7",
];

/// The toy run into `dir` (with `extra` arguments); returns its output.
fn toy_run(dir: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args = TOY_RUN.to_vec();
    args.extend_from_slice(extra);
    args.extend(["--out", dir.to_str().unwrap()]);
    trainer(&args, cache)
}

fn flip(path: &Path, at: usize, n: usize) {
    let mut b = fs::read(path).unwrap();
    let at = at.min(b.len() - n);
    for x in &mut b[at..at + n] {
        *x ^= 0x5A;
    }
    fs::write(path, b).unwrap();
}

#[test]
fn flipped_checkpoint_bytes_are_refused_by_export_and_resume_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (whole, damaged) = (tmp.path().join("whole"), tmp.path().join("damaged"));
    for d in [&whole, &damaged] {
        let o = toy_run(d, &cache, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let bpk = damaged.join("checkpoints/model.bpk");
    let len = fs::metadata(&bpk).unwrap().len() as usize;
    flip(&bpk, len / 2, 64);

    // export refuses the damaged network instead of sealing it under a fresh checksum
    let out = damaged.join("model.postcard");
    let o = trainer(
        &[
            "export",
            "--run",
            damaged.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &cache,
    );
    refused(&o, &["model.bpk", "damaged checkpoint", "state.json"]);
    assert!(
        !out.exists(),
        "a model was exported from a damaged checkpoint"
    );
    nothing_half_written(&damaged);

    // --resume falls back to the previous epoch's checkpoint, with a warning, and retrains the
    // last epoch to exactly the uninterrupted run's result
    let o = toy_run(&damaged, &cache, &["--resume"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("damaged checkpoint")
            && err.contains("falling back to the checkpoint of epoch 2"),
        "{err}"
    );
    let rows = |d: &Path| -> Vec<String> {
        fs::read_to_string(d.join("epochs.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(rows(&whole), rows(&damaged));
    let metrics = |d: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join("metrics.json")).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    assert_eq!(metrics(&whole), metrics(&damaged));
}

#[test]
fn flipped_and_truncated_postcard_models() {
    let tmp = tempfile::tempdir().unwrap();
    let song = tmp.path().join("song.wav");
    fs::write(
        &song,
        wav(1, 1, 22_050, 16, 22_050 * 8, &vec![0u8; 22_050 * 8]),
    )
    .unwrap();
    let bytes = fs::read(model()).unwrap();
    for (name, b) in [
        ("flipped.postcard", {
            let mut b = bytes.clone();
            let mid = b.len() / 2;
            for x in &mut b[mid..mid + 16] {
                *x ^= 0xFF;
            }
            b
        }),
        ("truncated.postcard", bytes[..bytes.len() / 3].to_vec()),
    ] {
        let p = tmp.path().join(name);
        fs::write(&p, b).unwrap();
        let o = trainer(
            &[
                "classify",
                song.to_str().unwrap(),
                "--model",
                p.to_str().unwrap(),
            ],
            tmp.path(),
        );
        refused(&o, &[name]);
    }
}

#[test]
fn negative_learning_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = toy_run(&out, tmp.path(), &["--lr", "-1"]);
    refused(&o, &["--lr", "-1"]);
    assert!(!out.exists(), "a run folder was started");
}

#[test]
fn a_16khz_model_is_refused_by_the_segment_cross_check_before_any_build() {
    let tmp = tempfile::tempdir().unwrap();
    let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tiny16k-int8.postcard");
    let out = tmp.path().join("report.json");
    let o = trainer(
        &[
            "crosscheck",
            "--model",
            m.to_str().unwrap(),
            "--synthetic",
            "--clips",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    refused(
        &o,
        &["tiny16k-int8.postcard", "16000 Hz model", "use --stream"],
    );
    assert!(!out.exists());
}
