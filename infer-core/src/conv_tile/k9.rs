//! Layers with one input channel (block 1: nine MACs per output): every output channel in one
//! pass of [`dsp::conv9_channels`] over up to three groups of four pooling windows (per
//! channel: weights widened once, each window's four pixel sums and their max, one folded
//! requantisation per window, [`FastRequant`]'s arithmetic); the generic requantisation where
//! the shortcut does not hold.

use super::{TilePool, store};
use crate::conv::{Conv3x3, ConvParams};
use crate::dsp::{self, Quad9};
use crate::format::i32s;
use crate::quant::Requantizer;

/// A window's 4x4 input patch, `[mel][frame]`, `None` in the padding: pixel `(dm, dt)` of the
/// window reads taps `patch[dm + i][dt + j]`, `i, j` in `0..3`.
pub type Patch<A> = [[Option<A>; 4]; 4];

/// Packs a patch into [`Quad9`] (input zero point subtracted, padding 0).
pub fn pack_patch(patch: &Patch<i8>, izp: i32) -> Quad9 {
    pack_values(&patch.map(|r| r.map(|x| x.map_or(0, |x| i32::from(x) - izp))))
}

/// Packs a window's 4x4 input values (`[mel][frame]`, zero point already subtracted, 0 in the
/// padding) into [`Quad9`].
#[inline]
pub fn pack_values(v: &[[i32; 4]; 4]) -> Quad9 {
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

/// A channel's requantisation when it is monotonic with a right shift and the ReLU clamp sits
/// at the output zero point (every exported layer). Then every accumulator `<= 0` gives the
/// zero point, and for a positive one TFLite's two roundings (the doubling high multiply's
/// `+2^30` nudge and the right shift's round-half-up) fold into one 64-bit multiply-add:
/// `floor((floor((acc * m + 2^30) / 2^31) + half) / 2^right) == floor((acc * m + 2^30 +
/// half * 2^31) / 2^(31 + right))`, whose high word shifted by `right - 1` is the result.
#[derive(Debug, Clone, Copy)]
pub struct FastRequant {
    mult: u32,
    nudge: u64,
    shift_hi: u32,
    ozp: i32,
}

impl FastRequant {
    /// `None` where the shortcut does not hold (left or no shift, a clamp other than the output
    /// zero point).
    #[inline(always)]
    pub fn new(r: Requantizer, ozp: i32, act_min: i32) -> Option<FastRequant> {
        if r.shift() >= 0 || act_min != ozp || !(-128..=127).contains(&ozp) {
            return None;
        }
        let right = u32::from(r.shift().unsigned_abs()).min(31);
        // 2^30 + 2^(right + 30) from 32-bit halves (no 64-bit shift): the high half is
        // 2^(right - 2) for right >= 2; for right == 1 the low half holds 2^31.
        let lo = (1u32 << 30) | ((1u32 << right) << 30);
        let hi = (1u32 << right) >> 2;
        Some(FastRequant {
            mult: r.multiplier().unsigned_abs(),
            nudge: (u64::from(hi) << 32) | u64::from(lo),
            shift_hi: right - 1,
            ozp,
        })
    }

    /// `clamp(apply(acc) + ozp, act_min, 127)`, bit for bit.
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i8 {
        // acc <= 0 gives 0, hence the zero point, as the reference does
        let a = acc.max(0).unsigned_abs();
        // a * mult < 2^62, nudge < 2^62: no overflow; the high word is below 2^31
        let hi = ((u64::from(a) * u64::from(self.mult) + self.nudge) >> 32) as u32;
        ((hi >> self.shift_hi) as i32)
            .saturating_add(self.ozp)
            .clamp(-128, 127) as i8
    }
}

/// One int8 conv + ReLU + 2x2 max-pool output pixel for each window of a one-input-channel
/// layer, in groups of four windows: `out[g][w][o]` from `wins[g][w]` (as many groups as both
/// hold). Bit-identical to [`crate::conv::pixel_i8`] on the four pixels then the max. Does
/// nothing unless the layer is int8 with one input channel.
pub fn conv9_pool_windows<const C: usize>(
    layer: &Conv3x3<'_>,
    wins: &[[Quad9; 4]],
    out: &mut [&mut [[i8; C]; 4]],
) {
    conv9_pool_windows_with(layer, wins, out, None);
}

/// Whether [`conv9_pool_windows`] takes its one-pass path for `layer` (int8, one input
/// channel, the ReLU clamp at the output zero point, every channel's requantisation a right
/// shift with a non-negative multiplier): a caller that runs the layer many times checks it
/// once and passes it to [`conv9_pool_windows_with`].
pub fn conv9_fast(layer: &Conv3x3<'_>) -> bool {
    let ConvParams::Int8 {
        weights,
        bias,
        multipliers,
        shifts,
        output_zero_point: ozp,
        act_min,
        ..
    } = layer.params
    else {
        return false;
    };
    let l = dsp::Layer9 {
        weights,
        bias,
        multipliers,
        shifts,
        ozp,
    };
    layer.in_ch == 1 && act_min == ozp && l.values_ok(layer.out_ch)
}

/// [`conv9_pool_windows`] with [`conv9_fast`] already known (`Some`) or to be checked (`None`).
pub fn conv9_pool_windows_with<const C: usize>(
    layer: &Conv3x3<'_>,
    wins: &[[Quad9; 4]],
    out: &mut [&mut [[i8; C]; 4]],
    fast: Option<bool>,
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
    let n = layer.out_ch.min(C);
    if fast.unwrap_or_else(|| conv9_fast(layer))
        && let ConvParams::Int8 {
            multipliers,
            shifts,
            ..
        } = layer.params
    {
        // every channel in one assembly pass
        let l = dsp::Layer9 {
            weights,
            bias,
            multipliers,
            shifts,
            ozp,
        };
        let groups = wins.len().min(out.len());
        if let (Some(w), Some(o)) = (wins.get(..groups), out.get_mut(..groups))
            && dsp::conv9_channels_checked::<C>(&l, n, w, o)
        {
            return;
        }
    }
    // anything else (a left shift, a clamp above the zero point): the generic requantisation
    let (w9, _) = weights.as_chunks::<9>();
    for (o, (w, b)) in w9.iter().zip(i32s(bias)).enumerate().take(n) {
        let wide = dsp::widen9(w);
        for (group, dst) in wins.iter().zip(out.iter_mut()) {
            for (x, dst) in group.iter().zip(dst.iter_mut()) {
                let a = x.map(|px| dsp::dot9_portable(&wide, &px).wrapping_add(b));
                store(layer, o, a, ozp, act_min, TilePool::Quad, dst, &mut []);
            }
        }
    }
}
