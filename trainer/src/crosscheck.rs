//! `trainer crosscheck`: the same clips through the firmware under QEMU
//! (Cortex-M4F, mps2-an386) and through infer-core on the host, compared
//! segment by segment, with the device's cost, size and stack figures.
//!
//! Protocol (see `firmware-example/README.md`): the host writes each clip as
//! raw 16-bit little-endian mono PCM at 22050 Hz and a `clips.txt` naming them
//! with their sample counts; the firmware splits each clip into 3 s segments,
//! feeds every segment through the front end and the int8 CNN in 1024-sample
//! chunks, and writes one line per segment to `out.txt`.

pub mod device;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

use device::{ClipEntry, DeviceError, DeviceOutput, DeviceSegment, ElfSizes};

/// Sample rate of the clips the firmware reads.
pub const SAMPLE_RATE: usize = 22_050;
/// Samples per segment (3 s), as in the firmware.
pub const SEGMENT_SAMPLES: usize = 3 * SAMPLE_RATE;
/// Samples per chunk fed to the front end, as in the firmware.
pub const CHUNK: usize = 1024;
/// Longest clip the firmware accepts (60 s).
pub const MAX_CLIP_SAMPLES: usize = 60 * SAMPLE_RATE;

/// One clip to cross-check.
#[derive(Debug, Clone)]
pub struct LabeledClip {
    /// Display name (e.g. `blues.00000`).
    pub name: String,
    /// True genre index, when known.
    pub genre: Option<usize>,
    /// 16-bit PCM at 22050 Hz, mono.
    pub samples: Vec<i16>,
}

/// Converts samples in [-1, 1) (as `audio::load_mono` returns them) to 16-bit
/// PCM: exact for audio that was 16-bit to begin with.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Settings of one cross-check.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `.postcard` model to embed and run on the host (None: front end only).
    pub model: Option<PathBuf>,
    /// The firmware crate (default: `<repo>/firmware-example`).
    pub firmware_dir: PathBuf,
    /// Where to write the clips and the device output (default: a temporary directory).
    pub work_dir: Option<PathBuf>,
    /// QEMU time limit (default: 60 s plus 5 s per segment).
    pub timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model: None,
            firmware_dir: device::repo_root().join("firmware-example"),
            work_dir: None,
            timeout: None,
        }
    }
}

/// The cross-check's results (written as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Model file (None: front end only).
    pub model: Option<String>,
    /// Clips processed.
    pub clips: usize,
    /// 3 s segments processed.
    pub segments: usize,
    /// Segments whose PCM the device read exactly as written (%).
    pub pcm_identical_pct: f64,
    /// Segments whose log-mel frames are bit-identical between device and host (%).
    pub frontend_bit_identical_pct: Option<f64>,
    /// Segments whose int8 logits are bit-identical between device and host (%).
    pub bit_identical_pct: Option<f64>,
    /// Segments whose top-1 class agrees between device and host (%).
    pub top1_agreement_pct: Option<f64>,
    /// Track accuracy of the device's predictions (majority vote over segments).
    pub device_track_accuracy: Option<f64>,
    /// Track accuracy of the host's int8 predictions.
    pub host_track_accuracy: Option<f64>,
    /// Track accuracy of the float model on the host.
    pub float_track_accuracy: Option<f64>,
    /// Multiply-accumulates of one CNN inference (conv layers + dense).
    pub macs_per_inference: Option<u64>,
    /// Mean CNN instructions per multiply-accumulate.
    pub instructions_per_mac: Option<f64>,
    /// Mean front-end instructions per 3 s segment.
    pub frontend_instructions_per_segment: f64,
    /// Mean CNN instructions per 3 s segment.
    pub cnn_instructions_per_segment: Option<f64>,
    /// Flash image size in bytes.
    pub flash_bytes: u64,
    /// Static RAM (`.data + .bss + .uninit`) in bytes.
    pub static_ram_bytes: u64,
    /// Peak stack use in bytes (stack painting).
    pub peak_stack_bytes: u64,
    /// ELF section sizes and the allocator check.
    pub elf: ElfSizes,
    /// Instructions / ticks of the boot calibration loop.
    pub calibration: Calibration,
    /// Wall-clock seconds QEMU ran.
    pub qemu_seconds: f64,
}

/// The boot calibration of the instruction counter.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// Instructions in the loop (2 per iteration).
    pub instructions: u64,
    /// SysTick ticks measured.
    pub ticks: u64,
    /// Instructions per tick assumed by the firmware.
    pub instructions_per_tick: u64,
}

/// What the host computed for one segment.
#[derive(Debug, Clone)]
struct HostSegment {
    pcm_fnv: u32,
}

/// Writes the clips and the clip list into `work_dir`.
pub fn write_clips(work_dir: &Path, clips: &[LabeledClip]) -> anyhow::Result<Vec<ClipEntry>> {
    let mut entries = Vec::with_capacity(clips.len());
    for (i, c) in clips.iter().enumerate() {
        let name = format!("clip{i:04}.pcm");
        device::write_pcm(&work_dir.join(&name), &c.samples)?;
        entries.push(ClipEntry {
            path: name,
            samples: c.samples.len(),
        });
    }
    device::write_clip_list(work_dir, &entries)?;
    Ok(entries)
}

