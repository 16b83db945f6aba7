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
pub mod testmodel;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use infer_core::config::FrontendConfig;
use infer_core::executor::{Executor, run_logmel};
use infer_core::frontend::LogMel;
use infer_core::model::{Model, N_BLOCKS, Precision};
use serde::Serialize;

use crate::metrics;

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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model: None,
            float_model: None,
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
    /// Segments whose int8 logits differ between device and host (clip name, segment index),
    /// at most 20.
    pub mismatches: Vec<String>,
    /// Segments whose top-1 class agrees between device and host (%).
    pub top1_agreement_pct: Option<f64>,
    /// Track accuracy of the device's predictions (majority vote over segments).
    pub device_track_accuracy: Option<f64>,
    /// Track accuracy of the host's int8 predictions.
    pub host_track_accuracy: Option<f64>,
    /// Track accuracy of the float model on the host.
    pub float_track_accuracy: Option<f64>,
    /// Segment accuracy of the device's predictions.
    pub device_segment_accuracy: Option<f64>,
    /// Segment accuracy of the float model on the host.
    pub float_segment_accuracy: Option<f64>,
    /// Segments whose top-1 class agrees between the host's int8 and float models (%).
    pub int8_float_top1_agreement_pct: Option<f64>,
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
    /// Peak stack use in bytes (stack painting); the whole pipeline's working memory (front-end
    /// ring and FFT buffer, CNN row buffers) lives on the stack.
    pub peak_stack_bytes: u64,
    /// Static RAM plus peak stack: all RAM the firmware touches.
    pub peak_ram_bytes: u64,
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
    mel_fnv: u32,
    /// int8 logits (int8 model given).
    logits: Vec<i8>,
    /// float logits (float model given).
    float_logits: Vec<f32>,
}

/// The models run on the host: the int8 model (also embedded in the firmware) and its float twin.
struct HostModels {
    int8: Option<Vec<u8>>,
    float: Option<Vec<u8>>,
}

impl HostModels {
    fn load(opts: &Options) -> anyhow::Result<HostModels> {
        let read = |p: &Option<PathBuf>| -> anyhow::Result<Option<Vec<u8>>> {
            p.as_ref()
                .map(|p| std::fs::read(p).with_context(|| format!("reading model {}", p.display())))
                .transpose()
        };
        let models = HostModels {
            int8: read(&opts.model)?,
            float: read(&opts.float_model)?,
        };
        models.check(opts)?;
        Ok(models)
    }
    fn check(&self, opts: &Options) -> anyhow::Result<()> {
        let (q, f) = (self.int8_model()?, self.float_model()?);
        if let Some(q) = &q
            && q.precision() != Precision::Int8
        {
            bail!(
                "{}: not an int8 model (the firmware runs int8 only)",
                show(&opts.model)
            );
        }
        if let Some(f) = &f {
            if f.precision() != Precision::F32 {
                bail!("{}: not a float model", show(&opts.float_model));
            }
            if let Some(q) = &q
                && (f.classes() != q.classes()
                    || f.frontend() != q.frontend()
                    || f.input().segment_samples != q.input().segment_samples)
            {
                bail!(
                    "{} and {} differ in classes, front end or segment length",
                    show(&opts.float_model),
                    show(&opts.model)
                );
            }
        }
        for (m, p) in [(&q, &opts.model), (&f, &opts.float_model)] {
            if let Some(m) = m
                && m.input().segment_samples as usize != SEGMENT_SAMPLES
            {
                bail!(
                    "{}: {} samples per segment, the firmware cuts {SEGMENT_SAMPLES}",
                    show(p),
                    m.input().segment_samples
                );
            }
        }
        Ok(())
    }
    fn int8_model(&self) -> anyhow::Result<Option<Model<'_>>> {
        Ok(self.int8.as_deref().map(Model::from_bytes).transpose()?)
    }
    fn float_model(&self) -> anyhow::Result<Option<Model<'_>>> {
        Ok(self.float.as_deref().map(Model::from_bytes).transpose()?)
    }
    fn classes(&self) -> anyhow::Result<Option<usize>> {
        Ok(match (self.int8_model()?, self.float_model()?) {
            (Some(m), _) | (None, Some(m)) => Some(m.classes().len()),
            (None, None) => None,
        })
    }
}

