//! `trainer crosscheck --stream`: the firmware's `live` binary under QEMU (continuous mode, the
//! clips fed in 1024-sample DMA half-buffers at a stated clock) against infer-core's
//! `Classifier` on the host fed the same chunks, compared hop by hop (int8 logits, smoothed
//! posterior bits, decision, top-1, window start) and by each clip's track decision
//! (`Classifier::track`), with the device's schedule replayed from its per-chunk costs (duty
//! cycle, worst hop latency, overruns) and three track decisions per clip: the majority of the
//! hops' decisions, the mean of their posteriors (`track`) and the study's segment vote.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use infer_core::classifier::{Classifier, ClassifierConfig, Decision, argmax};
use infer_core::format::MAX_CLASSES;
use infer_core::model::{Model, Precision};
use serde::Serialize;

use super::device::{self, DeviceError};
use super::live::{LiveHop, Schedule, parse_live};
use super::{CHUNK, LabeledClip, SAMPLE_RATE};

/// Longest clip the live firmware accepts (10 minutes).
pub const MAX_LIVE_SAMPLES: usize = 600 * SAMPLE_RATE;

/// Settings of one streaming cross-check.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The int8 `.postcard` model to embed and run on the host.
    pub model: PathBuf,
    /// The firmware crate (default: `<repo>/firmware-example`).
    pub firmware_dir: PathBuf,
    /// Where to write the clips and the device output (default: a temporary directory).
    pub work_dir: Option<PathBuf>,
    /// The stated core clock the schedule is replayed at (default 168 MHz).
    pub clock_hz: u64,
    /// The frame queue between front end and CNN (default 8).
    pub queue_frames: u32,
    /// QEMU time limit (default: 60 s plus 2 s per second of audio).
    pub timeout: Option<Duration>,
}

impl StreamOptions {
    /// Defaults for `model`.
    pub fn new(model: PathBuf) -> StreamOptions {
        StreamOptions {
            model,
            firmware_dir: device::repo_root().join("firmware-example"),
            work_dir: None,
            clock_hz: 168_000_000,
            queue_frames: 8,
            timeout: None,
        }
    }
}

/// One clip's figures.
#[derive(Debug, Clone, Serialize)]
pub struct StreamClip {
    /// Clip name.
    pub name: String,
    /// True genre, when known.
    pub truth: Option<String>,
    /// Hops the device reported.
    pub hops: usize,
    /// Of them, bit-identical to the host's.
    pub bit_identical_hops: usize,
    /// Majority of the hops' decisions (lowest class on ties).
    pub hop_vote: Option<String>,
    /// The device's `Classifier::track` decision at the clip's end (the host's is compared).
    pub track: Option<String>,
    /// The study's segment vote (non-overlapping 3 s segments on the host, majority of top-1).
    pub segment_vote: Option<String>,
    /// The device's schedule.
    pub schedule: Schedule,
}

/// The streaming cross-check's results (written as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    /// Model file.
    pub model: String,
    /// Clips processed.
    pub clips: usize,
    /// Seconds of audio.
    pub audio_seconds: f64,
    /// Hops compared (the device's; the host must report the same number).
    pub hops: usize,
    /// Hops bit-identical in int8 logits, posterior bits, decision, top-1 and window start.
    pub bit_identical_hops: usize,
    /// `bit_identical_hops / hops` (%).
    pub bit_identical_pct: f64,
    /// Hops whose decision agrees.
    pub same_decision_hops: usize,
    /// Clips whose device track decision equals the host's.
    pub same_track_clips: usize,
    /// Differing hops (clip, hop, device and host line), at most 20.
    pub mismatches: Vec<String>,
    /// Track accuracy of the majority of hop decisions (labelled clips).
    pub hop_vote_track_accuracy: Option<f64>,
    /// Track accuracy of `Classifier::track` (the mean posterior) on the device.
    pub mean_posterior_track_accuracy: Option<f64>,
    /// Track accuracy of the study's segment vote (host).
    pub segment_vote_track_accuracy: Option<f64>,
    /// Smallest and largest duty cycle over the clips (ppm).
    pub duty_ppm_range: (u64, u64),
    /// Worst hop latency over the clips (us at the clock).
    pub worst_hop_latency_us: u64,
    /// Overruns (chunk and queue) over all clips.
    pub overruns: u64,
    /// The most frames queued at once over all clips.
    pub max_queue: u32,
    /// Flash image of `live` (`.vector_table + .text + .rodata + .data`).
    pub flash_bytes: u64,
    /// Peak stack of the run (stack painting).
    pub peak_stack_bytes: u64,
    /// Wall-clock seconds QEMU ran.
    pub qemu_seconds: f64,
    /// Wall-clock seconds of the whole check (build included).
    pub wall_seconds: f64,
    /// Per clip.
    pub per_clip: Vec<StreamClip>,
}

