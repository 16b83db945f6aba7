//! The fast int8 convolution: four output pixels at a time, max-pooled on the int32
//! accumulators, on top of [`crate::dsp`] (SMLAD on Cortex-M4/M7, portable elsewhere).
//!
//! Per tile of four pixels and per chunk of up to [`CHUNK_K`] taps-times-channels:
//! 1. the four im2col columns are built once, widened to int16 with the input zero point
//!    subtracted (padding taps are 0, which is exactly "contributes nothing", as in the
//!    reference), in [`crate::dsp`]'s group order ([`crate::dsp::widen_into`] when the channel
//!    count is a multiple of four);
//! 2. every output channel runs over them with its int8 weights straight from the model
//!    (layout `[out][3][3][in]`, unchanged), accumulating on top of the bias: all channels in
//!    one pass of [`crate::dsp::dot4_channels`] when the chunk is whole groups, else channel by
//!    channel ([`crate::dsp::dot4`] and the odd tail).
//!
//! Layers with one input channel have their own path (`k9.rs`: [`conv9_pool_windows`]).
//!
//! Then each channel is requantised once per pooled output: the requantisation is monotonic
//! non-decreasing for a right shift (`shift <= 0`, every exported layer), so `requant(max(acc))
//! == max(requant(acc))` and the max-pool runs on the accumulators; a layer with a left shift
//! (where `x << shift` could wrap) requantises every pixel and pools afterwards. With a right
//! shift and the ReLU clamp at the output zero point (every exported layer) the requantisation
//! is [`FastRequant`]'s: TFLite's two roundings folded into one 64-bit multiply-add.
//!
//! The result is bit-identical to [`crate::conv::pixel_i8`] followed by [`crate::pool`]'s max,
//! the reference (tested below on random shapes, odd channel counts and padding edges, and on
//! the device by the firmware's `kernels` binary and its cross-check).

use crate::Error;
use crate::conv::{Conv3x3, ConvParams, Taps, pixel_f32, pixel_i8};
use crate::dsp::{self, Group, Quad9};
use crate::format::i32s;
use crate::pool;

/// Pixels per tile.
pub const TILE: usize = 4;
/// Most column values (taps x input channels) per chunk: whole taps, so that a chunk of the
/// widest layer (128 input channels) holds two taps. Sets the column buffer: 4 pixels x
/// `CHUNK_K` int16 = 2 KiB of stack (384, three taps, cost 1 KiB more for 0.2 % fewer
/// instructions, and the RAM budget is tight).
pub const CHUNK_K: usize = 256;
const CHUNK_G: usize = CHUNK_K / 4;
/// Most output channels the tile's accumulators hold (the widest block's).
pub const MAX_OUT: usize = 128;

/// How a tile's four pixels are max-pooled into its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePool {
    /// All four into `out0` (a whole 2x2 pooling window).
    Quad,
    /// Pixels 0 and 1 into `out0`, 2 and 3 into `out1` (two windows' halves along one axis).
    Pairs,
}

/// Packs one pixel's column values into [`Group`]s, four at a time.
struct Packer<'c> {
    col: &'c mut [Group],
    p: usize,
    j: usize,
    pending: [i16; 4],
}

fn pack(lo: i16, hi: i16) -> i32 {
    (i32::from(hi) << 16) | i32::from(lo as u16)
}

impl Packer<'_> {
    fn store(&mut self, [x0, x1, x2, x3]: [i16; 4]) {
        let (g, p) = (self.j / 4, self.p);
        if let Some(w) = self
            .col
            .get_mut(g)
            .and_then(|g| g.get_mut(2 * p..2 * p + 2))
        {
            w.copy_from_slice(&[pack(x0, x2), pack(x1, x3)]);
        }
        self.j += 4;
    }

    fn push(&mut self, v: i16) {
        let lane = self.j % 4;
        if let Some(s) = self.pending.get_mut(lane) {
            *s = v;
        }
        if lane == 3 {
            self.j -= 3;
            let pending = self.pending;
            self.store(pending);
        } else {
            self.j += 1;
        }
    }

    /// The tap's values minus the zero point (`None`: `n` zeros).
    fn tap(&mut self, x: Option<&[i8]>, n: usize, zp: i16) {
        let x = x.unwrap_or(&[]);
        let x = x.get(..n).unwrap_or(x);
        let mut rest = x;
        if self.j.is_multiple_of(4) {
            let (quads, tail) = x.as_chunks::<4>();
            for q in quads {
                self.store(q.map(|v| i16::from(v) - zp));
            }
            rest = tail;
        }
        for &v in rest {
            self.push(i16::from(v) - zp);
        }
        for _ in x.len()..n {
            self.push(0);
        }
    }

    /// Pads the last group with zeros; the number of groups.
    fn finish(mut self) -> usize {
        while !self.j.is_multiple_of(4) {
            self.push(0);
        }
        self.j / 4
    }
}

