//! The host's side of the cross-check: the models, and every segment recomputed with infer-core
//! exactly as the firmware computes it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use infer_core::config::FrontendConfig;
use infer_core::executor::{Executor, run_logmel};
use infer_core::frontend::LogMel;
use infer_core::model::{Model, N_BLOCKS, Precision};

use super::{LabeledClip, Options, SEGMENT_SAMPLES, device};

/// What the host computed for one segment.
#[derive(Debug, Clone)]
pub(super) struct HostSegment {
    pub(super) pcm_fnv: u32,
    pub(super) mel_fnv: u32,
    /// int8 logits (int8 model given).
    pub(super) logits: Vec<i8>,
    /// float logits (float model given).
    pub(super) float_logits: Vec<f32>,
}

/// The models run on the host: the int8 model (also embedded in the firmware) and its float twin.
pub(super) struct HostModels {
    int8: Option<Vec<u8>>,
    float: Option<Vec<u8>>,
}

impl HostModels {
    pub(super) fn load(opts: &Options) -> anyhow::Result<HostModels> {
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
    pub(super) fn int8_model(&self) -> anyhow::Result<Option<Model<'_>>> {
        Ok(self.int8.as_deref().map(Model::from_bytes).transpose()?)
    }
    pub(super) fn float_model(&self) -> anyhow::Result<Option<Model<'_>>> {
        Ok(self.float.as_deref().map(Model::from_bytes).transpose()?)
    }
    pub(super) fn classes(&self) -> anyhow::Result<Option<usize>> {
        Ok(match (self.int8_model()?, self.float_model()?) {
            (Some(m), _) | (None, Some(m)) => Some(m.classes().len()),
            (None, None) => None,
        })
    }
}

pub(super) fn show(p: &Option<PathBuf>) -> String {
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

/// The host's side of every segment of `clip`: PCM and log-mel checksums, int8 and float logits.
pub(super) fn host_segments(
    clip: &LabeledClip,
    models: &HostModels,
) -> anyhow::Result<Vec<HostSegment>> {
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