fn show(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or("(none)".into(), |p| p.display().to_string())
}

/// Multiply-accumulates of one inference: every convolution output pixel (before pooling)
/// times `9 * in_ch * out_ch`, plus the dense layer (the firmware counts the same way).
pub fn macs(model: &Model<'_>) -> u64 {
    let d = model.dims();
    let conv: usize = (0..N_BLOCKS)
        .map(|b| d.mels[b] * d.frames[b] * 9 * d.channels[b] * d.channels[b + 1])
        .sum();
    (conv + d.features() * model.classes().len()) as u64
}

/// FNV-1a of a mel-major `[n_mels, frames]` log-mel in the device's order: frame by frame,
/// each frame's `n_mels` f32 values as little-endian bytes.
pub fn mel_fnv(mel: &[f32], n_mels: usize, frames: usize) -> u32 {
    device::fnv1a(
        (0..frames)
            .flat_map(|t| (0..n_mels).map(move |m| mel[m * frames + t]))
            .flat_map(f32::to_le_bytes),
    )
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

/// The host's side of every segment of `clip`: PCM and log-mel checksums, int8 and float logits.
fn host_segments(clip: &LabeledClip, models: &HostModels) -> anyhow::Result<Vec<HostSegment>> {
    let q = models.int8_model()?;
    let f = models.float_model()?;
    let cfg = q
        .as_ref()
        .or(f.as_ref())
        .map_or(FrontendConfig::DEFAULT, |m| *m.frontend());
    let mut lm = LogMel::new(&cfg)?;
    let n_mels = cfg.n_mels as usize;
    let frames = cfg.n_frames(SEGMENT_SAMPLES);
    let mut mel = vec![0.0f32; n_mels * frames];
    let mut qe = Executor::<i8>::new();
    let mut fe = Executor::<f32>::new();
    let mut out = Vec::new();
    for (si, seg) in clip.samples.chunks_exact(SEGMENT_SAMPLES).enumerate() {
        let ctx = || format!("clip {} segment {si} on the host", clip.name);
        lm.compute_i16(seg, &mut mel).with_context(ctx)?;
        let mut logits = Vec::new();
        if let Some(m) = &q {
            logits = vec![0i8; m.classes().len()];
            run_logmel(m, &mut qe, &mel, &mut (), &mut logits).with_context(ctx)?;
        }
        let mut float_logits = Vec::new();
        if let Some(m) = &f {
            float_logits = vec![0f32; m.classes().len()];
            run_logmel(m, &mut fe, &mel, &mut (), &mut float_logits).with_context(ctx)?;
        }
        out.push(HostSegment {
            pcm_fnv: device::fnv1a(seg.iter().flat_map(|s| s.to_le_bytes())),
            mel_fnv: mel_fnv(&mel, n_mels, frames),
            logits,
            float_logits,
        });
    }
    Ok(out)
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// Index of the largest value, the first on ties (as the firmware and `metrics` pick).
fn argmax<T: PartialOrd>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
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

/// Accuracy counters of one predictor.
#[derive(Default)]
struct Tally {
    segments: usize,
    segments_right: usize,
    tracks: usize,
    tracks_right: usize,
}

impl Tally {
    /// Adds one labelled track given its segments' class probabilities.
    fn track(&mut self, genre: usize, probs: &[Vec<f32>], n_classes: usize) {
        let refs: Vec<&[f32]> = probs.iter().map(Vec::as_slice).collect();
        for p in &refs {
            self.segments += 1;
            self.segments_right += usize::from(argmax(p) == genre);
        }
        self.tracks += 1;
        self.tracks_right += usize::from(metrics::vote(&refs, n_classes) == genre);
    }
    fn track_accuracy(&self) -> Option<f64> {
        (self.tracks > 0).then(|| self.tracks_right as f64 / self.tracks as f64)
    }
    fn segment_accuracy(&self) -> Option<f64> {
        (self.segments > 0).then(|| self.segments_right as f64 / self.segments as f64)
    }
}

fn compare(
    clips: &[LabeledClip],
    opts: &Options,
    models: &HostModels,
    host: &[Vec<HostSegment>],
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
    let q = models.int8_model()?;
    let f = models.float_model()?;
    let macs_host = q.as_ref().map(macs);
    if let Some(m) = macs_host
        && m != dev.macs_per_inference
    {
        bail!(
            "device counts {} MACs per inference, host {m}",
            dev.macs_per_inference
        );
    }
    let logits_q = q.as_ref().and_then(Model::logits_quant);
    let probs_i8 = |l: &[i8]| -> Vec<f32> {
        let q = logits_q.expect("int8 model");
        softmax(&l.iter().map(|&v| q.dequantize(v)).collect::<Vec<_>>())
    };
    let n_classes = models.classes()?.unwrap_or(0);

    let (mut pcm_same, mut mel_same, mut bits_same, mut top1_same, mut qf_same) = (0, 0, 0, 0, 0);
    let mut mismatches = Vec::new();
    let (mut t_dev, mut t_host, mut t_float) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut total = 0;
    let mut dev_iter = dev.segments.iter();
    for (ci, (clip, host)) in clips.iter().zip(host).enumerate() {
        if dev.clip_segments[ci] != host.len() {
            bail!(
                "clip {ci}: device made {} segments, host {}",
                dev.clip_segments[ci],
                host.len()
            );
        }
        let (mut p_dev, mut p_host, mut p_float) = (vec![], vec![], vec![]);
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
            mel_same += usize::from(d.mel_fnv == Some(h.mel_fnv));
            if q.is_some() {
                if d.logits.len() != n_classes {
                    bail!(
                        "clip {ci} segment {si}: device wrote {} logits, the model has {n_classes} classes",
                        d.logits.len()
                    );
                }
                if d.class != Some(argmax(&d.logits)) {
                    bail!("clip {ci} segment {si}: device class is not the argmax of its logits");
                }
                if d.logits == h.logits {
                    bits_same += 1;
                } else if mismatches.len() < 20 {
                    mismatches.push(format!(
                        "{} segment {si}: device {:?} host {:?}",
                        clip.name, d.logits, h.logits
                    ));
                }
                top1_same += usize::from(argmax(&d.logits) == argmax(&h.logits));
                p_dev.push(probs_i8(&d.logits));
                p_host.push(probs_i8(&h.logits));
                if f.is_some() {
                    qf_same += usize::from(argmax(&h.logits) == argmax(&h.float_logits));
                }
            }
            if f.is_some() {
                p_float.push(softmax(&h.float_logits));
            }
        }
        if let Some(g) = clip.genre {
            if q.is_some() {
                t_dev.track(g, &p_dev, n_classes);
                t_host.track(g, &p_host, n_classes);
            }
            if f.is_some() {
                t_float.track(g, &p_float, n_classes);
            }
        }
    }
    if dev_iter.next().is_some() {
        bail!("device wrote more segments than the clips hold");
    }
    let mean = |f: fn(&DeviceSegment) -> u64| {
        dev.segments.iter().map(|s| f(s) as f64).sum::<f64>() / dev.segments.len().max(1) as f64
    };
    let with_model = |v: f64| q.is_some().then_some(v);
    let cnn = mean(|s| s.cnn_insns);
    Ok(Report {
        model: opts.model.as_ref().map(|p| p.display().to_string()),
        clips: clips.len(),
        segments: total,
        pcm_identical_pct: pct(pcm_same, total),
        frontend_bit_identical_pct: Some(pct(mel_same, total)),
        bit_identical_pct: with_model(pct(bits_same, total)),
        mismatches,
        top1_agreement_pct: with_model(pct(top1_same, total)),
        device_track_accuracy: t_dev.track_accuracy(),
        host_track_accuracy: t_host.track_accuracy(),
        float_track_accuracy: t_float.track_accuracy(),
        device_segment_accuracy: t_dev.segment_accuracy(),
        float_segment_accuracy: t_float.segment_accuracy(),
        int8_float_top1_agreement_pct: (q.is_some() && f.is_some()).then(|| pct(qf_same, total)),
        macs_per_inference: macs_host,
        instructions_per_mac: macs_host.map(|m| cnn / m as f64),
        frontend_instructions_per_segment: mean(|s| s.frontend_insns),
        cnn_instructions_per_segment: with_model(cnn),
        flash_bytes: sizes.flash_bytes,
        static_ram_bytes: sizes.static_ram_bytes,
        peak_stack_bytes: dev.stack_peak_bytes,
        peak_ram_bytes: sizes.static_ram_bytes + dev.stack_peak_bytes,
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
            "  segment accuracy device/float: {} / {}; int8-vs-float top-1 agreement: {}\n",
            opt(self.device_segment_accuracy, ""),
            opt(self.float_segment_accuracy, ""),
            opt(self.int8_float_top1_agreement_pct, " %")
        );
        s += &format!(
            "  flash {} B, static RAM {} B, peak stack {} B, peak RAM {} B (calibration: {} instructions = {} ticks)\n",
            self.flash_bytes,
            self.static_ram_bytes,
            self.peak_stack_bytes,
            self.peak_ram_bytes,
            self.calibration.instructions,
            self.calibration.ticks
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    /// The comparison on a device output written by hand from the host's own results, with one
    /// logit of one segment changed: exactly that segment is reported as differing.
    #[test]
    fn compare_flags_exactly_the_segment_whose_logits_differ() {
        let dir = tempfile::tempdir().unwrap();
        let m = testmodel::build(testmodel::TestModelSpec::SMALL).unwrap();
        let q = dir.path().join("q.postcard");
        let f = dir.path().join("f.postcard");
        std::fs::write(&q, m.int8.encode().unwrap()).unwrap();
        std::fs::write(&f, m.float.encode().unwrap()).unwrap();
        let opts = Options {
            model: Some(q),
            float_model: Some(f),
            ..Options::default()
        };
        let models = HostModels::load(&opts).unwrap();
        let clips: Vec<LabeledClip> = (0..2)
            .map(|g| LabeledClip {
                name: format!("c{g}"),
                genre: Some(g),
                samples: to_i16(&synth::render_clip(g, 3.0, 40 + g as u64)),
            })
            .collect();
        let host: Vec<Vec<HostSegment>> = clips
            .iter()
            .map(|c| host_segments(c, &models).unwrap())
            .collect();
        let macs = macs(&models.int8_model().unwrap().unwrap());
        let mut text = format!(
            "tinygenre-fw 1 model_bytes=1 macs={macs}\ncalibration insns=4 ticks=1 insns_per_tick=40\n"
        );
        for (ci, segs) in host.iter().enumerate() {
            text += &format!("clip {ci} samples=66150 segments={}\n", segs.len());
            for (si, h) in segs.iter().enumerate() {
                let mut logits = h.logits.clone();
                if ci == 1 {
                    // Changes the device's logits but not its top class.
                    let low = argmax(&logits.iter().map(|&v| -i32::from(v)).collect::<Vec<_>>());
                    logits[low] = logits[low].saturating_add(1);
                }
                let joined: Vec<String> = logits.iter().map(i8::to_string).collect();
                text += &format!(
                    "seg {ci} {si} pcm_fnv={:08x} mel_fnv={:08x} fe=100 cnn=300 class={} logits={}\n",
                    h.pcm_fnv,
                    h.mel_fnv,
                    argmax(&logits),
                    joined.join(",")
                );
            }
        }
        text += "stack peak_bytes=10 region_bytes=100\ndone clips=2 segments=2\n";
        let dev = device::parse_output(&text).unwrap();
        let sizes = ElfSizes {
            flash_bytes: 1,
            static_ram_bytes: 2,
            sections: Default::default(),
            allocator_linked: false,
        };
        let r = compare(&clips, &opts, &models, &host, &sizes, &dev).unwrap();
        assert_eq!(r.segments, 2);
        assert_eq!(r.pcm_identical_pct, 100.0);
        assert_eq!(r.frontend_bit_identical_pct, Some(100.0));
        assert_eq!(r.bit_identical_pct, Some(50.0));
        assert_eq!(r.mismatches.len(), 1);
        assert!(
            r.mismatches[0].starts_with("c1 segment 0"),
            "{:?}",
            r.mismatches
        );
        assert_eq!(r.top1_agreement_pct, Some(100.0));
        assert_eq!(r.instructions_per_mac, Some(300.0 / macs as f64));
        assert_eq!(r.peak_ram_bytes, 12);

        // A device that counts MACs differently is an error, not a figure.
        let wrong = text.replace(&format!("macs={macs}"), &format!("macs={}", macs + 1));
        let dev = device::parse_output(&wrong).unwrap();
        assert!(compare(&clips, &opts, &models, &host, &sizes, &dev).is_err());
    }
}