/// What the host computed for one clip.
struct HostClip {
    hops: Vec<LiveHop>,
    track: i64,
    segment_top1: Vec<usize>,
}

fn class_of(d: Decision) -> i64 {
    match d {
        Decision::Genre(g) => g as i64,
        Decision::Undecided => -1,
    }
}

/// The host's `Classifier`, continuous and segment mode, fed `clip` in the firmware's chunks.
fn host_clip(model: &Model<'_>, clip: &LabeledClip) -> anyhow::Result<HostClip> {
    let ctx = || format!("clip {} on the host", clip.name);
    let mut c = Box::new(Classifier::<i8>::new(model, ClassifierConfig::CONTINUOUS)?);
    let mut s = Box::new(Classifier::<i8>::new(model, ClassifierConfig::SEGMENT)?);
    let (mut hops, mut segment_top1) = (Vec::new(), Vec::new());
    for part in clip.samples.chunks(CHUNK) {
        c.push_i16(part, |h| {
            hops.push(LiveHop {
                index: h.index,
                start: h.start_sample,
                class: class_of(h.decision),
                top1: h.top1(),
                logits: h.logits.to_vec(),
                post: h.posterior.iter().map(|p| p.to_bits()).collect(),
            })
        })
        .with_context(ctx)?;
        s.push_i16(part, |h| segment_top1.push(h.top1()))
            .with_context(ctx)?;
    }
    let track = class_of(c.track(&mut [0.0; MAX_CLASSES]));
    Ok(HostClip {
        hops,
        track,
        segment_top1,
    })
}

/// The majority (the lowest index among ties); `None` without votes.
fn vote(labels: impl Iterator<Item = i64>, n: usize) -> Option<usize> {
    let mut counts = vec![0usize; n];
    for l in labels {
        if let Some(c) = usize::try_from(l).ok().and_then(|l| counts.get_mut(l)) {
            *c += 1;
        }
    }
    let best = argmax(&counts);
    (counts.get(best).is_some_and(|&c| c > 0)).then_some(best)
}

/// Writes the clips and the live firmware's clip list (clock and queue first).
fn write_live_clips(dir: &Path, clips: &[LabeledClip], opts: &StreamOptions) -> anyhow::Result<()> {
    let mut list = format!(
        "# tinygenre live clip list\nclock_hz {}\nqueue_frames {}\n",
        opts.clock_hz, opts.queue_frames
    );
    for (i, c) in clips.iter().enumerate() {
        let name = format!("clip{i:04}.pcm");
        device::write_pcm(&dir.join(&name), &c.samples)?;
        list += &format!("clip {} {name}\n", c.samples.len());
    }
    Ok(crate::base::fsio::write_atomic(
        &dir.join(device::CLIP_LIST),
        list.as_bytes(),
    )?)
}

