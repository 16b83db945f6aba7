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

use trainer::data::synth;
use trainer::ship::crosscheck::device::{self, ClipEntry, DeviceError};
use trainer::ship::crosscheck::testmodel::{self, TestModelSpec};
use trainer::ship::crosscheck::{self, LabeledClip, Options, SEGMENT_SAMPLES};

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
        device::build_firmware(&Options::default().firmware_dir, None, true)
            .expect("firmware builds")
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

/// Runs the front-end-only firmware on a hand-written clip list.
fn run_list(list: &str, files: &[(&str, Vec<u8>)]) -> DeviceError {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::write(dir.path().join(device::CLIP_LIST), list).unwrap();
    match device::run_device(
        firmware_front_end_only(),
        dir.path(),
        Duration::from_secs(60),
    ) {
        Ok(out) => panic!("bad list accepted: {} segments", out.segments.len()),
        Err(e) => e,
    }
}

#[test]
fn malformed_or_overlong_clip_list_lines_are_reported_errors() {
    if !qemu_or_skip() {
        return;
    }
    let n = SEGMENT_SAMPLES;
    let files = [("a.pcm", pcm(n))];
    // Line 3 (after a comment and a good clip) has no sample count.
    let e = run_list(&format!("# list\nclip {n} a.pcm\nclip a.pcm\n"), &files);
    assert_input_error(e, "clip list line 3: malformed");
    // A non-numeric sample count.
    let e = run_list("clip 12x a.pcm\n", &files);
    assert_input_error(e, "clip list line 1: malformed");
    // A line longer than the firmware's line buffer (MAX_PATH + 32 bytes).
    let long = format!("clip {n} {}\n", "x".repeat(400));
    let e = run_list(&long, &files);
    assert_input_error(e, "line longer than the firmware's line buffer");
}

#[test]
fn device_front_end_matches_host_on_synthetic_clips() {
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
    // The streaming front end on the Cortex-M4F gives the very bits of the
    // host's whole-segment front end.
    assert_eq!(report.frontend_bit_identical_pct, Some(100.0));
    assert!(report.bit_identical_pct.is_none());
    assert!(!report.elf.allocator_linked);
    // The boot calibration loop runs 2 instructions per iteration: SysTick must
    // count one tick per 40 of them under -icount shift=0. Reading the counter
    // around the loop adds a few dozen instructions: at most one more tick.
    let exact = report.calibration.instructions / 40;
    assert!(
        (exact..=exact + 1).contains(&report.calibration.ticks),
        "{} ticks for {} instructions",
        report.calibration.ticks,
        report.calibration.instructions
    );
}

/// The deterministic test model (no training) written to `dir`: int8 and its float twin.
fn test_models(dir: &std::path::Path, spec: TestModelSpec) -> (PathBuf, PathBuf) {
    let m = testmodel::build(spec).expect("test model builds");
    let q = dir.join("test-int8.postcard");
    let f = dir.join("test-f32.postcard");
    std::fs::write(&q, m.int8.encode().unwrap()).unwrap();
    std::fs::write(&f, m.float.encode().unwrap()).unwrap();
    (q, f)
}

