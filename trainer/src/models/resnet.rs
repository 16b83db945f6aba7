//! ResNet-18 (He et al. 2016) with a one-channel stem, trained from scratch.
//!
//! Stem `conv 7x7 stride 2 pad 3 (no bias) -> BatchNorm -> ReLU -> max-pool 3x3 stride 2 pad 1`,
//! four stages of two `BasicBlock`s (64, 128, 256, 512 channels; stride 2 from the second stage
//! on, with a 1x1 conv + BatchNorm shortcut where the shape changes), global average pool and a
//! linear head. Parameter names follow torchvision except the shortcut (`downsample.conv`,
//! `downsample.bn` instead of `downsample.0`, `downsample.1`).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

fn conv(c_in: usize, c_out: usize, k: usize, stride: usize, pad: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

/// The 1x1 projection shortcut.
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1x1 conv with the block's stride.
    pub conv: Conv2d,
    /// Its BatchNorm.
    pub bn: BatchNorm,
}

/// A ResNet basic block: two 3x3 convolutions and a shortcut.
#[derive(Module, Debug)]
pub struct BasicBlock {
    /// First 3x3 conv (carries the stride).
    pub conv1: Conv2d,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm,
    /// Second 3x3 conv.
    pub conv2: Conv2d,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm,
    /// Projection shortcut where the shape changes.
    pub downsample: Option<Downsample>,
    relu: Relu,
}

impl BasicBlock {
    fn new(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| Downsample {
            conv: conv(c_in, c_out, 1, stride, 0, device),
            bn: BatchNormConfig::new(c_out).init(device),
        });
        Self {
            conv1: conv(c_in, c_out, 3, stride, 1, device),
            bn1: BatchNormConfig::new(c_out).init(device),
            conv2: conv(c_out, c_out, 3, 1, 1, device),
            bn2: BatchNormConfig::new(c_out).init(device),
            downsample,
            relu: Relu::new(),
        }
    }

    /// `[b, c_in, h, w]` -> `[b, c_out, h / stride, w / stride]` (ceil).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => d.bn.forward(d.conv.forward(x.clone())),
            None => x.clone(),
        };
        let y = self.relu.forward(self.bn1.forward(self.conv1.forward(x)));
        let y = self.bn2.forward(self.conv2.forward(y));
        self.relu.forward(y + identity)
    }
}

/// ResNet-18.
#[derive(Module, Debug)]
pub struct ResNet18 {
    /// Stem conv 7x7 stride 2.
    pub conv1: Conv2d,
    /// Stem BatchNorm.
    pub bn1: BatchNorm,
    /// Stage 1 (64 channels).
    pub layer1: Vec<BasicBlock>,
    /// Stage 2 (128 channels, stride 2).
    pub layer2: Vec<BasicBlock>,
    /// Stage 3 (256 channels, stride 2).
    pub layer3: Vec<BasicBlock>,
    /// Stage 4 (512 channels, stride 2).
    pub layer4: Vec<BasicBlock>,
    /// Head 512 -> classes.
    pub fc: Linear,
    maxpool: MaxPool2d,
    avgpool: AdaptiveAvgPool2d,
    relu: Relu,
}

impl ResNet18 {
    /// A freshly initialised ResNet-18 for one-channel inputs.
    pub fn new(n_classes: usize, device: &Device) -> Self {
        let stage = |c_in: usize, c_out: usize, stride: usize| {
            vec![
                BasicBlock::new(c_in, c_out, stride, device),
                BasicBlock::new(c_out, c_out, 1, device),
            ]
        };
        Self {
            conv1: conv(1, 64, 7, 2, 3, device),
            bn1: BatchNormConfig::new(64).init(device),
            layer1: stage(64, 64, 1),
            layer2: stage(64, 128, 2),
            layer3: stage(128, 256, 2),
            layer4: stage(256, 512, 2),
            fc: LinearConfig::new(512, n_classes).init(device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            relu: Relu::new(),
        }
    }

    /// Logits. `x`: `[batch, 1, 128, 130]` -> `[batch, classes]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.relu.forward(self.bn1.forward(self.conv1.forward(x))); // [b, 64, 64, 65]
        let mut x = self.maxpool.forward(x); // [b, 64, 32, 33]
        for block in self
            .layer1
            .iter()
            .chain(&self.layer2)
            .chain(&self.layer3)
            .chain(&self.layer4)
        {
            x = block.forward(x); // ... [b, 512, 4, 5]
        }
        let x = self.avgpool.forward(x).flatten::<2>(1, 3); // [b, 512]
        self.fc.forward(x) // [b, classes]
    }
}