/// Runs the streaming cross-check on `clips`.
pub fn run_stream(clips: &[LabeledClip], opts: &StreamOptions) -> anyhow::Result<StreamReport> {
    let t0 = Instant::now();
    if clips.is_empty() {
        bail!("no clips to cross-check");
    }
    if let Some(c) = clips.iter().find(|c| c.samples.len() > MAX_LIVE_SAMPLES) {
        bail!(
            "clip {}: longer than the live firmware's 10 minutes",
            c.name
        );
    }
    let bytes = std::fs::read(&opts.model)
        .with_context(|| format!("reading model {}", opts.model.display()))?;
    let model = Model::from_bytes(&bytes)
        .with_context(|| format!("{}: not a valid model", opts.model.display()))?;
    if model.precision() != Precision::Int8 {
        bail!(
            "{}: the firmware runs int8 models only",
            opts.model.display()
        );
    }
    let n = model.classes().len();
    if let Some(c) = clips.iter().find(|c| c.genre.is_some_and(|g| g >= n)) {
        bail!(
            "clip {}: genre index out of the model's {n} classes",
            c.name
        );
    }
    let elf = device::build_firmware_bin(&opts.firmware_dir, Some(&opts.model), "live", false)?;
    let sizes = super::checked_sizes(&elf)?;
    let (work_dir, _tmp) = super::work_dir(opts.work_dir.as_deref())?;
    write_live_clips(&work_dir, clips, opts)?;
    let samples: usize = clips.iter().map(|c| c.samples.len()).sum();
    let audio_seconds = samples as f64 / f64::from(model.frontend().sample_rate);
    let timeout = opts
        .timeout
        .unwrap_or(Duration::from_secs(60 + 2 * audio_seconds.ceil() as u64));
    // the host's side runs while QEMU does
    let (dev, host) = std::thread::scope(|s| {
        let host = s.spawn(|| {
            clips
                .iter()
                .map(|c| host_clip(&model, c))
                .collect::<anyhow::Result<Vec<_>>>()
        });
        (device::run_qemu(&elf, &work_dir, timeout), host.join())
    });
    let (text, qemu_seconds) = dev.map_err(|e| match e {
        DeviceError::QemuMissing => anyhow::anyhow!(e),
        e => anyhow::anyhow!("live run in {}: {e}", work_dir.display()),
    })?;
    let host = host.map_err(|_| anyhow::anyhow!("the host computation panicked"))??;
    let dev = parse_live(&text).with_context(|| format!("{}", work_dir.display()))?;
    if dev.clips.len() != clips.len() {
        bail!(
            "the device reported {} clips, expected {}",
            dev.clips.len(),
            clips.len()
        );
    }
    if dev.sample_rate != model.frontend().sample_rate {
        bail!(
            "the live firmware ran at {} Hz, {} reads {} Hz",
            dev.sample_rate,
            opts.model.display(),
            model.frontend().sample_rate
        );
    }
    if dev.model_bytes != bytes.len() as u64 {
        bail!(
            "the firmware embeds {} model bytes, {} has {}",
            dev.model_bytes,
            opts.model.display(),
            bytes.len()
        );
    }

    let label = |c: Option<usize>| {
        c.and_then(|c| model.classes().get(c))
            .map(|s| s.to_string())
    };
    let mut r = StreamReport {
        model: opts.model.display().to_string(),
        clips: clips.len(),
        audio_seconds,
        hops: 0,
        bit_identical_hops: 0,
        bit_identical_pct: 0.0,
        same_decision_hops: 0,
        same_track_clips: 0,
        mismatches: Vec::new(),
        hop_vote_track_accuracy: None,
        mean_posterior_track_accuracy: None,
        segment_vote_track_accuracy: None,
        duty_ppm_range: (u64::MAX, 0),
        worst_hop_latency_us: 0,
        overruns: 0,
        max_queue: 0,
        flash_bytes: sizes.flash_bytes,
        peak_stack_bytes: dev.stack_peak_bytes,
        qemu_seconds,
        wall_seconds: 0.0,
        per_clip: Vec::new(),
    };
    let (mut labelled, mut right) = (0usize, [0usize; 3]);
    for ((clip, h), d) in clips.iter().zip(&host).zip(&dev.clips) {
        if d.hops.len() != h.hops.len() {
            bail!(
                "clip {}: the device reported {} hops, the host {}",
                clip.name,
                d.hops.len(),
                h.hops.len()
            );
        }
        let mut same = 0;
        for (dh, hh) in d.hops.iter().zip(&h.hops) {
            r.same_decision_hops += usize::from(dh.class == hh.class);
            if dh == hh {
                same += 1;
            } else if r.mismatches.len() < 20 {
                r.mismatches.push(format!(
                    "{} hop {}: device {dh:?} host {hh:?}",
                    clip.name, dh.index
                ));
            }
        }
        r.same_track_clips += usize::from(d.track == h.track);
        let hop_vote = vote(d.hops.iter().map(|h| h.class), n);
        let track = usize::try_from(d.track).ok();
        let segment_vote = vote(h.segment_top1.iter().map(|&c| c as i64), n);
        if let Some(g) = clip.genre {
            labelled += 1;
            for (k, v) in [hop_vote, track, segment_vote].into_iter().enumerate() {
                right[k] += usize::from(v == Some(g));
            }
        }
        let s = &d.schedule;
        r.hops += d.hops.len();
        r.bit_identical_hops += same;
        r.duty_ppm_range = (
            r.duty_ppm_range.0.min(s.duty_ppm),
            r.duty_ppm_range.1.max(s.duty_ppm),
        );
        r.worst_hop_latency_us = r.worst_hop_latency_us.max(s.worst_hop_latency_us);
        r.overruns += s.chunk_overruns + s.queue_overruns;
        r.max_queue = r.max_queue.max(s.max_queue);
        r.per_clip.push(StreamClip {
            name: clip.name.clone(),
            truth: label(clip.genre),
            hops: d.hops.len(),
            bit_identical_hops: same,
            hop_vote: label(hop_vote),
            track: label(track),
            segment_vote: label(segment_vote),
            schedule: s.clone(),
        });
    }
    if r.hops == 0 {
        bail!("no hops to compare: the clips are shorter than the first hop (about 3.8 s)");
    }
    r.bit_identical_pct = 100.0 * r.bit_identical_hops as f64 / r.hops as f64;
    let acc = |k: usize| (labelled > 0).then(|| right[k] as f64 / labelled as f64);
    r.hop_vote_track_accuracy = acc(0);
    r.mean_posterior_track_accuracy = acc(1);
    r.segment_vote_track_accuracy = acc(2);
    r.wall_seconds = t0.elapsed().as_secs_f64();
    Ok(r)
}

