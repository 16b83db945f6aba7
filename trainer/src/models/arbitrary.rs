//! The CNN of Won et al.'s music-classification tutorial ("arbitrary" in the study).
//!
//! `BatchNorm` on the input, then five blocks of
//! `conv 3x3 (pad 1) -> BatchNorm -> ReLU -> max-pool -> dropout 0.1` with pools
//! (2,3), (3,4), (2,5), (3,3), (3,4) and channels 16, 16, 32, 32, 64; then
//! `Linear 64->64 -> BatchNorm -> ReLU -> dropout 0.5 -> Linear 64->classes`.
//! On its own front end (`FrontendConfig::HTK1024`, 29 s crop, `[batch, 1, 128, 1249]`) the pools
//! leave `[batch, 64, 1, 1]`. Should another input size leave more than one cell, the remaining
//! (mel, frame) cells are reduced by a global max (identity for the study's 1x1).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;

/// Channels of the five blocks.
pub const CHANNELS: [usize; 5] = [16, 16, 32, 32, 64];
/// Max-pool kernels (= strides) of the five blocks, (mel, frame).
pub const POOLS: [[usize; 2]; 5] = [[2, 3], [3, 4], [2, 5], [3, 3], [3, 4]];

/// The tutorial CNN.
#[derive(Module, Debug)]
pub struct Arbitrary {
    /// BatchNorm over the single input channel (`input_bn`).
    pub input_bn: BatchNorm,
    /// The five convolutions (`convs.{i}`).
    pub convs: Vec<Conv2d>,
    /// Their BatchNorms (`bns.{i}`).
    pub bns: Vec<BatchNorm>,
    /// `dense1`: 64 -> 64.
    pub dense1: Linear,
    /// `bn`: BatchNorm after `dense1`.
    pub bn: BatchNorm,
    /// `dense2`: 64 -> classes.
    pub dense2: Linear,
    pools: Vec<MaxPool2d>,
    dropout: Dropout,
    dropout_head: Dropout,
    relu: Relu,
}

impl Arbitrary {
    /// A freshly initialised model.
    pub fn new(n_classes: usize, device: &Device) -> Self {
        let mut c_in = 1;
        let mut convs = Vec::new();
        let mut bns = Vec::new();
        for &c in &CHANNELS {
            convs.push(
                Conv2dConfig::new([c_in, c], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device),
            );
            bns.push(BatchNormConfig::new(c).init(device));
            c_in = c;
        }
        Self {
            input_bn: BatchNormConfig::new(1).init(device),
            convs,
            bns,
            dense1: LinearConfig::new(c_in, c_in).init(device),
            bn: BatchNormConfig::new(c_in).init(device),
            dense2: LinearConfig::new(c_in, n_classes).init(device),
            pools: POOLS
                .iter()
                .map(|&k| MaxPool2dConfig::new(k).init())
                .collect(),
            dropout: DropoutConfig::new(0.1).init(),
            dropout_head: DropoutConfig::new(0.5).init(),
            relu: Relu::new(),
        }
    }

    /// Logits for a batch of normalised log-mel crops.
    ///
    /// `x`: `[batch, 1, 128, 1249]` -> `[batch, classes]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = self.input_bn.forward(x); // [b, 1, 128, 1249]
        for ((conv, bn), pool) in self.convs.iter().zip(&self.bns).zip(&self.pools) {
            // [b,16,64,416] [b,16,21,104] [b,32,10,20] [b,32,3,6] [b,64,1,1]
            x = self
                .dropout
                .forward(pool.forward(self.relu.forward(bn.forward(conv.forward(x)))));
        }
        let [b, c, h, w] = x.dims();
        let x = x.reshape([b, c, h * w]).max_dim(2).reshape([b, c]); // [b, 64]
        let x = self.relu.forward(self.bn.forward(self.dense1.forward(x))); // [b, 64]
        self.dense2.forward(self.dropout_head.forward(x)) // [b, classes]
    }
}
