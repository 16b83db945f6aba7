//! The f32 model file of a baseline: infer-core's front end for the input size, and the layout
//! conversions from Burn (convolution weights `[out, in, 3, 3]` -> `[out][3][3][in]` (OHWI); the
//! dense input is flattened (channel, mel, frame) by Burn and (mel, frame, channel) by
//! infer-core, so its weight columns are permuted).

use anyhow::ensure;
use infer_core::config::FrontendConfig;
use infer_core::format::owned::{OwnedLayer, OwnedModel};
use infer_core::format::{InputSpec, PosEnc as FilePosEnc};
use infer_core::model::{Model, N_BLOCKS};

use crate::models::PosEnc;
use crate::models::plain::{self, PlainBaseline};

/// Seconds of audio per model input (the study's 3 s segments).
pub const SEGMENT_SECONDS: f64 = 3.0;

/// The front end and segment length of a model input of `n_mels x frames`.
///
/// Real data uses the baseline's front end at `sample_rate` and segments from
/// [`crate::run::loader::input_spec`] ([`FrontendConfig::DEFAULT`], librosa's defaults, on 3 s
/// segments: 66150 samples, 130 frames; at 16000 Hz [`FrontendConfig::RATE16K`]: 48000 samples,
/// 130 frames). Inputs of other sizes (the in-memory toy set, which has no audio) get the default
/// front end with `n_mels` bands and the shortest segment giving `frames` frames.
///
/// # Errors
/// When `n_mels` or `frames` cannot be described by a valid front end, or the sample rate has
/// none.
pub fn frontend_for(
    n_mels: usize,
    frames: usize,
    sample_rate: u32,
) -> anyhow::Result<(FrontendConfig, u32)> {
    let (fe, seg, f) =
        crate::run::loader::input_spec(crate::models::ModelKind::Baseline, sample_rate);
    ensure!(
        fe.sample_rate == sample_rate,
        "no front end reads {sample_rate} Hz (22050 and 16000 are built)"
    );
    if fe.n_mels as usize == n_mels && f == frames {
        let samples = (seg.seconds * fe.sample_rate as f32).round() as u32;
        return Ok((fe, samples));
    }
    let fe = FrontendConfig {
        n_mels: u32::try_from(n_mels)?,
        ..FrontendConfig::DEFAULT
    };
    fe.validate()
        .map_err(|e| anyhow::anyhow!("no front end with {n_mels} mel bands: {e}"))?;
    ensure!(frames >= 1, "a model input needs at least one frame");
    let seg = (SEGMENT_SECONDS * f64::from(fe.sample_rate)).round() as usize;
    let samples = if fe.n_frames(seg) == frames {
        seg
    } else {
        (frames - 1) * fe.hop_length as usize
    };
    ensure!(
        fe.n_frames(samples) == frames,
        "no segment length gives {frames} frames"
    );
    Ok((fe, u32::try_from(samples)?))
}

fn file_posenc(p: PosEnc) -> FilePosEnc {
    match p {
        PosEnc::None => FilePosEnc::None,
        PosEnc::Coord => FilePosEnc::Coord,
        PosEnc::Sinusoidal => FilePosEnc::Sinusoidal,
    }
}

/// Convolution weights `[out, in, 3, 3]` -> `[out][3][3][in]`.
fn ohwi(c: &plain::PlainConv) -> Vec<f32> {
    let (co, ci) = (c.out_channels, c.in_channels);
    let mut w = vec![0f32; co * 9 * ci];
    for o in 0..co {
        for i in 0..ci {
            for k in 0..9 {
                w[(o * 9 + k) * ci + i] = c.weight[(o * ci + i) * 9 + k];
            }
        }
    }
    w
}

/// Dense weights `[out][(c, m, t)]` -> `[out][(m, t, c)]` for `channels x mels x frames`
/// features.
fn dense_hwc(d: &plain::PlainDense, channels: usize, mels: usize, frames: usize) -> Vec<f32> {
    let n = d.in_features;
    let mut w = vec![0f32; d.out_features * n];
    for o in 0..d.out_features {
        for c in 0..channels {
            for m in 0..mels {
                for t in 0..frames {
                    w[o * n + (m * frames + t) * channels + c] =
                        d.weight[o * n + (c * mels + m) * frames + t];
                }
            }
        }
    }
    w
}

