//! The activation types the executor runs on (`f32`, `i8`) and the observer of intermediate
//! activations.

use super::{Block1Windows, C1, IN_ROW, INPUT_RING};
use crate::Error;
use crate::conv::{self, Conv3x3, ConvParams, Taps};
use crate::conv_tile::wino::{Window, window_taps};
use crate::conv_tile::{self, TILE, TilePool};
use crate::dense::{self, Dense};
use crate::dsp::Quad9;
use crate::model::Precision;
use crate::quant::QParams;

/// An activation type the executor runs on: `f32` or `i8`.
pub trait Act: Copy + Default + PartialOrd + core::fmt::Debug + 'static {
    /// The model precision this type runs.
    const PRECISION: Precision;

    /// Four conv + ReLU output pixels (`taps[p]`), max-pooled as `pool` says into `out0` /
    /// `out1` (`[out_ch]` each).
    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, Self>; TILE],
        pool: TilePool,
        out0: &mut [Self],
        out1: &mut [Self],
    );
    /// Whether [`Act::conv_pool_block1`] may skip re-checking the layer's requantisation on
    /// every call (checked once per block-2 pass).
    fn block1_fast(_layer: &Conv3x3<'_>) -> bool {
        false
    }
    /// Block 1's fast path for a layer with one input channel: one conv + ReLU + 2x2 max-pool
    /// output pixel per window of `geo` (read from the input ring) into `out[g][w]`, groups
    /// `g` of four windows (up to three). Returns `false` (and writes nothing) where there is
    /// none (f32, or more than one input channel): the caller then uses [`Act::conv_pool`].
    fn conv_pool_block1(
        _layer: &Conv3x3<'_>,
        _input: &[[Self; IN_ROW]; INPUT_RING],
        _geo: &Block1Windows,
        _out: &mut [&mut [[Self; C1]; 4]],
    ) -> bool {
        false
    }
    /// Whether [`Act::conv_pool_windows`] has a faster path than [`Act::conv_pool`] window by
    /// window for this layer (int8 Winograd, with the `winograd` feature).
    fn windows_pay(_layer: &Conv3x3<'_>) -> bool {
        false
    }
    /// Up to four whole 2x2 pooling windows (each its 4x4 input patch) into `outs[w]`
    /// (`[out_ch]` each): [`Act::conv_pool`] per window unless [`Act::windows_pay`]. `scratch`:
    /// idle memory the caller lends (any contents, clobbered; may be empty).
    fn conv_pool_windows(
        layer: &Conv3x3<'_>,
        wins: &[Window<'_, Self>],
        outs: &mut [&mut [Self]],
        _scratch: &mut [f32],
    ) {
        for (w, out) in wins.iter().zip(outs.iter_mut()) {
            Self::conv_pool(layer, &window_taps(w), TilePool::Quad, out, &mut []);
        }
    }
    /// The dense layer (`input`: `[in]`, `out`: `[out]`).
    fn dense(layer: &Dense<'_>, input: &[Self], out: &mut [Self]);
    /// Converts a normalised input value (quantising for int8).
    fn from_normalised(x: f32, q: Option<QParams>) -> Self;
    /// Converts an activation back to a real value (dequantising for int8).
    fn to_real(self, q: Option<QParams>) -> f32;
    /// The whole-tensor reference convolution (see [`conv::conv3x3_relu_ref_f32`]).
    ///
    /// # Errors
    /// Buffer size mismatches.
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[Self],
        mels: usize,
        frames: usize,
        out: &mut [Self],
    ) -> Result<(), Error>;
}