/// Pixel `p`'s column from its taps when the channel count is a multiple of four (`g` groups
/// per tap), through [`dsp::widen_into`]; padding taps are zeros.
#[inline(always)]
fn pack_taps(col: &mut [Group], taps: &[Option<&[i8]>], g: usize, zpn: i32, p: usize) {
    for (tap, dst) in taps.iter().zip(col.chunks_mut(g.max(1))) {
        match tap {
            Some(x) => dsp::widen_into(x, zpn, dst, p),
            None => {
                for d in dst.iter_mut() {
                    if let Some(pair) = d.get_mut(2 * p..2 * p + 2) {
                        pair.copy_from_slice(&[0, 0]);
                    }
                }
            }
        }
    }
}

/// Column value `j` of pixel `p` (for the weights' tail when a chunk's last group would read
/// past the end of the weights).
fn lane(col: &[Group], p: usize, j: usize) -> i32 {
    let (w, sh) = match j % 4 {
        0 => (0, 0),
        1 => (1, 0),
        2 => (0, 16),
        _ => (1, 16),
    };
    col.get(j / 4)
        .and_then(|g| g.get(2 * p + w))
        .map_or(0, |&v| i32::from((v >> sh) as i16))
}

/// Four int8 conv + ReLU output pixels (`taps[p]`, as [`pixel_i8`] takes them), max-pooled as
/// `pool` says into `out0` / `out1` (`[out_ch]` each). Bit-identical to [`pixel_i8`] on each
/// pixel then [`pool::max`]. Does nothing on an f32 layer.
pub fn conv_pool_i8(
    layer: &Conv3x3<'_>,
    taps: &[Taps<'_, i8>; TILE],
    pool: TilePool,
    out0: &mut [i8],
    out1: &mut [i8],
) {
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
    let (ci, co) = (layer.in_ch, layer.out_ch);
    if ci == 0 || ci > CHUNK_K || co > MAX_OUT {
        return conv_pool_scalar(layer, taps, pool, out0, out1);
    }
    // input zero points are int8, so x - zp is in [-255, 255]
    let zp = input_zero_point as i16;
    let k_all = 9 * ci;
    let taps_per_chunk = (CHUNK_K / ci).min(9);
    // [out][pixel]: bias + sum over the taps
    let mut acc = [[0i32; TILE]; MAX_OUT];
    for (a, b) in acc.iter_mut().zip(i32s(bias)).take(co) {
        *a = [b; TILE];
    }
    let mut col = [[0i32; 8]; CHUNK_G];
    let mut t0 = 0;
    while t0 < 9 {
        let t1 = (t0 + taps_per_chunk).min(9);
        let len = (t1 - t0) * ci;
        let mut groups = 0;
        if ci.is_multiple_of(4) {
            // whole groups per tap: four values per word, widened and offset two at a time
            let zpn = pack(-zp, -zp);
            let g = ci / 4;
            for (p, px) in taps.iter().enumerate() {
                pack_taps(&mut col, px.get(t0..t1).unwrap_or(&[]), g, zpn, p);
            }
            groups = len / 4;
        }
        let slow = if groups == 0 { &taps[..] } else { &[] };
        for (p, px) in slow.iter().enumerate() {
            let mut packer = Packer {
                col: &mut col,
                p,
                j: 0,
                pending: [0; 4],
            };
            for tap in px.get(t0..t1).unwrap_or(&[]) {
                packer.tap(*tap, ci, zp);
            }
            groups = packer.finish();
        }
        let col = col.get(..groups).unwrap_or(&[]);
        if 4 * groups == len {
            // whole groups: every channel in one pass
            let w = weights.get(t0 * ci..).unwrap_or(&[]);
            dsp::dot4_channels(col, w, k_all, acc.get_mut(..co).unwrap_or(&mut []));
            t0 = t1;
            continue;
        }
        for (o, a) in acc.iter_mut().enumerate().take(co) {
            let base = o * k_all + t0 * ci;
            let w = weights.get(base..).unwrap_or(&[]);
            if w.len() >= 4 * groups {
                dsp::dot4(col, w, a);
            } else {
                // the layer's last channel, when its chunk ends inside a group: whole groups
                // first, then the remaining values one by one (padding lanes are 0)
                let full = w.len() / 4;
                dsp::dot4(col, w, a);
                for j in 4 * full..len.min(w.len()) {
                    let wv = w.get(j).map_or(0, |&b| i32::from(b as i8));
                    for (p, ap) in a.iter_mut().enumerate() {
                        *ap = ap.wrapping_add(lane(col, p, j) * wv);
                    }
                }
            }
        }
        t0 = t1;
    }
    for (o, a) in acc.iter().enumerate().take(co) {
        store(layer, o, *a, output_zero_point, act_min, pool, out0, out1);
    }
}

/// Requantises channel `o`'s four accumulators and max-pools them into the outputs (nothing
/// for a channel without a requantizer, which a loaded model's int8 layer never has).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn store(
    layer: &Conv3x3<'_>,
    o: usize,
    a: [i32; TILE],
    output_zero_point: i32,
    act_min: i32,
    pool: TilePool,
    out0: &mut [i8],
    out1: &mut [i8],
) {
    let Some(r) = layer.requantizer(o) else {
        return;
    };
    let [a0, a1, a2, a3] = a;
    // the common case: the folded requantisation on the pooled accumulators
    if let Some(fast) = k9::FastRequant::new(r, output_zero_point, act_min) {
        match pool {
            TilePool::Quad => {
                if let Some(y) = out0.get_mut(o) {
                    *y = fast.apply(a0.max(a1).max(a2).max(a3));
                }
            }
            TilePool::Pairs => {
                if let Some(y) = out0.get_mut(o) {
                    *y = fast.apply(a0.max(a1));
                }
                if let Some(y) = out1.get_mut(o) {
                    *y = fast.apply(a2.max(a3));
                }
            }
        }
        return;
    }
    let q = |v: i32| {
        r.apply(v)
            .saturating_add(output_zero_point)
            .max(act_min)
            .min(127) as i8
    };
    // requant is monotonic for a right shift (the multiplier is positive; see the module docs)
    let monotonic = r.shift() <= 0;
    let pooled = |x: i32, y: i32| {
        if monotonic {
            q(x.max(y))
        } else {
            pool::max(q(x), q(y))
        }
    };
    match pool {
        TilePool::Quad => {
            if let Some(y) = out0.get_mut(o) {
                *y = if monotonic {
                    q(a0.max(a1).max(a2).max(a3))
                } else {
                    pool::max(pool::max(q(a0), q(a1)), pool::max(q(a2), q(a3)))
                };
            }
        }
        TilePool::Pairs => {
            if let Some(y) = out0.get_mut(o) {
                *y = pooled(a0, a1);
            }
            if let Some(y) = out1.get_mut(o) {
                *y = pooled(a2, a3);
            }
        }
    }
}

