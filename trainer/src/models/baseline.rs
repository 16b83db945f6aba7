//! The baseline CNN of Cheng et al. (2020), as used by the study.
//!
//! Five blocks of `conv 3x3 (stride 1, pad 1) -> ReLU -> max-pool 2x2 -> dropout 0.5` with
//! 128, 64, 32, 16 and 8 channels, then flatten and one dense layer to the classes. On the study's
//! input `[batch, 1, 128, 130]` (3 s of log-mel) the five floor-pools leave `[batch, 8, 4, 4]`,
//! i.e. 128 features. Optional positional encodings: see [`super::posenc`].

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::posenc::{self, PosEnc};

/// Channels of the five convolution blocks (the study's).
pub const CHANNELS: [usize; 5] = [128, 64, 32, 16, 8];

/// The channels of the five blocks (`--widths`): the study's [`CHANNELS`] by default; narrower
/// ones make the tiny family (`--preset tiny`). infer-core compiles its buffers for the study's
/// widths, so each block may be at most as wide as the study's (its `FromStr` checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Widths(pub [usize; 5]);

impl Default for Widths {
    fn default() -> Self {
        Self(CHANNELS)
    }
}

impl Widths {
    /// Whether these are the study's widths (serde: then they are not written).
    pub fn is_study(&self) -> bool {
        *self == Self::default()
    }

    /// Multiply-accumulates of the five convolutions and the dense layer on an input of
    /// `in_channels x n_mels x frames` with `n_classes` outputs (3x3 kernels, same padding,
    /// 2x2 floor pools).
    pub fn macs(&self, in_channels: usize, n_mels: usize, frames: usize, n_classes: usize) -> u64 {
        let (mut ci, mut m, mut t, mut total) = (in_channels, n_mels, frames, 0u64);
        for &co in &self.0 {
            total += (9 * ci * co * m * t) as u64;
            (ci, m, t) = (co, m / 2, t / 2);
        }
        total + (ci * m * t * n_classes) as u64
    }

    /// Weights and biases of the five convolutions and the dense layer.
    pub fn params(
        &self,
        in_channels: usize,
        n_mels: usize,
        frames: usize,
        n_classes: usize,
    ) -> u64 {
        let mut ci = in_channels;
        let mut total = 0u64;
        for &co in &self.0 {
            total += (9 * ci * co + co) as u64;
            ci = co;
        }
        let features = ci * pooled(n_mels) * pooled(frames);
        total + (features * n_classes + n_classes) as u64
    }
}

impl std::str::FromStr for Widths {
    type Err = anyhow::Error;
    /// `a,b,c,d,e`: five channel counts, each from 1 to the study's width of that block.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        anyhow::ensure!(
            parts.len() == 5,
            "--widths {s:?}: expected five channel counts like 8,16,32,16,8, got {}",
            parts.len()
        );
        let mut w = [0usize; 5];
        for (b, (p, out)) in parts.iter().zip(w.iter_mut()).enumerate() {
            let n: usize = p.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--widths {s:?}: block {} width {p:?} is not a whole number",
                    b + 1
                )
            })?;
            anyhow::ensure!(
                (1..=CHANNELS[b]).contains(&n),
                "--widths {s:?}: block {} has {n} channels; infer-core runs 1 to {} there",
                b + 1,
                CHANNELS[b]
            );
            *out = n;
        }
        Ok(Self(w))
    }
}

impl std::fmt::Display for Widths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e] = self.0;
        write!(f, "{a},{b},{c},{d},{e}")
    }
}
/// Dropout probability after every block (the study's; `--dropout` changes it).
pub const DROPOUT: f64 = 0.5;

/// Spatial size after the five 2x2 floor-pools.
pub fn pooled(n: usize) -> usize {
    (0..CHANNELS.len()).fold(n, |n, _| n / 2)
}

/// Input frames of a training example with stream context (`--stream-context`) for a network of
/// `frames` input frames: the `pooled(frames)` block-5 columns its dense layer reads, plus one
/// column (32 frames) of real audio on either side. Each block-5 column `c` depends on input
/// frames `32 c - 31 ..= 32 c + 62` (five 3x3 convolutions with 2x2 pools), so the middle columns
/// of such an example are computed from real frames only, never from the convolutions' zero
/// padding: exactly what infer-core's continuous executor computes for a hop of a stream.
pub fn context_frames(frames: usize) -> usize {
    (pooled(frames) + 2) << CHANNELS.len()
}

/// The baseline CNN.
#[derive(Module, Debug)]
pub struct Baseline {
    /// The five 3x3 convolutions (PyTorch names `convs.{i}`).
    pub convs: Vec<Conv2d>,
    /// The classifier `[8 * h * w] -> classes` (PyTorch name `dense`).
    pub dense: Linear,
    pool: MaxPool2d,
    dropout: Dropout,
    relu: Relu,
    /// Positional encoding applied to the input.
    #[module(skip)]
    pub posenc: PosEnc,
    /// Block-5 columns the dense layer reads (`pooled(frames)`); a wider input (stream context,
    /// [`context_frames`]) is cropped to its middle columns before the dense layer.
    #[module(skip)]
    pub dense_frames: usize,
}

