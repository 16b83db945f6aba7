//! The baseline's weights as plain arrays in PyTorch layout, for the exporter.
//!
//! Burn stores a `Linear` weight as `[in, out]`; [`PlainDense::weight`] is `[out, in]` (transposed
//! here). Convolution weights are `[out, in, 3, 3]` in both. The flatten before the dense layer is
//! in (channel, mel, frame) order, as Burn flattens `[batch, 8, 4, 4]`.

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};

use super::{PosEnc, named_tensors};

/// One 3x3 convolution (stride 1, padding 1), followed in the network by ReLU and a 2x2 max-pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainConv {
    /// Output channels.
    pub out_channels: usize,
    /// Input channels.
    pub in_channels: usize,
    /// `[out, in, 3, 3]` row-major.
    pub weight: Vec<f32>,
    /// `[out]`.
    pub bias: Vec<f32>,
}

/// The dense classifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainDense {
    /// Classes.
    pub out_features: usize,
    /// Flattened features (8 x mel x frame after the last pool).
    pub in_features: usize,
    /// `[out, in]` row-major.
    pub weight: Vec<f32>,
    /// `[out]`.
    pub bias: Vec<f32>,
}

/// The baseline CNN as plain data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainBaseline {
    /// The five conv layers.
    pub convs: Vec<PlainConv>,
    /// The classifier.
    pub dense: PlainDense,
    /// Positional encoding (see [`super::posenc`]); coordinate channels are channels 1 and 2 of
    /// the first conv's input.
    pub posenc: PosEnc,
    /// Mel bands of the input.
    pub n_mels: usize,
    /// Frames of the input.
    pub frames: usize,
    /// Input normalisation mean.
    pub input_mean: f32,
    /// Input normalisation standard deviation.
    pub input_std: f32,
    /// Sample rate of the audio the front end reads (22050, or 16000 for `--sample-rate 16000`).
    #[serde(default = "crate::models::study_sample_rate")]
    pub sample_rate: u32,
}

impl PlainBaseline {
    /// Read a Burn baseline's weights (any device).
    pub fn from_model(
        model: &super::baseline::Baseline,
        n_mels: usize,
        frames: usize,
        input_mean: f32,
        input_std: f32,
        sample_rate: u32,
    ) -> anyhow::Result<Self> {
        let tensors = named_tensors(model);
        let get = |path: &str| {
            tensors
                .iter()
                .find(|t| t.path == path)
                .with_context(|| format!("baseline has no tensor {path}"))
        };
        let mut convs = Vec::new();
        for i in 0..model.convs.len() {
            let w = get(&format!("convs.{i}.weight"))?;
            let b = get(&format!("convs.{i}.bias"))?;
            ensure!(
                w.shape.len() == 4 && w.shape[2..] == [3, 3],
                "convs.{i}.weight has shape {:?}",
                w.shape
            );
            convs.push(PlainConv {
                out_channels: w.shape[0],
                in_channels: w.shape[1],
                weight: w.data.clone(),
                bias: b.data.clone(),
            });
        }
        let w = get("dense.weight")?; // Burn [in, out]
        let b = get("dense.bias")?;
        let (i, o) = (w.shape[0], w.shape[1]);
        let mut weight = vec![0f32; i * o];
        for r in 0..i {
            for c in 0..o {
                weight[c * i + r] = w.data[r * o + c];
            }
        }
        Ok(Self {
            convs,
            dense: PlainDense {
                out_features: o,
                in_features: i,
                weight,
                bias: b.data.clone(),
            },
            posenc: model.posenc,
            n_mels,
            frames,
            input_mean,
            input_std,
            sample_rate,
        })
    }

    /// Straightforward f32 forward pass (no Burn), for checking exports: `log-mel [n_mels,
    /// frames]` (not normalised) -> logits `[classes]`.
    pub fn forward(&self, logmel: &[f32]) -> Vec<f32> {
        let (mut h, mut w) = (self.n_mels, self.frames);
        let mut x: Vec<f32> = logmel
            .iter()
            .map(|v| (v - self.input_mean) / self.input_std)
            .collect();
        match self.posenc {
            PosEnc::None => {}
            PosEnc::Coord => x.extend(super::posenc::coord_planes(h, w)),
            PosEnc::Sinusoidal => {
                for (v, p) in x.iter_mut().zip(super::posenc::sinusoidal_plane(h, w)) {
                    *v += p;
                }
            }
        }
        for conv in &self.convs {
            let (ci, co) = (conv.in_channels, conv.out_channels);
            let mut y = vec![0f32; co * h * w];
            for o in 0..co {
                for r in 0..h {
                    for c in 0..w {
                        let mut acc = conv.bias[o];
                        for i in 0..ci {
                            for kr in 0..3 {
                                for kc in 0..3 {
                                    let (rr, cc) = (
                                        r as isize + kr as isize - 1,
                                        c as isize + kc as isize - 1,
                                    );
                                    if rr >= 0 && cc >= 0 && (rr as usize) < h && (cc as usize) < w
                                    {
                                        acc += conv.weight[((o * ci + i) * 3 + kr) * 3 + kc]
                                            * x[(i * h + rr as usize) * w + cc as usize];
                                    }
                                }
                            }
                        }
                        y[(o * h + r) * w + c] = acc.max(0.0);
                    }
                }
            }
            let (h2, w2) = (h / 2, w / 2);
            x = vec![0f32; co * h2 * w2];
            for o in 0..co {
                for r in 0..h2 {
                    for c in 0..w2 {
                        let at = |dr: usize, dc: usize| y[(o * h + 2 * r + dr) * w + 2 * c + dc];
                        x[(o * h2 + r) * w2 + c] =
                            at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                    }
                }
            }
            (h, w) = (h2, w2);
        }
        let d = &self.dense;
        (0..d.out_features)
            .map(|o| {
                d.bias[o]
                    + (0..d.in_features)
                        .map(|i| d.weight[o * d.in_features + i] * x[i])
                        .sum::<f32>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::baseline::Baseline;
    use burn::prelude::*;

    #[test]
    fn plain_forward_matches_burn_for_every_posenc() {
        let d = Device::flex();
        for posenc in [PosEnc::None, PosEnc::Coord, PosEnc::Sinusoidal] {
            d.seed(3);
            let model = Baseline::new(
                5,
                32,
                35,
                posenc,
                crate::models::baseline::DROPOUT,
                Default::default(),
                &d,
            );
            let plain = PlainBaseline::from_model(&model, 32, 35, -30.0, 12.0, 22050).unwrap();
            assert_eq!(plain.dense.in_features, 8);
            assert_eq!(plain.convs[0].in_channels, posenc.in_channels());
            let x: Vec<f32> = (0..32 * 35)
                .map(|i| -30.0 + 15.0 * ((i * 7919 % 101) as f32 / 50.0 - 1.0))
                .collect();
            let xn: Vec<f32> = x.iter().map(|v| (v + 30.0) / 12.0).collect();
            let burn = model
                .forward(Tensor::from_data(TensorData::new(xn, [1, 1, 32, 35]), &d))
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            let ours = plain.forward(&x);
            for (a, b) in burn.iter().zip(&ours) {
                assert!((a - b).abs() < 1e-4, "{posenc}: {burn:?} vs {ours:?}");
            }
        }
    }
}