/// A whole int8 conv + ReLU + 2x2 max-pool (stride 2, floor) layer on an HWC tensor, one
/// tile per pooling window: what a layer-by-layer runtime would call (the firmware's
/// per-layer benchmark does). Bit-identical to [`crate::conv::conv3x3_relu_ref_i8`] then
/// [`pool::maxpool2x2_ref`].
///
/// `input`: `[mels][frames][in_ch]`, `out`: `[mels / 2][frames / 2][out_ch]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] / [`Error::OutputTooSmall`] if the buffers do not fit,
/// [`Error::ModelArchitectureUnsupported`] for an f32 layer.
pub fn conv3x3_relu_pool_i8(
    layer: &Conv3x3<'_>,
    input: &[i8],
    mels: usize,
    frames: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    let (pm, pt) = check_layer(layer, input, mels, frames, out)?;
    let (ci, co) = (layer.in_ch, layer.out_ch);
    if let (
        1,
        ConvParams::Int8 {
            input_zero_point, ..
        },
    ) = (ci, layer.params)
        && (1..=MAX_OUT).contains(&co)
    {
        // one input channel: twelve windows (three groups of four) per pass over the channels
        const G: usize = 3;
        let mut res = [[[0i8; MAX_OUT]; 4]; G];
        for (w0, dst) in (0..pm * pt).step_by(4 * G).zip(
            out.get_mut(..pm * pt * co)
                .unwrap_or(&mut [])
                .chunks_mut(4 * G * co),
        ) {
            let wins: [[Quad9; 4]; G] = core::array::from_fn(|g| {
                core::array::from_fn(|q| {
                    let w = w0 + 4 * g + q;
                    let (j, f) = (w / pt.max(1), w % pt.max(1));
                    let patch: Patch<i8> = core::array::from_fn(|i| {
                        core::array::from_fn(|k| {
                            let (m, t) = ((2 * j + i).wrapping_sub(1), (2 * f + k).wrapping_sub(1));
                            (w < pm * pt && m < mels && t < frames)
                                .then(|| input.get(m * frames + t).copied())
                                .flatten()
                        })
                    });
                    pack_patch(&patch, input_zero_point)
                })
            });
            let [r0, r1, r2] = &mut res;
            conv9_pool_windows(layer, &wins, &mut [r0, r1, r2]);
            for (d, r) in dst.chunks_mut(co).zip(res.iter().flatten()) {
                for (d, &r) in d.iter_mut().zip(r) {
                    *d = r;
                }
            }
        }
        return Ok(());
    }
    for (w, dst) in out.chunks_exact_mut(co.max(1)).take(pm * pt).enumerate() {
        let (j, f) = (w / pt, w % pt);
        let mut taps: [Taps<'_, i8>; TILE] = [[None; 9]; TILE];
        for (q, px_taps) in taps.iter_mut().enumerate() {
            let (m, t) = (2 * j + q / 2, 2 * f + q % 2);
            for (k, tap) in px_taps.iter_mut().enumerate() {
                let (mm, tt) = ((m + k / 3).wrapping_sub(1), (t + k % 3).wrapping_sub(1));
                if mm < mels && tt < frames {
                    let at = (mm * frames + tt) * ci;
                    *tap = input.get(at..at + ci);
                }
            }
        }
        conv_pool_i8(layer, &taps, TilePool::Quad, dst, &mut []);
    }
    Ok(())
}

/// The checks of a whole-layer call: an int8 layer, `input` holding `[mels][frames][in_ch]` and
/// `out` `[mels / 2][frames / 2][out_ch]`; the pooled size.
pub(crate) fn check_layer(
    layer: &Conv3x3<'_>,
    input: &[i8],
    mels: usize,
    frames: usize,
    out: &[i8],
) -> Result<(usize, usize), Error> {
    if !matches!(layer.params, ConvParams::Int8 { .. }) {
        return Err(Error::ModelArchitectureUnsupported);
    }
    let (pm, pt) = (mels / 2, frames / 2);
    if input.len() < mels * frames * layer.in_ch {
        return Err(Error::ShapeMismatch);
    }
    if out.len() < pm * pt * layer.out_ch {
        return Err(Error::OutputTooSmall);
    }
    Ok((pm, pt))
}

/// The same tile from the scalar reference kernels: [`pixel_i8`] per pixel, then the pool.
/// Also the fallback for shapes beyond the tile's buffers (the model loader rejects those).
pub fn conv_pool_scalar<A: Copy + Default + PartialOrd + ScalarPixel>(
    layer: &Conv3x3<'_>,
    taps: &[Taps<'_, A>; TILE],
    pool: TilePool,
    out0: &mut [A],
    out1: &mut [A],
) {
    let mut px = [[A::default(); MAX_OUT]; TILE];
    for (t, p) in taps.iter().zip(px.iter_mut()) {
        let n = layer.out_ch.min(MAX_OUT);
        A::pixel(layer, t, p.get_mut(..n).unwrap_or(&mut []));
    }
    let [p0, p1, p2, p3] = &px;
    match pool {
        TilePool::Quad => {
            pool::max_of(p0, p1, out0);
            let mut b = [A::default(); MAX_OUT];
            pool::max_of(p2, p3, &mut b);
            pool::max_into(out0, &b);
        }
        TilePool::Pairs => {
            pool::max_of(p0, p1, out0);
            pool::max_of(p2, p3, out1);
        }
    }
}

/// The scalar one-pixel kernel of an activation type.
pub trait ScalarPixel: Sized {
    /// [`pixel_f32`] or [`pixel_i8`].
    fn pixel(layer: &Conv3x3<'_>, taps: &Taps<'_, Self>, out: &mut [Self]);
}

impl ScalarPixel for i8 {
    fn pixel(layer: &Conv3x3<'_>, taps: &Taps<'_, i8>, out: &mut [i8]) {
        pixel_i8(layer, taps, out);
    }
}

impl ScalarPixel for f32 {
    fn pixel(layer: &Conv3x3<'_>, taps: &Taps<'_, f32>, out: &mut [f32]) {
        pixel_f32(layer, taps, out);
    }
}

mod k9;
#[cfg(test)]
mod tests;
pub mod wino;

pub use k9::{
    FastRequant, Patch, conv9_fast, conv9_pool_windows, conv9_pool_windows_with, pack_patch,
    pack_values,
};