fn host_segments(clip: &LabeledClip) -> Vec<HostSegment> {
    clip.samples
        .chunks_exact(SEGMENT_SAMPLES)
        .map(|seg| HostSegment {
            pcm_fnv: device::fnv1a(seg.iter().flat_map(|s| s.to_le_bytes())),
        })
        .collect()
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

/// Runs the whole cross-check on `clips`.
pub fn run(clips: &[LabeledClip], opts: &Options) -> anyhow::Result<Report> {
    if clips.is_empty() {
        bail!("no clips to cross-check");
    }
    for c in clips {
        if c.samples.len() < SEGMENT_SAMPLES {
            bail!(
                "clip {}: {} samples, shorter than one 3 s segment",
                c.name,
                c.samples.len()
            );
        }
        if c.samples.len() > MAX_CLIP_SAMPLES {
            bail!(
                "clip {}: {} samples, longer than the firmware's 60 s",
                c.name,
                c.samples.len()
            );
        }
    }
    let elf = device::build_firmware(&opts.firmware_dir, opts.model.as_deref())?;
    let sizes = device::elf_sizes(&elf)?;
    if sizes.allocator_linked {
        bail!(
            "{}: an allocator is linked into the firmware",
            elf.display()
        );
    }

    let tmp;
    let work_dir = match &opts.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    write_clips(&work_dir, clips)?;
    let n_seg: usize = clips
        .iter()
        .map(|c| c.samples.len() / SEGMENT_SAMPLES)
        .sum();
    let timeout = opts
        .timeout
        .unwrap_or(Duration::from_secs(60 + 5 * n_seg as u64));
    let dev = device::run_device(&elf, &work_dir, timeout).map_err(|e| match e {
        DeviceError::QemuMissing => anyhow::anyhow!(e),
        e => anyhow::anyhow!("device run in {}: {e}", work_dir.display()),
    })?;
    compare(clips, opts, &sizes, &dev)
}

fn compare(
    clips: &[LabeledClip],
    opts: &Options,
    sizes: &ElfSizes,
    dev: &DeviceOutput,
) -> anyhow::Result<Report> {
    if dev.clip_segments.len() != clips.len() {
        bail!(
            "device processed {} clips, expected {}",
            dev.clip_segments.len(),
            clips.len()
        );
    }
    let mut pcm_same = 0;
    let mut total = 0;
    let mut dev_iter = dev.segments.iter();
    for (ci, clip) in clips.iter().enumerate() {
        let host = host_segments(clip);
        if dev.clip_segments[ci] != host.len() {
            bail!(
                "clip {ci}: device made {} segments, host {}",
                dev.clip_segments[ci],
                host.len()
            );
        }
        for (si, h) in host.iter().enumerate() {
            let d: &DeviceSegment = dev_iter
                .next()
                .context("device output is missing segments")?;
            if d.clip != ci || d.index != si {
                bail!(
                    "device segment {}/{} out of order (expected {ci}/{si})",
                    d.clip,
                    d.index
                );
            }
            total += 1;
            pcm_same += usize::from(d.pcm_fnv == h.pcm_fnv);
        }
    }
    let mean = |f: fn(&DeviceSegment) -> u64| {
        dev.segments.iter().map(|s| f(s) as f64).sum::<f64>() / dev.segments.len().max(1) as f64
    };
    Ok(Report {
        model: opts.model.as_ref().map(|p| p.display().to_string()),
        clips: clips.len(),
        segments: total,
        pcm_identical_pct: pct(pcm_same, total),
        frontend_bit_identical_pct: None,
        bit_identical_pct: None,
        top1_agreement_pct: None,
        device_track_accuracy: None,
        host_track_accuracy: None,
        float_track_accuracy: None,
        macs_per_inference: None,
        instructions_per_mac: None,
        frontend_instructions_per_segment: mean(|s| s.frontend_insns),
        cnn_instructions_per_segment: None,
        flash_bytes: sizes.flash_bytes,
        static_ram_bytes: sizes.static_ram_bytes,
        peak_stack_bytes: dev.stack_peak_bytes,
        elf: sizes.clone(),
        calibration: Calibration {
            instructions: dev.calibration_insns,
            ticks: dev.calibration_ticks,
            instructions_per_tick: dev.insns_per_tick,
        },
        qemu_seconds: dev.wall_seconds,
    })
}

impl Report {
    /// A short human-readable summary.
    pub fn summary(&self) -> String {
        let opt =
            |v: Option<f64>, unit: &str| v.map_or("n/a".to_string(), |v| format!("{v:.2}{unit}"));
        let mut s = String::new();
        s += &format!(
            "cross-check: {} clips, {} segments (model: {})\n",
            self.clips,
            self.segments,
            self.model.as_deref().unwrap_or("none, front end only")
        );
        s += &format!(
            "  PCM read identically:        {:.2} %\n",
            self.pcm_identical_pct
        );
        s += &format!(
            "  log-mel bit-identical:       {}\n",
            opt(self.frontend_bit_identical_pct, " %")
        );
        s += &format!(
            "  int8 logits bit-identical:   {}\n",
            opt(self.bit_identical_pct, " %")
        );
        s += &format!(
            "  top-1 agreement:             {}\n",
            opt(self.top1_agreement_pct, " %")
        );
        s += &format!(
            "  track accuracy device/host/float: {} / {} / {}\n",
            opt(self.device_track_accuracy, ""),
            opt(self.host_track_accuracy, ""),
            opt(self.float_track_accuracy, "")
        );
        s += &format!(
            "  front end: {:.0} instructions per 3 s segment\n",
            self.frontend_instructions_per_segment
        );
        s += &format!(
            "  CNN: {} instructions per segment, {} MACs, {} instructions per MAC\n",
            opt(self.cnn_instructions_per_segment, ""),
            self.macs_per_inference
                .map_or("n/a".into(), |m| m.to_string()),
            opt(self.instructions_per_mac, "")
        );
        s += &format!(
            "  flash {} B, static RAM {} B, peak stack {} B (calibration: {} instructions = {} ticks)\n",
            self.flash_bytes,
            self.static_ram_bytes,
            self.peak_stack_bytes,
            self.calibration.instructions,
            self.calibration.ticks
        );
        s
    }
}
