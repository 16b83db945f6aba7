//! 3x3 convolution (stride 1, zero padding 1) with fused ReLU, f32 and int8.
//!
//! Activations are channel-last: a pixel is the `[channels]` vector at one (mel, frame) position,
//! as TFLite's NHWC with H = mel and W = frame. Weights are `[out][3 mel][3 frame][in]` (OHWI).
//!
//! Two forms, held together by tests:
//! - [`pixel_f32`] / [`pixel_i8`]: one output pixel (all output channels) from its nine input
//!   taps; the streaming executor calls these.
//! - [`conv3x3_relu_ref_f32`] / [`conv3x3_relu_ref_i8`]: plain whole-tensor loops, the reference.
//!
//! int8 arithmetic is tflite-micro's `reference_integer_ops::ConvPerChannel`: `acc = sum (x -
//! input_zero_point) * w` over in-image taps (padding contributes nothing, i.e. real 0), `acc +=
//! bias[c]`, `acc = requant[c].apply(acc) + output_zero_point`, clamped to `[act_min, 127]` where
//! `act_min = max(-128, output_zero_point)` is the fused ReLU.

use crate::Error;
use crate::format::{f32s, i32s};
use crate::quant::Requantizer;

/// The nine taps of one output pixel, `k = (mel offset + 1) * 3 + (frame offset + 1)`; `None`
/// where the tap falls in the zero padding.
pub type Taps<'x, A> = [Option<&'x [A]>; 9];

/// The parameters of one validated convolution (lengths checked by the model loader).
#[derive(Debug, Clone, Copy)]
pub enum ConvParams<'a> {
    /// f32 weights and bias (little-endian bytes).
    F32 {
        /// `[out][3][3][in]` f32.
        weights: &'a [u8],
        /// `[out]` f32.
        bias: &'a [u8],
    },
    /// int8 weights, int32 bias, per-channel requantisation.
    Int8 {
        /// `[out][3][3][in]` i8.
        weights: &'a [u8],
        /// `[out]` i32.
        bias: &'a [u8],
        /// `[out]` i32 Q31 multipliers.
        multipliers: &'a [u8],
        /// `[out]` i8 shifts.
        shifts: &'a [u8],
        /// Zero point of the input activations.
        input_zero_point: i32,
        /// Zero point of the output activations.
        output_zero_point: i32,
        /// Lower clamp (the fused ReLU): `max(-128, output_zero_point)`.
        act_min: i32,
    },
}

/// A validated 3x3 convolution layer.
#[derive(Debug, Clone, Copy)]
pub struct Conv3x3<'a> {
    /// Input channels.
    pub in_ch: usize,
    /// Output channels.
    pub out_ch: usize,
    /// Weights.
    pub params: ConvParams<'a>,
}

impl Conv3x3<'_> {
    /// The requantizer of output channel `o`: `None` for an f32 layer, a channel past the
    /// layer's parameters, or stored fields [`Requantizer::new`] rejects (none of which a
    /// model that [`crate::model::Model::from_bytes`] accepted has).
    #[inline]
    pub fn requantizer(&self, o: usize) -> Option<Requantizer> {
        match self.params {
            ConvParams::Int8 {
                multipliers,
                shifts,
                ..
            } => {
                let m = crate::format::i32_at(multipliers, o)?;
                let s = *shifts.get(o)?;
                Requantizer::new(m, s as i8).ok()
            }
            ConvParams::F32 { .. } => None,
        }
    }
}

/// One f32 output pixel: `out[o] = relu(bias[o] + sum_k sum_i taps[k][i] * w[o][k][i])`,
/// `out`: `[out_ch]`, each tap `[in_ch]`. Does nothing on an int8 layer; writes only the
/// channels the layer's parameters hold (all `out_ch` of a loaded model's layer).
pub fn pixel_f32(layer: &Conv3x3<'_>, taps: &Taps<'_, f32>, out: &mut [f32]) {
    let ConvParams::F32 { weights, bias } = layer.params else {
        return;
    };
    let in_ch = layer.in_ch;
    let channels = out.iter_mut().zip(f32s(bias)).take(layer.out_ch);
    for (o, (y, b)) in channels.enumerate() {
        let mut acc = b;
        for (k, tap) in taps.iter().enumerate() {
            let Some(x) = tap else { continue };
            let base = (o * 9 + k) * in_ch * 4;
            let Some(w) = weights.get(base..base + in_ch * 4) else {
                continue;
            };
            let (w, _) = w.as_chunks::<4>();
            let mut s = 0.0f32;
            for (xv, wb) in x.iter().zip(w) {
                s += xv * f32::from_le_bytes(*wb);
            }
            acc += s;
        }
        *y = if acc > 0.0 { acc } else { 0.0 };
    }
}

