//! The device side of the cross-check: build the firmware, measure its ELF,
//! write clips for it, run it under QEMU (with a timeout) and parse what it
//! wrote back.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::base::fsio::write_atomic;

pub use super::elf::{ElfSizes, elf_sizes};

/// The segment firmware's binary (one line per 3 s segment).
const SEGMENT_BIN: &str = "firmware-example";

/// Name of the clip list the firmware reads from its working directory.
pub const CLIP_LIST: &str = "clips.txt";
/// Name of the file the firmware writes its results to.
pub const DEVICE_OUT: &str = "out.txt";
/// The firmware's output protocol version this parser reads.
pub const PROTOCOL: u32 = 1;

/// The repository root (where `firmware-example/` and `models/` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds the firmware in release mode with `model` embedded (through the
/// `TINYGENRE_MODEL` variable read by its `build.rs`) and returns the path of
/// a copy of the ELF named after the model's checksum, so that builds with
/// other models (say, by tests running in parallel) cannot replace it.
pub fn build_firmware(
    firmware_dir: &Path,
    model: Option<&Path>,
    winograd: bool,
) -> anyhow::Result<PathBuf> {
    build_firmware_bin(firmware_dir, model, SEGMENT_BIN, winograd)
}

/// As [`build_firmware`] for the firmware's binary `bin` (`firmware-example`, `live`, ...).
pub fn build_firmware_bin(
    firmware_dir: &Path,
    model: Option<&Path>,
    bin: &str,
    winograd: bool,
) -> anyhow::Result<PathBuf> {
    // One build-and-copy at a time, across threads and processes.
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_thread = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let lock_dir = firmware_dir.join("target");
    fs::create_dir_all(&lock_dir).with_context(|| format!("creating {}", lock_dir.display()))?;
    let lock_path = lock_dir.join(".tinygenre-build.lock");
    let lock = fs::File::create(&lock_path)
        .with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let tag = match model {
        Some(m) => {
            let bytes =
                fs::read(m).with_context(|| format!("model file {} not found", m.display()))?;
            format!("{:08x}", fnv1a(bytes))
        }
        None => "frontend-only".to_string(),
    };
    let elf = cargo_build_firmware(firmware_dir, model, bin, winograd)?;
    let wino = if winograd { "-winograd" } else { "" };
    let copy = elf.with_file_name(format!("{bin}{wino}-{tag}.elf"));
    let data = fs::read(&elf).with_context(|| format!("reading {}", elf.display()))?;
    write_atomic(&copy, &data)?;
    Ok(copy)
}

fn cargo_build_firmware(
    firmware_dir: &Path,
    model: Option<&Path>,
    bin: &str,
    winograd: bool,
) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(firmware_dir)
        .args([
            "build",
            "--release",
            "--bin",
            bin,
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Winograd in the segment firmware only: the live one's flash has no room for it.
    let mut features = vec![winograd.then_some("winograd")];
    match model {
        Some(m) => {
            let m = fs::canonicalize(m)
                .with_context(|| format!("model file {} not found", m.display()))?;
            // The device build compiles only the default front end's FFT; a model with another
            // size (a 16 kHz model's 1024 points) needs the firmware's `fft-all-sizes`.
            let bytes = fs::read(&m).with_context(|| format!("reading {}", m.display()))?;
            let model = infer_core::model::Model::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", m.display()))?;
            if model.frontend().n_fft as usize != infer_core::fft::DEVICE_N_FFT {
                features.push(Some("fft-all-sizes"));
            }
            cmd.env("TINYGENRE_MODEL", m);
        }
        None => {
            // Not even the demo model that build.rs embeds by default.
            cmd.env("TINYGENRE_MODEL", "none");
        }
    }
    cmd.args([
        "--features",
        &features.into_iter().flatten().collect::<Vec<_>>().join(","),
    ]);
    let out = cmd
        .output()
        .with_context(|| format!("running cargo build in {}", firmware_dir.display()))?;
    if !out.status.success() {
        bail!(
            "firmware build failed in {} ({})",
            firmware_dir.display(),
            out.status
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut elf = None;
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] == "compiler-artifact"
            && v["target"]["name"] == bin
            && let Some(exe) = v["executable"].as_str()
        {
            elf = Some(PathBuf::from(exe));
        }
    }
    elf.context("cargo build reported no firmware executable")
}

/// Writes `samples` as raw 16-bit little-endian PCM (temporary file, then rename).
pub fn write_pcm(path: &Path, samples: &[i16]) -> anyhow::Result<()> {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    Ok(write_atomic(path, &bytes)?)
}

/// One line of the clip list: a PCM file (relative to the work directory) and
/// the number of samples the firmware must find in it.
#[derive(Debug, Clone)]
pub struct ClipEntry {
    /// Path relative to the work directory (no newline).
    pub path: String,
    /// Announced sample count.
    pub samples: usize,
}

/// Writes the clip list the firmware reads (`clip <samples> <path>` per line).
pub fn write_clip_list(work_dir: &Path, entries: &[ClipEntry]) -> anyhow::Result<()> {
    let mut text = String::from("# tinygenre firmware clip list: clip <samples> <path>\n");
    for e in entries {
        if e.path.contains('\n') || e.path.is_empty() {
            bail!("clip path {:?} cannot go in the clip list", e.path);
        }
        text.push_str(&format!("clip {} {}\n", e.samples, e.path));
    }
    Ok(write_atomic(&work_dir.join(CLIP_LIST), text.as_bytes())?)
}

/// Why a device run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// `qemu-system-arm` is not installed.
    #[error("qemu-system-arm not found (install Debian's qemu-system-arm package)")]
    QemuMissing,
    /// QEMU ran past the time limit and was killed.
    #[error("QEMU ran past {0:?} and was killed")]
    Timeout(Duration),
    /// The firmware exited with a non-zero status.
    #[error("firmware exited with status {code}: {message}")]
    Failed {
        /// Exit status (2 bad input, 3 model/inference, 4 host I/O, 101 panic, 6 hard fault).
        code: i32,
        /// The firmware's error line (from `out.txt` or stderr).
        message: String,
    },
    /// QEMU could not be run, or the output could not be read or parsed.
    #[error("{0}")]
    Other(String),
}