impl StreamReport {
    /// Whether every hop and every track decision is bit-identical.
    pub fn identical(&self) -> bool {
        self.bit_identical_hops == self.hops && self.same_track_clips == self.clips
    }

    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        let mut s = format!(
            "stream cross-check: {} clips, {:.1} s of audio (model: {})\n",
            self.clips, self.audio_seconds, self.model
        );
        s += &format!(
            "  hops bit-identical (logits, posterior bits, decision, top-1, window): {} of {} = {:.2} %\n",
            self.bit_identical_hops, self.hops, self.bit_identical_pct
        );
        s += &format!(
            "  same decision: {} of {} hops; same track decision: {} of {} clips\n",
            self.same_decision_hops, self.hops, self.same_track_clips, self.clips
        );
        s += &format!(
            "  track accuracy: hop vote {} / mean posterior (Classifier::track) {} / segment vote {}\n",
            opt(self.hop_vote_track_accuracy),
            opt(self.mean_posterior_track_accuracy),
            opt(self.segment_vote_track_accuracy)
        );
        let (clock, queue) = self
            .per_clip
            .first()
            .map_or((0, 0), |c| (c.schedule.clock_hz, c.schedule.queue_frames));
        s += &format!(
            "  schedule at {} MHz, queue {queue}: duty {:.3} to {:.3}, worst hop latency {:.1} ms, {} overruns, max queue {}\n",
            clock / 1_000_000,
            self.duty_ppm_range.0 as f64 / 1e6,
            self.duty_ppm_range.1 as f64 / 1e6,
            self.worst_hop_latency_us as f64 / 1e3,
            self.overruns,
            self.max_queue
        );
        s += &format!(
            "  flash {} B, peak stack {} B, QEMU {:.1} s, wall {:.1} s\n",
            self.flash_bytes, self.peak_stack_bytes, self.qemu_seconds, self.wall_seconds
        );
        s
    }
}