/// One int8 output pixel (tflite-micro `ConvPerChannel` with fused ReLU), `out`: `[out_ch]`,
/// each tap `[in_ch]`. Does nothing on an f32 layer; writes only the channels the layer's
/// parameters hold (all `out_ch` of a loaded model's layer).
pub fn pixel_i8(layer: &Conv3x3<'_>, taps: &Taps<'_, i8>, out: &mut [i8]) {
    let ConvParams::Int8 {
        weights,
        bias,
        input_zero_point,
        output_zero_point,
        act_min,
        ..
    } = layer.params
    else {
        return;
    };
    let in_ch = layer.in_ch;
    let channels = out.iter_mut().zip(i32s(bias)).take(layer.out_ch);
    for (o, (y, b)) in channels.enumerate() {
        let Some(r) = layer.requantizer(o) else {
            break;
        };
        let mut acc: i32 = 0;
        for (k, tap) in taps.iter().enumerate() {
            let Some(x) = tap else { continue };
            let base = (o * 9 + k) * in_ch;
            let Some(w) = weights.get(base..base + in_ch) else {
                continue;
            };
            // |acc| <= 9 * 128 * 255 * 127 < 2^31: no overflow for in_ch <= 128.
            let mut s: i32 = 0;
            for (&xv, &wv) in x.iter().zip(w) {
                s += (i32::from(xv) - input_zero_point) * i32::from(wv as i8);
            }
            acc += s;
        }
        let acc = acc.wrapping_add(b);
        let v = r.apply(acc).saturating_add(output_zero_point);
        *y = v.max(act_min).min(127) as i8;
    }
}

/// Reference: the whole convolution + ReLU on an HWC tensor, plain loops.
///
/// `input`: `[mels][frames][in_ch]`, `out`: `[mels][frames][out_ch]`.
///
/// # Errors
/// [`Error::OutputTooSmall`] / [`Error::ShapeMismatch`] if the buffers or the layer's
/// parameters do not fit.
pub fn conv3x3_relu_ref_f32(
    layer: &Conv3x3<'_>,
    input: &[f32],
    mels: usize,
    frames: usize,
    out: &mut [f32],
) -> Result<(), Error> {
    let ConvParams::F32 { weights, bias } = layer.params else {
        return Err(Error::ModelArchitectureUnsupported);
    };
    let (ci, co) = (layer.in_ch, layer.out_ch);
    check(input.len(), out.len(), mels, frames, ci, co)?;
    if weights.len() != 4 * co * 9 * ci || bias.len() != 4 * co {
        return Err(Error::ShapeMismatch);
    }
    let (weights, _) = weights.as_chunks::<4>();
    for m in 0..mels {
        for t in 0..frames {
            for (o, b) in f32s(bias).enumerate() {
                let mut acc = b;
                for dm in 0..3 {
                    for dt in 0..3 {
                        let (mm, tt) = ((m + dm).wrapping_sub(1), (t + dt).wrapping_sub(1));
                        if mm >= mels || tt >= frames {
                            continue;
                        }
                        let x = input.iter().skip((mm * frames + tt) * ci).take(ci);
                        let w = weights.iter().skip(((o * 3 + dm) * 3 + dt) * ci);
                        for (x, w) in x.zip(w) {
                            acc += x * f32::from_le_bytes(*w);
                        }
                    }
                }
                if let Some(y) = out.get_mut((m * frames + t) * co + o) {
                    *y = acc.max(0.0);
                }
            }
        }
    }
    Ok(())
}

/// Reference int8 convolution + ReLU on an HWC tensor (same layouts as
/// [`conv3x3_relu_ref_f32`]).
///
/// # Errors
/// As [`conv3x3_relu_ref_f32`], and [`Error::ModelBadQuantisation`] for a stored requantizer
/// [`Requantizer::new`] rejects.
pub fn conv3x3_relu_ref_i8(
    layer: &Conv3x3<'_>,
    input: &[i8],
    mels: usize,
    frames: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    let ConvParams::Int8 {
        weights,
        bias,
        input_zero_point,
        output_zero_point,
        act_min,
        ..
    } = layer.params
    else {
        return Err(Error::ModelArchitectureUnsupported);
    };
    let (ci, co) = (layer.in_ch, layer.out_ch);
    check(input.len(), out.len(), mels, frames, ci, co)?;
    if weights.len() != co * 9 * ci || bias.len() != 4 * co {
        return Err(Error::ShapeMismatch);
    }
    for m in 0..mels {
        for t in 0..frames {
            for (o, b) in i32s(bias).enumerate() {
                let r = layer.requantizer(o).ok_or(Error::ModelBadQuantisation)?;
                let mut acc: i64 = 0;
                for dm in 0..3 {
                    for dt in 0..3 {
                        let (mm, tt) = ((m + dm).wrapping_sub(1), (t + dt).wrapping_sub(1));
                        if mm >= mels || tt >= frames {
                            continue;
                        }
                        let x = input.iter().skip((mm * frames + tt) * ci).take(ci);
                        let w = weights.iter().skip(((o * 3 + dm) * 3 + dt) * ci);
                        for (&x, &w) in x.zip(w) {
                            acc += i64::from(i32::from(x) - input_zero_point) * i64::from(w as i8);
                        }
                    }
                }
                let acc = (acc as i32).wrapping_add(b);
                let v = r.apply(acc).saturating_add(output_zero_point);
                if let Some(y) = out.get_mut((m * frames + t) * co + o) {
                    *y = v.max(act_min).min(127) as i8;
                }
            }
        }
    }
    Ok(())
}

fn check(
    inp: usize,
    out: usize,
    mels: usize,
    frames: usize,
    ci: usize,
    co: usize,
) -> Result<(), Error> {
    if inp < mels * frames * ci {
        return Err(Error::ShapeMismatch);
    }
    if out < mels * frames * co {
        return Err(Error::OutputTooSmall);
    }
    Ok(())
}