/// Ten synthetic clips, one per genre (3 s: one segment each), plus one of 7 s (two segments
/// and a remainder the firmware must skip): the firmware's int8 logits must equal infer-core's
/// on the host bit for bit, segment by segment.
#[test]
fn device_int8_logits_are_bit_identical_to_host_on_synthetic_clips() {
    if !qemu_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (q, f) = test_models(dir.path(), TestModelSpec::SMALL);
    let mut clips: Vec<LabeledClip> = (0..10)
        .map(|g| LabeledClip {
            name: format!("synthetic{g}"),
            genre: Some(g),
            samples: crosscheck::to_i16(&synth::render_clip(g, 3.0, 1000 + g as u64)),
        })
        .collect();
    clips.push(LabeledClip {
        name: "synthetic-long".into(),
        genre: Some(3),
        samples: crosscheck::to_i16(&synth::render_clip(3, 7.0, 2000)),
    });
    let opts = Options {
        model: Some(q),
        float_model: Some(f),
        work_dir: Some(dir.path().join("work")),
        ..Options::default()
    };
    let report = crosscheck::run(&clips, &opts).expect("cross-check runs");
    println!("{}", report.summary());
    assert_eq!(report.clips, 11);
    assert_eq!(report.segments, 12);
    assert_eq!(report.pcm_identical_pct, 100.0);
    assert_eq!(report.frontend_bit_identical_pct, Some(100.0));
    assert_eq!(
        report.bit_identical_pct,
        Some(100.0),
        "{:?}",
        report.mismatches
    );
    assert_eq!(report.top1_agreement_pct, Some(100.0));
    assert_eq!(report.device_track_accuracy, report.host_track_accuracy);
    assert!(report.float_track_accuracy.is_some());
    // MACs by hand for 128 mels x 130 frames, channels 1-16-16-16-16-8, 10 classes:
    // 128*130*9*1*16 + 64*65*9*16*16 + 32*32*9*16*16 + 16*16*9*16*16 + 8*8*9*16*8 + 128*10.
    assert_eq!(report.macs_per_inference, Some(15_004_928));
    // Both parts of the pipeline were measured on the device.
    assert!(report.frontend_instructions_per_segment > 0.0);
    assert!(report.cnn_instructions_per_segment.is_some_and(|c| c > 0.0));
    assert!(report.peak_stack_bytes > 0);
}

/// A model the firmware cannot run is a reported error (exit status 3), not a hang.
#[test]
fn float_model_in_the_firmware_is_a_reported_error() {
    if !qemu_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, f) = test_models(dir.path(), TestModelSpec::SMALL);
    let elf = device::build_firmware(&Options::default().firmware_dir, Some(&f), true)
        .expect("firmware builds");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("a.pcm"), pcm(SEGMENT_SAMPLES)).unwrap();
    device::write_clip_list(
        &work,
        &[ClipEntry {
            path: "a.pcm".into(),
            samples: SEGMENT_SAMPLES,
        }],
    )
    .unwrap();
    match device::run_device(&elf, &work, Duration::from_secs(60)) {
        Err(DeviceError::Failed { code, message }) => {
            assert_eq!(code, 3, "{message}");
            assert!(message.contains("not int8"), "{message}");
        }
        Err(e) => panic!("expected a reported model error, got {e}"),
        Ok(_) => panic!("the firmware ran a float model"),
    }
}

/// `trainer crosscheck --stream`, short: two 6 s synthetic clips through the firmware's `live`
/// binary with the shipped model (continuous `Classifier`, 1024-sample chunks, 168 MHz): every
/// hop and each clip's track decision bit-identical to the host's, no overrun, and the flash
/// within 160 KiB.
#[test]
fn live_firmware_hops_are_bit_identical_to_the_host_classifier() {
    if !qemu_or_skip() {
        return;
    }
    let model = device::repo_root().join("models/genre-int8.postcard");
    let clips: Vec<LabeledClip> = [2usize, 9]
        .iter()
        .map(|&g| LabeledClip {
            name: format!("synthetic{g}"),
            genre: Some(g),
            samples: crosscheck::to_i16(&synth::render_clip(g, 6.0, 3000 + g as u64)),
        })
        .collect();
    let report = crosscheck::run_stream(&clips, &crosscheck::StreamOptions::new(model))
        .expect("stream cross-check runs");
    println!("{}", report.summary());
    assert_eq!(report.clips, 2);
    // the first hop 163 frames (3.78 s) in, then one every 32 frames (0.743 s): 3 per 6 s clip
    assert_eq!(report.hops, 6);
    assert!(report.identical(), "{:?}", report.mismatches);
    assert_eq!(report.same_decision_hops, 6);
    assert!(report.per_clip.iter().all(|c| c.track.is_some()));
    assert_eq!(report.overruns, 0);
    assert!((1..1_000_000).contains(&report.duty_ppm_range.0));
    assert!(report.worst_hop_latency_us > 0);
    assert!(
        report.flash_bytes <= 160 * 1024,
        "{} B of flash",
        report.flash_bytes
    );
    assert!(report.peak_stack_bytes <= 64 * 1024);
}
