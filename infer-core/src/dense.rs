//! Fully connected layer (no activation), f32 and int8.
//!
//! int8 arithmetic is tflite-micro's `reference_integer_ops::FullyConnected` with per-tensor
//! weights: `acc = sum (x - input_zero_point) * w + bias[o]`, requantised, plus the output zero
//! point, saturated to `[-128, 127]`. The kernel is a plain scalar loop: it is its own reference.

use crate::format::{f32s, i32s};
use crate::quant::Requantizer;

/// The parameters of one validated dense layer.
#[derive(Debug, Clone, Copy)]
pub enum DenseParams<'a> {
    /// f32 weights `[out][in]` and bias `[out]` (little-endian bytes).
    F32 {
        /// `[out][in]` f32.
        weights: &'a [u8],
        /// `[out]` f32.
        bias: &'a [u8],
    },
    /// int8 weights `[out][in]`, int32 bias `[out]`, one requantizer.
    Int8 {
        /// `[out][in]` i8.
        weights: &'a [u8],
        /// `[out]` i32.
        bias: &'a [u8],
        /// Per-tensor requantisation.
        requant: Requantizer,
        /// Zero point of the input activations.
        input_zero_point: i32,
        /// Zero point of the output logits.
        output_zero_point: i32,
    },
}

/// A validated dense layer.
#[derive(Debug, Clone, Copy)]
pub struct Dense<'a> {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Weights.
    pub params: DenseParams<'a>,
}

/// f32 dense: `out[o] = bias[o] + sum_i x[i] * w[o][i]`; `input`: `[in]`, `out`: `[out]`
/// (the outputs the layer's parameters hold: all of a loaded model's).
pub fn dense_f32(layer: &Dense<'_>, input: &[f32], out: &mut [f32]) {
    let DenseParams::F32 { weights, bias } = layer.params else {
        return;
    };
    let n = layer.in_features;
    let (rows, _) = weights.as_chunks::<4>();
    let rows = rows.chunks_exact(n.max(1)).zip(f32s(bias));
    for (y, (w, b)) in out.iter_mut().zip(rows).take(layer.out_features) {
        let mut acc = b;
        for (x, wb) in input.iter().zip(w) {
            acc += x * f32::from_le_bytes(*wb);
        }
        *y = acc;
    }
}

/// int8 dense (tflite-micro `FullyConnected`); `input`: `[in]`, `out`: `[out]` (the outputs
/// the layer's parameters hold: all of a loaded model's).
pub fn dense_i8(layer: &Dense<'_>, input: &[i8], out: &mut [i8]) {
    let DenseParams::Int8 {
        weights,
        bias,
        requant,
        input_zero_point,
        output_zero_point,
    } = layer.params
    else {
        return;
    };
    let n = layer.in_features;
    let rows = weights.chunks_exact(n.max(1)).zip(i32s(bias));
    for (y, (w, b)) in out.iter_mut().zip(rows).take(layer.out_features) {
        let mut acc: i32 = 0;
        for (&x, &wv) in input.iter().zip(w) {
            acc += (i32::from(x) - input_zero_point) * i32::from(wv as i8);
        }
        let acc = acc.wrapping_add(b);
        *y = requant
            .apply(acc)
            .saturating_add(output_zero_point)
            .clamp(-128, 127) as i8;
    }
}