impl Act for f32 {
    const PRECISION: Precision = Precision::F32;

    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, f32>; TILE],
        pool: TilePool,
        out0: &mut [f32],
        out1: &mut [f32],
    ) {
        conv_tile::conv_pool_scalar(layer, taps, pool, out0, out1);
    }
    fn dense(layer: &Dense<'_>, input: &[f32], out: &mut [f32]) {
        dense::dense_f32(layer, input, out);
    }
    fn from_normalised(x: f32, _q: Option<QParams>) -> f32 {
        x
    }
    fn to_real(self, _q: Option<QParams>) -> f32 {
        self
    }
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[f32],
        mels: usize,
        frames: usize,
        out: &mut [f32],
    ) -> Result<(), Error> {
        conv::conv3x3_relu_ref_f32(layer, input, mels, frames, out)
    }
}

impl Act for i8 {
    const PRECISION: Precision = Precision::Int8;

    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, i8>; TILE],
        pool: TilePool,
        out0: &mut [i8],
        out1: &mut [i8],
    ) {
        conv_tile::conv_pool_i8(layer, taps, pool, out0, out1);
    }
    fn block1_fast(layer: &Conv3x3<'_>) -> bool {
        conv_tile::conv9_fast(layer)
    }
    #[cfg(feature = "winograd")]
    fn windows_pay(layer: &Conv3x3<'_>) -> bool {
        conv_tile::wino::pays(layer)
    }
    #[cfg(feature = "winograd")]
    fn conv_pool_windows(
        layer: &Conv3x3<'_>,
        wins: &[Window<'_, i8>],
        outs: &mut [&mut [i8]],
        scratch: &mut [f32],
    ) {
        // whole chunks only (`windows_pay`): the general code stays out of the firmware
        if scratch.len() >= conv_tile::wino::SCRATCH_WORDS {
            let words = crate::dsp::wino::words_of(scratch);
            conv_tile::wino::conv_pool_wino_i8_in::<false>(layer, wins, outs, words);
        } else {
            conv_tile::wino::conv_pool_wino_i8::<false>(layer, wins, outs);
        }
    }
    fn conv_pool_block1(
        layer: &Conv3x3<'_>,
        input: &[[i8; IN_ROW]; INPUT_RING],
        geo: &Block1Windows,
        out: &mut [&mut [[i8; C1]; 4]],
    ) -> bool {
        let ConvParams::Int8 {
            input_zero_point: izp,
            ..
        } = layer.params
        else {
            return false;
        };
        if layer.in_ch != 1 {
            return false;
        }
        // up to three groups of four windows per pass over the channels
        let groups = geo.windows().div_ceil(4).min(3);
        let wins: [[Quad9; 4]; 3] = core::array::from_fn(|g| {
            core::array::from_fn(|x| {
                let v = geo.values(input, 4 * g + x, |v| i32::from(v) - izp);
                conv_tile::pack_values(&v)
            })
        });
        let wins = wins.get(..groups).unwrap_or(&[]);
        conv_tile::conv9_pool_windows_with(layer, wins, out, Some(geo.fast()));
        true
    }
    fn dense(layer: &Dense<'_>, input: &[i8], out: &mut [i8]) {
        dense::dense_i8(layer, input, out);
    }
    fn from_normalised(x: f32, q: Option<QParams>) -> i8 {
        q.map_or(0, |q| q.quantize(x))
    }
    fn to_real(self, q: Option<QParams>) -> f32 {
        q.map_or(0.0, |q| q.dequantize(self))
    }
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[i8],
        mels: usize,
        frames: usize,
        out: &mut [i8],
    ) -> Result<(), Error> {
        conv::conv3x3_relu_ref_i8(layer, input, mels, frames, out)
    }
}

/// Receives intermediate activations (for calibration and per-layer tests). All methods default
/// to doing nothing; `()` is the no-op observer.
pub trait Observer<A> {
    /// A pooled output pixel of block `block` (1..=5) at (`frame`, `mel`), `[channels]`; block 0
    /// is the encoded input. Block 1's last pooled frame is never materialised when the block-2
    /// pool drops it (odd frame count) and is then not reported.
    fn activation(&mut self, _block: usize, _frame: usize, _mel: usize, _channels: &[A]) {}
    /// The final logits.
    fn logits(&mut self, _logits: &[A]) {}
}

impl<A> Observer<A> for () {}
