//! The firmware under QEMU (Cortex-M4F, mps2-an386) against infer-core on the
//! host, and the firmware's handling of bad input (reported error, non-zero
//! exit, never a hang).
//!
//! Needs `qemu-system-arm` (Debian package `qemu-system-arm`) and the
//! `thumbv7em-none-eabihf` target. Without QEMU the tests skip with a printed
//! reason, except under CI (`CI` set), where they fail.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use trainer::crosscheck::device::{self, ClipEntry, DeviceError};
use trainer::crosscheck::{self, LabeledClip, Options, SEGMENT_SAMPLES};

/// True when QEMU is there; false (after printing why) when the test should skip.
fn qemu_or_skip() -> bool {
    let found = std::process::Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("qemu-system-arm is missing and CI is set: install Debian's qemu-system-arm");
    }
    eprintln!("skipping: qemu-system-arm not found (apt-get install qemu-system-arm)");
    false
}

/// The firmware ELF without a model, built once for the bad-input tests.
fn firmware_front_end_only() -> &'static PathBuf {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| {
        device::build_firmware(&Options::default().firmware_dir, None).expect("firmware builds")
    })
}

/// Deterministic test audio: a few partials plus white noise, 16-bit.
fn clip(seed: u64, seconds: f32) -> Vec<i16> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n = (seconds * crosscheck::SAMPLE_RATE as f32) as usize;
    let f0 = 80.0 + 40.0 * seed as f32;
    (0..n)
        .map(|i| {
            let t = i as f32 / crosscheck::SAMPLE_RATE as f32;
            let tone: f32 = (1..6)
                .map(|k| (2.0 * std::f32::consts::PI * f0 * k as f32 * t).sin() / k as f32)
                .sum();
            let noise: f32 = rng.random_range(-1.0..1.0);
            ((0.3 * tone + 0.05 * noise) * 12000.0).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn run_bad(entries: &[ClipEntry], files: &[(&str, Vec<u8>)]) -> DeviceError {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    device::write_clip_list(dir.path(), entries).unwrap();
    let elf = firmware_front_end_only();
    match device::run_device(elf, dir.path(), Duration::from_secs(60)) {
        Ok(out) => panic!("bad input accepted: {} segments", out.segments.len()),
        Err(e) => e,
    }
}

fn assert_input_error(e: DeviceError, needle: &str) {
    match e {
        DeviceError::Failed { code, message } => {
            assert_eq!(code, 2, "exit status for bad input ({message})");
            assert!(
                message.contains(needle),
                "message {message:?} lacks {needle:?}"
            );
        }
        other => panic!("expected a reported input error, got {other}"),
    }
}

fn pcm(samples: usize) -> Vec<u8> {
    (0..samples)
        .flat_map(|i| ((i % 200) as i16 - 100).to_le_bytes())
        .collect()
}

#[test]
fn missing_clip_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let e = run_bad(
        &[ClipEntry {
            path: "nowhere.pcm".into(),
            samples: SEGMENT_SAMPLES,
        }],
        &[],
    );
    assert_input_error(e, "nowhere.pcm cannot open");
}

#[test]
fn short_clip_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let n = SEGMENT_SAMPLES + 10;
    let e = run_bad(
        &[ClipEntry {
            path: "short.pcm".into(),
            samples: n,
        }],
        &[("short.pcm", pcm(n - 1))],
    );
    assert_input_error(
        e,
        &format!("short file: {} bytes, expected {}", 2 * (n - 1), 2 * n),
    );
}

#[test]
fn odd_byte_count_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let mut bytes = pcm(SEGMENT_SAMPLES);
    bytes.push(0);
    let e = run_bad(
        &[ClipEntry {
            path: "odd.pcm".into(),
            samples: SEGMENT_SAMPLES,
        }],
        &[("odd.pcm", bytes)],
    );
    assert_input_error(e, &format!("odd byte count {}", 2 * SEGMENT_SAMPLES + 1));
}

#[test]
fn clip_longer_than_announced_or_than_the_limit_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let n = SEGMENT_SAMPLES;
    let e = run_bad(
        &[ClipEntry {
            path: "long.pcm".into(),
            samples: n,
        }],
        &[("long.pcm", pcm(n + 1))],
    );
    assert_input_error(e, "longer than announced");
    let max = crosscheck::MAX_CLIP_SAMPLES;
    let e = run_bad(
        &[ClipEntry {
            path: "huge.pcm".into(),
            samples: max + 1,
        }],
        &[("huge.pcm", pcm(max + 1))],
    );
    assert_input_error(e, &format!("exceeds the limit of {max}"));
}

#[test]
fn clip_shorter_than_a_segment_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let n = SEGMENT_SAMPLES - 1;
    let e = run_bad(
        &[ClipEntry {
            path: "tiny.pcm".into(),
            samples: n,
        }],
        &[("tiny.pcm", pcm(n))],
    );
    assert_input_error(e, "shorter than one segment");
}

#[test]
fn error_after_good_clips_still_fails_the_run() {
    if !qemu_or_skip() {
        return;
    }
    let n = SEGMENT_SAMPLES;
    let e = run_bad(
        &[
            ClipEntry {
                path: "good.pcm".into(),
                samples: n,
            },
            ClipEntry {
                path: "gone.pcm".into(),
                samples: n,
            },
        ],
        &[("good.pcm", pcm(n))],
    );
    assert_input_error(e, "clip=1 path=gone.pcm");
}

#[test]
fn device_matches_host_on_synthetic_clips() {
    if !qemu_or_skip() {
        return;
    }
    let clips: Vec<LabeledClip> = (0..3)
        .map(|i| LabeledClip {
            name: format!("test{i}"),
            genre: None,
            samples: clip(i, 3.0 + 2.5 * i as f32),
        })
        .collect();
    let report = crosscheck::run(&clips, &Options::default()).expect("cross-check runs");
    println!("{}", report.summary());
    // 3 s, 5.5 s and 8 s clips: 1 + 1 + 2 full segments.
    assert_eq!(report.segments, 4);
    assert_eq!(report.pcm_identical_pct, 100.0);
    assert!(!report.elf.allocator_linked);
    // The boot calibration loop runs 2 instructions per iteration: SysTick must
    // count exactly one tick per 40 of them under -icount shift=0.
    assert_eq!(
        report.calibration.ticks * 40,
        report.calibration.instructions
    );
}