fn check_shapes(p: &PlainBaseline) -> anyhow::Result<(usize, usize, usize)> {
    ensure!(
        p.convs.len() == N_BLOCKS,
        "the baseline has {} convolutions, the model file format {N_BLOCKS}",
        p.convs.len()
    );
    let mut ci = p.posenc.in_channels();
    for (b, c) in p.convs.iter().enumerate() {
        ensure!(
            c.in_channels == ci
                && c.weight.len() == c.out_channels * ci * 9
                && c.bias.len() == c.out_channels,
            "convolution {b}: inconsistent shapes ({} -> {}, {} weights)",
            c.in_channels,
            c.out_channels,
            c.weight.len()
        );
        ci = c.out_channels;
    }
    let (m, t) = (p.n_mels >> N_BLOCKS, p.frames >> N_BLOCKS);
    ensure!(
        p.dense.in_features == ci * m * t
            && p.dense.weight.len() == p.dense.in_features * p.dense.out_features
            && p.dense.bias.len() == p.dense.out_features,
        "dense layer: {} features, expected {ci} x {m} x {t}",
        p.dense.in_features
    );
    Ok((ci, m, t))
}

/// The f32 model file of a baseline (weights as trained).
///
/// # Errors
/// Inconsistent shapes, too many classes, or sizes no front end describes.
pub fn to_f32(p: &PlainBaseline, name: &str, classes: &[String]) -> anyhow::Result<OwnedModel> {
    let (c5, m5, t5) = check_shapes(p)?;
    ensure!(
        classes.len() == p.dense.out_features,
        "{} class names for {} outputs",
        classes.len(),
        p.dense.out_features
    );
    let (frontend, segment_samples) = frontend_for(p.n_mels, p.frames, p.sample_rate)?;
    let mut layers = Vec::with_capacity(N_BLOCKS + 1);
    for c in &p.convs {
        layers.push(OwnedLayer::conv_f32(
            u16::try_from(c.in_channels)?,
            u16::try_from(c.out_channels)?,
            &ohwi(c),
            &c.bias,
        ));
    }
    layers.push(OwnedLayer::dense_f32(
        u16::try_from(p.dense.in_features)?,
        u16::try_from(p.dense.out_features)?,
        &dense_hwc(&p.dense, c5, m5, t5),
        &p.dense.bias,
    ));
    let model = OwnedModel {
        name: name.to_string(),
        classes: classes.to_vec(),
        input: InputSpec {
            segment_samples,
            n_mels: u16::try_from(p.n_mels)?,
            frames: u16::try_from(p.frames)?,
            mean: p.input_mean,
            std: p.input_std,
            posenc: file_posenc(p.posenc),
            quant: None,
        },
        layers,
        frontend,
    };
    // Everything infer-core checks at load time, checked now.
    let bytes = model.encode().map_err(|e| anyhow::anyhow!("{e}"))?;
    Model::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("exported f32 model is invalid: {e}"))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontend_for_study_and_toy_inputs() {
        let (fe, s) = frontend_for(128, 130, 22050).unwrap();
        assert_eq!((fe, s), (FrontendConfig::DEFAULT, 66150));
        let (fe, s) = frontend_for(32, 40, 22050).unwrap();
        assert_eq!(fe.n_mels, 32);
        assert_eq!(fe.n_frames(s as usize), 40);
        assert!(frontend_for(0, 40, 22050).is_err());
        let (fe, s) = frontend_for(128, 130, 16000).unwrap();
        assert_eq!((fe, s), (FrontendConfig::RATE16K, 48000));
        assert!(frontend_for(128, 130, 44100).is_err());
    }

    #[test]
    fn layout_permutations_match_hand_indices() {
        let c = plain::PlainConv {
            out_channels: 2,
            in_channels: 3,
            weight: (0..54).map(|i| i as f32).collect(),
            bias: vec![0.0; 2],
        };
        let w = ohwi(&c);
        // [o=1][k=4 (centre)][i=2] <- [o=1][i=2][1][1] = (1*3 + 2)*9 + 4
        assert_eq!(w[(9 + 4) * 3 + 2], 49.0);
        let d = plain::PlainDense {
            out_features: 1,
            in_features: 12,
            weight: (0..12).map(|i| i as f32).collect(),
            bias: vec![0.0],
        };
        // 2 channels x 2 mels x 3 frames: file (m=1, t=2, c=1) <- Burn (c=1, m=1, t=2) = 6+3+2
        let w = dense_hwc(&d, 2, 2, 3);
        assert_eq!(w[(3 + 2) * 2 + 1], 11.0);
        assert_eq!(w[1], 6.0); // (m0 t0 c1) <- c1 m0 t0
    }
}