/// One segment as the device reported it.
#[derive(Debug, Clone, Default)]
pub struct DeviceSegment {
    /// Clip index (order of the clip list).
    pub clip: usize,
    /// Segment index within the clip.
    pub index: usize,
    /// FNV-1a of the segment's PCM bytes as the device read them.
    pub pcm_fnv: u32,
    /// FNV-1a of the bits of the log-mel frames the device computed (frame by frame).
    pub mel_fnv: Option<u32>,
    /// Predicted class, when a model is embedded.
    pub class: Option<usize>,
    /// Int8 logits, when a model is embedded.
    pub logits: Vec<i8>,
    /// Instructions spent in the front end for this segment.
    pub frontend_insns: u64,
    /// Instructions spent in the CNN for this segment.
    pub cnn_insns: u64,
}

/// Everything the device wrote.
#[derive(Debug, Clone, Default)]
pub struct DeviceOutput {
    /// Size of the embedded model in bytes (0: front end only).
    pub model_bytes: u64,
    /// Instructions in the boot calibration loop.
    pub calibration_insns: u64,
    /// SysTick ticks the calibration loop took.
    pub calibration_ticks: u64,
    /// Instructions per tick the firmware assumes.
    pub insns_per_tick: u64,
    /// Multiply-accumulates of one CNN inference, as the firmware counts them (0 without a model).
    pub macs_per_inference: u64,
    /// Per-clip segment counts.
    pub clip_segments: Vec<usize>,
    /// All segments, in order.
    pub segments: Vec<DeviceSegment>,
    /// Peak stack use (stack painting).
    pub stack_peak_bytes: u64,
    /// Size of the stack region.
    pub stack_region_bytes: u64,
    /// Wall-clock seconds QEMU ran.
    pub wall_seconds: f64,
}

/// Runs the firmware under QEMU in `work_dir` (which holds `clips.txt`) and
/// parses `out.txt`. QEMU is killed after `timeout`.
pub fn run_device(
    elf: &Path,
    work_dir: &Path,
    timeout: Duration,
) -> Result<DeviceOutput, DeviceError> {
    let (text, wall_seconds) = run_qemu(elf, work_dir, timeout)?;
    let mut out = parse_output(&text).map_err(|e| DeviceError::Other(format!("{e:#}")))?;
    out.wall_seconds = wall_seconds;
    Ok(out)
}

/// Runs a firmware binary under QEMU in `work_dir` and returns its `out.txt` and the wall-clock
/// seconds QEMU ran (a non-zero exit is [`DeviceError::Failed`] with the firmware's `error`
/// line). QEMU is killed after `timeout`.
pub fn run_qemu(
    elf: &Path,
    work_dir: &Path,
    timeout: Duration,
) -> Result<(String, f64), DeviceError> {
    let out_path = work_dir.join(DEVICE_OUT);
    match fs::remove_file(&out_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(DeviceError::Other(format!(
                "removing {}: {e}",
                out_path.display()
            )));
        }
    }
    let mut child = match qemu_command(elf).current_dir(work_dir).spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(DeviceError::QemuMissing),
        Err(e) => return Err(DeviceError::Other(format!("starting qemu-system-arm: {e}"))),
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DeviceError::Timeout(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(DeviceError::Other(format!("waiting for QEMU: {e}"))),
        }
    };
    let wall_seconds = start.elapsed().as_secs_f64();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let text = fs::read_to_string(&out_path).unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    if code != 0 {
        let message = text
            .lines()
            .find_map(|l| l.strip_prefix("error "))
            .map(str::to_string)
            .or_else(|| {
                stderr
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "no message".to_string());
        return Err(DeviceError::Failed { code, message });
    }
    Ok((text, wall_seconds))
}

