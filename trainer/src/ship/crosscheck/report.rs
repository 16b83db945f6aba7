//! The cross-check's comparison of device and host, and its [`Report`].

use anyhow::{Context, bail};
use infer_core::model::Model;
use serde::Serialize;

use super::device::{DeviceOutput, DeviceSegment, ElfSizes};
use super::host::{HostModels, HostSegment, macs};
use super::{LabeledClip, Options};
use crate::base::metrics;
use crate::evaluate::inference::{argmax, softmax};

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

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
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

pub(super) fn compare(
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
    use crate::data::synth;
    use crate::ship::crosscheck::host::{HostModels, host_segments};
    use crate::ship::crosscheck::{device, testmodel, to_i16};

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
