//! `trainer crosscheck`: the same clips through the firmware under QEMU
//! (Cortex-M4F, mps2-an386) and through infer-core on the host, compared
//! segment by segment, with the device's cost, size and stack figures.
//!
//! Protocol (see `firmware-example/README.md`): the host writes each clip as
//! raw 16-bit little-endian mono PCM at 22050 Hz and a `clips.txt` naming them
//! with their sample counts; the firmware splits each clip into 3 s segments,
//! feeds every segment through the front end and the int8 CNN in 1024-sample
//! chunks, and writes one line per segment to `out.txt`.
//!
//! With `--stream` ([`stream`]) the firmware's `live` binary runs the continuous `Classifier`
//! instead, and every hop is compared with the host's (`live` parses its output).

pub mod device;
mod elf;
mod host;
pub mod live;
mod report;
pub mod stream;
pub mod testmodel;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use device::{ClipEntry, DeviceError};
use host::{HostModels, host_segments};
pub use host::{macs, mel_fnv};
use report::compare;
pub use report::{Calibration, Report};
pub use stream::{StreamOptions, StreamReport, run_stream};

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
    /// True genre as an index into the model's class list, when known.
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
    /// The int8 `.postcard` model to embed and run on the host (None: front end only).
    pub model: Option<PathBuf>,
    /// The float model the int8 one was quantised from, run on the host only (same classes,
    /// input and front end), for `float_track_accuracy`.
    pub float_model: Option<PathBuf>,
    /// The firmware crate (default: `<repo>/firmware-example`).
    pub firmware_dir: PathBuf,
    /// Where to write the clips and the device output (default: a temporary directory).
    pub work_dir: Option<PathBuf>,
    /// QEMU time limit (default: 60 s plus 5 s per segment).
    pub timeout: Option<Duration>,
    /// Build the firmware with its `winograd` feature (default; block 2 through Winograd
    /// F(2x2, 3x3) with the front end's FFT buffer as working memory: firmware-example/README.md).
    pub winograd: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model: None,
            float_model: None,
            firmware_dir: device::repo_root().join("firmware-example"),
            work_dir: None,
            timeout: None,
            winograd: true,
        }
    }
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
    let models = HostModels::load(opts)?;
    if let Some(n) = models.classes()? {
        for c in clips {
            if c.genre.is_some_and(|g| g >= n) {
                bail!(
                    "clip {}: genre index out of the model's {n} classes",
                    c.name
                );
            }
        }
    }
    let elf = device::build_firmware(&opts.firmware_dir, opts.model.as_deref(), opts.winograd)?;
    let sizes = checked_sizes(&elf)?;
    let (work_dir, _tmp) = work_dir(opts.work_dir.as_deref())?;
    write_clips(&work_dir, clips)?;
    let n_seg: usize = clips
        .iter()
        .map(|c| c.samples.len() / SEGMENT_SAMPLES)
        .sum();
    let timeout = opts
        .timeout
        .unwrap_or(Duration::from_secs(60 + 30 * n_seg as u64));
    // The host's side runs while QEMU does.
    let (dev, host) = std::thread::scope(|s| {
        let host = s.spawn(|| {
            clips
                .iter()
                .map(|c| host_segments(c, &models))
                .collect::<anyhow::Result<Vec<_>>>()
        });
        let dev = device::run_device(&elf, &work_dir, timeout);
        (dev, host.join())
    });
    let dev = dev.map_err(|e| match e {
        DeviceError::QemuMissing => anyhow::anyhow!(e),
        e => anyhow::anyhow!("device run in {}: {e}", work_dir.display()),
    })?;
    let host = host.map_err(|_| anyhow::anyhow!("the host computation panicked"))??;
    compare(clips, opts, &models, &host, &sizes, &dev)
}

/// The firmware's section sizes, refusing one that links an allocator.
pub(crate) fn checked_sizes(elf: &std::path::Path) -> anyhow::Result<device::ElfSizes> {
    let sizes = device::elf_sizes(elf)?;
    if sizes.allocator_linked {
        bail!(
            "{}: an allocator is linked into the firmware",
            elf.display()
        );
    }
    Ok(sizes)
}

/// The folder for the clips and the device's output: `dir` (created), or a temporary one that
/// lives as long as the returned guard.
pub(crate) fn work_dir(
    dir: Option<&std::path::Path>,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    match dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            Ok((d.to_path_buf(), None))
        }
        None => {
            let tmp = tempfile::tempdir()?;
            Ok((tmp.path().to_path_buf(), Some(tmp)))
        }
    }
}