/// The QEMU command line: mps2-an386 (Cortex-M4F), semihosting to the host's
/// file system, and `-icount shift=0` (one instruction = 1 ns of virtual time).
pub fn qemu_command(elf: &Path) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args([
        "-machine",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
        "-kernel",
    ])
    .arg(elf)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

pub(super) fn kv<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

pub(super) fn kv_u64(line: &str, key: &str) -> anyhow::Result<u64> {
    kv(line, key)
        .with_context(|| format!("missing {key}= in {line:?}"))?
        .parse()
        .with_context(|| format!("bad {key}= in {line:?}"))
}

pub(super) fn hex_u32(s: &str) -> anyhow::Result<u32> {
    u32::from_str_radix(s, 16).with_context(|| format!("bad hex value {s:?}"))
}

/// Parses the firmware's `out.txt` (protocol 1).
pub fn parse_output(text: &str) -> anyhow::Result<DeviceOutput> {
    let mut out = DeviceOutput::default();
    let mut lines = text.lines();
    let header = lines.next().context("empty device output")?;
    let version: u32 = header
        .strip_prefix("tinygenre-fw ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("bad header {header:?}"))?;
    if version != PROTOCOL {
        bail!("device protocol {version}, this build reads {PROTOCOL}");
    }
    out.model_bytes = kv_u64(header, "model_bytes")?;
    out.macs_per_inference = kv_u64(header, "macs").unwrap_or(0);
    let mut done = false;
    for line in lines {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("calibration") => {
                out.calibration_insns = kv_u64(line, "insns")?;
                out.calibration_ticks = kv_u64(line, "ticks")?;
                out.insns_per_tick = kv_u64(line, "insns_per_tick")?;
            }
            Some("clip") => {
                let idx: usize = words.next().context("clip index")?.parse()?;
                if idx != out.clip_segments.len() {
                    bail!("clip {idx} out of order");
                }
                out.clip_segments
                    .push(usize::try_from(kv_u64(line, "segments")?)?);
            }
            Some("seg") => {
                let clip: usize = words.next().context("seg clip")?.parse()?;
                let index: usize = words.next().context("seg index")?.parse()?;
                let logits = match kv(line, "logits") {
                    Some(l) => l
                        .split(',')
                        .map(|v| v.parse::<i8>().with_context(|| format!("bad logit {v:?}")))
                        .collect::<anyhow::Result<Vec<_>>>()?,
                    None => Vec::new(),
                };
                out.segments.push(DeviceSegment {
                    clip,
                    index,
                    pcm_fnv: hex_u32(kv(line, "pcm_fnv").context("pcm_fnv")?)?,
                    mel_fnv: kv(line, "mel_fnv").map(hex_u32).transpose()?,
                    class: kv(line, "class").map(str::parse).transpose()?,
                    logits,
                    frontend_insns: kv_u64(line, "fe").unwrap_or(0),
                    cnn_insns: kv_u64(line, "cnn").unwrap_or(0),
                });
            }
            Some("stack") => {
                out.stack_peak_bytes = kv_u64(line, "peak_bytes")?;
                out.stack_region_bytes = kv_u64(line, "region_bytes")?;
            }
            Some("done") => done = true,
            Some("error") => bail!("device reported {line:?}"),
            _ => {}
        }
    }
    if !done {
        bail!("device output ends without a `done` line");
    }
    Ok(out)
}

/// FNV-1a over bytes (the firmware's checksum of PCM and log-mel bits).
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u32 {
    bytes.into_iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference test suite (Fowler/Noll/Vo): "" and "a" and "foobar".
        assert_eq!(fnv1a(*b""), 0x811c_9dc5);
        assert_eq!(fnv1a(*b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(*b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn parse_rejects_output_without_done() {
        let text = "tinygenre-fw 1 model_bytes=0\ncalibration insns=4 ticks=1 insns_per_tick=40\n";
        assert!(parse_output(text).is_err());
        let ok = format!("{text}done clips=0 segments=0\n");
        assert_eq!(parse_output(&ok).unwrap().calibration_ticks, 1);
    }
}
