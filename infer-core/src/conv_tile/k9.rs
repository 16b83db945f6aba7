//! Layers with one input channel (block 1: nine MACs per output): per output channel, the
//! weights are widened once ([`dsp::widen9`]) and run over several pooling windows
//! ([`dsp::quad9_max`]: the four pixels' sums and their max), then one requantisation per
//! window with the channel's constants hoisted ([`FastRequant`]).

use super::{TILE, TilePool, store};
use crate::conv::{Conv3x3, ConvParams, Taps};
use crate::dsp::{self, Quad9};
use crate::format::i32_at;
use crate::quant::Requantizer;

/// A window's 4x4 input patch, `[mel][frame]`, `None` in the padding: pixel `(dm, dt)` of the
/// window reads taps `patch[dm + i][dt + j]`, `i, j` in `0..3`.
pub type Patch<A> = [[Option<A>; 4]; 4];

/// Packs a patch into [`Quad9`] (input zero point subtracted, padding 0).
pub fn pack_patch(patch: &Patch<i8>, izp: i32) -> Quad9 {
    let v: [[i32; 4]; 4] = patch.map(|r| r.map(|x| x.map_or(0, |x| i32::from(x) - izp)));
    let pack = |lo: i32, hi: i32| (hi << 16) | (lo & 0xffff);
    core::array::from_fn(|p| {
        let (dm, dt) = (p / 2, p % 2);
        let x = |k: usize| {
            v.get(dm + k / 3)
                .and_then(|r| r.get(dt + k % 3))
                .copied()
                .unwrap_or(0)
        };
        [
            pack(x(0), x(2)),
            pack(x(1), x(3)),
            pack(x(4), x(6)),
            pack(x(5), x(7)),
            x(8),
        ]
    })
}

/// A channel's requantisation when it is monotonic and the ReLU clamp sits at or above the
/// output zero point (every exported layer): then every accumulator `<= 0` maps to `act_min`,
/// and for a positive one the rounding of TFLite's doubling high multiply and of the right
/// shift are plain round-half-up (no sign cases).
#[derive(Debug, Clone, Copy)]
pub struct FastRequant {
    mult: i64,
    right: u32,
    half: u32,
    ozp: i32,
    act_min: i32,
}

impl FastRequant {
    /// `None` where the shortcut does not hold (left shift, negative multiplier, a clamp below
    /// the output zero point).
    #[inline(always)]
    pub fn new(r: Requantizer, ozp: i32, act_min: i32) -> Option<FastRequant> {
        if r.shift > 0 || r.multiplier < 0 || act_min < ozp || !(-128..=127).contains(&ozp) {
            return None;
        }
        let right = u32::from(r.shift.unsigned_abs()).min(31);
        Some(FastRequant {
            mult: i64::from(r.multiplier),
            right,
            half: (1u32 << right) >> 1,
            ozp,
            act_min,
        })
    }

    /// `clamp(apply(acc) + ozp, act_min, 127)`, bit for bit.
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        if acc <= 0 {
            return self.act_min.clamp(-128, 127) as i8;
        }
        // acc * mult < 2^62: the doubling high multiply's nudge is +2^30, its division a shift
        let h = ((i64::from(acc) * self.mult + (1 << 30)) >> 31) as u32;
        // h < 2^31 and half <= 2^30: no overflow; ties round up, as for a positive value
        let r = (h + self.half) >> self.right;
        (r.min(255) as i32 + self.ozp).clamp(self.act_min, 127) as i8
    }
}

/// One int8 conv + ReLU + 2x2 max-pool output pixel for each window of a one-input-channel
/// layer: `out[w][o]` from `wins[w]` (as many as both hold; `out[w]` holds `[out_ch]`).
/// Bit-identical to [`crate::conv::pixel_i8`] on the four pixels then the max. Does nothing
/// unless the layer is int8 with one input channel.
pub fn conv9_pool_windows<const C: usize>(
    layer: &Conv3x3<'_>,
    wins: &[Quad9],
    out: &mut [[i8; C]],
) {
    let ConvParams::Int8 {
        weights,
        bias,
        output_zero_point: ozp,
        act_min,
        ..
    } = layer.params
    else {
        return;
    };
    if layer.in_ch != 1 {
        return;
    }
    let (w9, _) = weights.as_chunks::<9>();
    for (o, w) in w9.iter().enumerate().take(layer.out_ch.min(C)) {
        let wide = dsp::widen9(w);
        let b = i32_at(bias, o);
        let r = layer.requantizer(o);
        if let Some(fast) = FastRequant::new(r, ozp, act_min) {
            for (x, dst) in wins.iter().zip(out.iter_mut()) {
                let m = dsp::quad9_max(&wide, x);
                if let Some(y) = dst.get_mut(o) {
                    *y = fast.apply(m.wrapping_add(b));
                }
            }
        } else {
            for (x, dst) in wins.iter().zip(out.iter_mut()) {
                let a = x.map(|px| dsp::dot9_portable(&wide, &px).wrapping_add(b));
                store(layer, o, a, ozp, act_min, TilePool::Quad, dst, &mut []);
            }
        }
    }
}

/// One tile of a one-input-channel layer (as [`super::conv_pool_i8`] takes it).
pub(super) fn conv_pool_k9(
    layer: &Conv3x3<'_>,
    taps: &[Taps<'_, i8>; TILE],
    izp: i32,
    pool: TilePool,
    out0: &mut [i8],
    out1: &mut [i8],
) {
    let ConvParams::Int8 {
        weights,
        bias,
        output_zero_point: ozp,
        act_min,
        ..
    } = layer.params
    else {
        return;
    };
    // [pixel][tap]: x - zp, 0 in the padding, packed as dsp::Quad9
    let x: Quad9 = core::array::from_fn(|p| {
        let v = |k: usize| {
            taps.get(p)
                .and_then(|t| t.get(k))
                .and_then(|t| t.and_then(|t| t.first()))
                .map_or(0, |&v| i32::from(v) - izp)
        };
        let pack = |lo: i32, hi: i32| (hi << 16) | (lo & 0xffff);
        [
            pack(v(0), v(2)),
            pack(v(1), v(3)),
            pack(v(4), v(6)),
            pack(v(5), v(7)),
            v(8),
        ]
    });
    let (w9, _) = weights.as_chunks::<9>();
    for (o, w) in w9.iter().enumerate().take(layer.out_ch) {
        let wide = dsp::widen9(w);
        let b = i32_at(bias, o);
        let fast = FastRequant::new(layer.requantizer(o), ozp, act_min);
        match (pool, fast) {
            (TilePool::Quad, Some(fast)) => {
                if let Some(y) = out0.get_mut(o) {
                    *y = fast.apply(dsp::quad9_max(&wide, &x).wrapping_add(b));
                }
            }
            _ => {
                let a = x.map(|px| dsp::dot9_portable(&wide, &px).wrapping_add(b));
                store(layer, o, a, ozp, act_min, pool, out0, out1);
            }
        }
    }
}