impl Baseline {
    /// A freshly initialised baseline for inputs `[batch, 1, n_mels, frames]`, with dropout
    /// probability `dropout` after every block (the study's: [`DROPOUT`]).
    pub fn new(
        n_classes: usize,
        n_mels: usize,
        frames: usize,
        posenc: PosEnc,
        dropout: f64,
        widths: Widths,
        device: &Device,
    ) -> Self {
        let mut convs = Vec::with_capacity(widths.0.len());
        let mut c_in = posenc.in_channels();
        for &c_out in &widths.0 {
            convs.push(
                Conv2dConfig::new([c_in, c_out], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device),
            );
            c_in = c_out;
        }
        let features = c_in * pooled(n_mels) * pooled(frames);
        Self {
            convs,
            dense: LinearConfig::new(features, n_classes).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dropout: DropoutConfig::new(dropout).init(),
            relu: Relu::new(),
            posenc,
            dense_frames: pooled(frames),
        }
    }

    /// Apply the positional encoding: `[b, 1, m, t]` -> `[b, 1 or 3, m, t]`.
    pub fn encode(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, _, m, t] = x.dims();
        let device = x.device();
        match self.posenc {
            PosEnc::None => x,
            PosEnc::Coord => {
                let planes = Tensor::<4>::from_data(
                    TensorData::new(posenc::coord_planes(m, t), [1, 2, m, t]),
                    &device,
                )
                .expand([b, 2, m, t]);
                Tensor::cat(vec![x, planes], 1)
            }
            PosEnc::Sinusoidal => {
                let plane = Tensor::<4>::from_data(
                    TensorData::new(posenc::sinusoidal_plane(m, t), [1, 1, m, t]),
                    &device,
                );
                x + plane
            }
        }
    }

    /// Logits for a batch of normalised log-mel segments.
    ///
    /// `x`: `[batch, 1, n_mels, frames]` -> `[batch, classes]`. An input wider than the network's
    /// (`frames > 32 x dense_frames + 31`, a stream-context example of [`context_frames`]) runs
    /// through the convolutions whole, and the dense layer reads the middle `dense_frames`
    /// block-5 columns: a hop of a continuous stream.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = self.encode(x); // [b, 1|3, 128, 130]
        for conv in &self.convs {
            // [b, c, h, w] -> conv [b, c', h, w] -> pool [b, c', h/2, w/2]
            x = self
                .dropout
                .forward(self.pool.forward(self.relu.forward(conv.forward(x))));
        }
        let w = x.dims()[3];
        let x = if w > self.dense_frames {
            x.narrow(3, (w - self.dense_frames) / 2, self.dense_frames) // [b, 8, 4, 6] -> [b, 8, 4, 4]
        } else {
            x
        };
        let x = x.flatten::<2>(1, 3); // [b, 8, 4, 4] -> [b, 128], order (channel, mel, frame)
        self.dense.forward(x) // [b, classes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_parse_within_the_devices_buffers() {
        let w: Widths = "16, 24,32,16,8".parse().unwrap();
        assert_eq!(w, Widths([16, 24, 32, 16, 8]));
        assert_eq!(w.to_string(), "16,24,32,16,8");
        assert!(!w.is_study());
        assert!(Widths::default().is_study());
        for bad in [
            "16,24,32,16",
            "16,24,32,16,8,8",
            "0,24,32,16,8",
            "129,64,32,16,8",
            "16,x,32,16,8",
            "16,24,32,16,9",
        ] {
            assert!(bad.parse::<Widths>().is_err(), "{bad}");
        }
    }

    #[test]
    fn macs_and_params_by_hand_and_by_burn() {
        // by hand, the study's network on 1 x 128 x 130 with 10 classes:
        // 9*1*128*128*130 + 9*128*64*64*65 + 9*64*32*32*32 + 9*32*16*16*16 + 9*16*8*8*8 + 8*4*4*10
        let study = Widths::default();
        assert_eq!(
            study.macs(1, 128, 130, 10),
            19_169_280 + 306_708_480 + 18_874_368 + 1_179_648 + 73_728 + 1_280
        );
        let device = Device::flex();
        for w in [study, Widths([16, 24, 32, 16, 8]), Widths([3, 5, 7, 2, 1])] {
            let net = Baseline::new(10, 128, 130, PosEnc::None, DROPOUT, w, &device);
            assert_eq!(w.params(1, 128, 130, 10), net.num_params() as u64, "{w}");
            let x = Tensor::<4>::zeros([2, 1, 128, 130], &device);
            assert_eq!(net.forward(x).dims(), [2, 10]);
        }
    }
}
