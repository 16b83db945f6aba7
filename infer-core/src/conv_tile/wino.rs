//! Integer Winograd F(2x2, 3x3): four 2x2 pooling windows (tiles) of an int8 conv + ReLU +
//! max-pool layer at a time, bit-identical to the direct tile kernel ([`super::conv_pool_i8`],
//! itself checked against the scalar reference).
//!
//! Per tile the 2x2 conv outputs are `Y = A^T [(G g G^T) . (B^T d B)] A` (Lavin & Gray 2016).
//! Scaling `G`'s half rows by 2 (`G = D G''`, `D = diag(1, 1/2, 1/2, 1)`) moves the halves
//! into the output transform: `4 Y = A2^T [(G'' g G''^T) . (B^T d B)] A2` with `A2 = 2 D A`,
//! every step an exact integer. The summed products of one position fit 32 bits (`128 x 1,152
//! x 1,024 < 2^31` for 128 input channels) and `4 Y` is a multiple of four whose true value
//! fits too, so `Y = (4 Y) >> 2` is the direct kernel's sum of products, exactly; the bias,
//! max-pool and requantisation that follow are the direct kernel's (`conv_tile::store`).
//!
//! Schedule, per call of [`TILES`] tiles, for each group of [`OUT_GROUP`] output channels (one
//! group up to 64): for each chunk of [`CHUNK_CH`] input channels, the input transform of the
//! four tiles (`V`: 4 KiB, int16 pairs), then per output channel its filter transform (`U`: 1
//! KiB, computed from the int8 weights in flash: the transformed filters of the widest layer
//! would take 256 KiB), the chunk's products ([`crate::dsp::wino_gemm::gemm16`], 16 per tile) and
//! their output transform, added to the channel's running `4 Y` (the transform is linear; `Y`:
//! 64 B per channel, 4 KiB per group). Each filter transform serves four tiles, each input
//! transform every output channel. `V` and `Y` (8 KiB) can be lent by the caller
//! ([`conv_pool_wino_i8_in`]); `U` and one channel's products (1.3 KiB) are stack.

use super::{MAX_OUT, TILE, TilePool, conv_pool_i8, store};
use crate::Error;
use crate::conv::{Conv3x3, ConvParams, Taps};
use crate::dsp::wino::{self, POS, TILES};
use crate::dsp::{wino_chunk, wino_gemm};
use crate::format::i32_at;

/// Input channels per chunk (16 pairs).
pub const CHUNK_CH: usize = 32;
const PAIRS: usize = CHUNK_CH / 2;
const _: () = assert!(PAIRS == wino_chunk::NP);
/// Output channels whose summed output transforms are held at once (all of block 2's).
pub const OUT_GROUP: usize = 64;

/// One tile's 4x4 input: `[mel offset][frame offset]` row-major (offsets -1..=2 from the
/// window's first conv pixel), `None` in the padding.
pub type Window<'a, A = i8> = [Option<&'a [A]>; POS];

/// Whether Winograd pays for an int8 layer: the input channels fill whole chunks (the
/// transforms' straight-line path; the firmware's `layers` benchmark measures the others
/// slower than the direct kernel) and the output channels fit the tile's accumulators.
pub fn pays(layer: &Conv3x3<'_>) -> bool {
    matches!(layer.params, ConvParams::Int8 { input_zero_point, .. } if i8::try_from(input_zero_point).is_ok())
        && layer.in_ch >= CHUNK_CH
        && layer.in_ch.is_multiple_of(CHUNK_CH)
        && (1..=MAX_OUT).contains(&layer.out_ch)
}

/// The four pixels' taps of a window, as the direct kernel takes them (pixel `q` at mel
/// `q / 2`, frame `q % 2`; tap `k` at mel `k / 3`, frame `k % 3` further).
pub fn window_taps<'a, A>(w: &Window<'a, A>) -> [Taps<'a, A>; TILE] {
    core::array::from_fn(|q| {
        core::array::from_fn(|k| {
            let (a, b) = (q / 2 + k / 3, q % 2 + k % 3);
            w.get(4 * a + b).copied().flatten()
        })
    })
}

/// Word of four int8 values `src[at..at + 4]`, `fill` past the end.
#[inline(always)]
fn word(src: &[u8], at: usize, fill: u8) -> i32 {
    match src.get(at..at + 4) {
        Some(&[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]),
        _ => i32::from_le_bytes(core::array::from_fn(|i| {
            src.get(at + i).copied().unwrap_or(fill)
        })),
    }
}

/// The pooled int8 conv + ReLU output of `wins.len() <= TILES` whole 2x2 windows, window `t`
/// into `outs[t]` (`[out_ch]`). Bit-identical to [`conv_pool_i8`] with [`TilePool::Quad`] on
/// [`window_taps`] of each window, which it falls back to for a layer it does not take (f32,
/// more than [`MAX_OUT`] output channels, or an input zero point outside int8).
///
/// `GENERAL`: `true` runs any channel count through Winograd; `false` only layers whose input
/// channels fill whole chunks ([`pays`]; others get the direct kernel), and leaves the code for
/// partial chunks out of the binary (the firmware's executor, whose layers `pays` picked).
#[inline(never)]
pub fn conv_pool_wino_i8<const GENERAL: bool>(
    layer: &Conv3x3<'_>,
    wins: &[Window<'_>],
    outs: &mut [&mut [i8]],
) {
    let mut scratch = [0i32; SCRATCH_WORDS];
    conv_pool_wino_i8_in::<GENERAL>(layer, wins, outs, &mut scratch);
}

/// Working memory [`conv_pool_wino_i8_in`] needs: the input transforms of a chunk (`V`, 4 KiB)
/// and the summed output transforms of a group of output channels (`Y`, 4 KiB), 8 KiB.
pub const SCRATCH_WORDS: usize = POS * PAIRS * TILES + OUT_GROUP * TILES * 4;

/// [`conv_pool_wino_i8`] with `V` and `Y` in `scratch` (at least [`SCRATCH_WORDS`] words, any
/// contents, clobbered; the direct kernel if shorter): what a caller with idle memory lends
/// (the firmware: the front end's FFT buffer between frames), so the kernel's own stack is
/// about 1.5 KiB.
#[inline(never)]
pub fn conv_pool_wino_i8_in<const GENERAL: bool>(
    layer: &Conv3x3<'_>,
    wins: &[Window<'_>],
    outs: &mut [&mut [i8]],
    scratch: &mut [i32],
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
    let Ok(zp) = i8::try_from(input_zero_point) else {
        return fallback(layer, wins, outs);
    };
    if ci == 0 || co == 0 || co > MAX_OUT || wins.len() > TILES || !(GENERAL || pays(layer)) {
        return fallback(layer, wins, outs);
    }
    let zpb = zp as u8;
    let zp4 = {
        let z = i32::from(4 * i16::from(zp)) & 0xffff;
        (z << 16) | z
    };
    // flat, `np` pairs per position: v[(p np + pair) TILES + tile], u[p np + pair]; y: the
    // output transforms of each chunk's products, summed over the chunks (the transform is
    // linear, so this is the transform of the whole sum: 4 values per channel and window
    // instead of 16 products, which lets one group hold all the channels of the widest block 2)
    let (Some(v), Some(y)) = scratch
        .split_at_mut_checked(POS * PAIRS * TILES)
        .map_or((None, None), |(v, y)| {
            (Some(v), y.get_mut(..OUT_GROUP * TILES * 4))
        })
    else {
        return fallback(layer, wins, outs);
    };
    let (y, _) = y.as_chunks_mut::<4>();
    let (y, _) = y.as_chunks_mut::<TILES>();
    let mut u = [0i32; POS * PAIRS];
    // one output channel's summed products of a chunk
    let mut m = [[0i32; TILES]; POS];
    let mut o0 = 0;
    while o0 < co {
        let og = (co - o0).min(OUT_GROUP);
        for yo in y.iter_mut() {
            *yo = [[0; 4]; TILES];
        }
        let mut c0 = 0;
        while c0 < ci {
            let cn = (ci - c0).min(CHUNK_CH);
            // pairs in use, rounded up to whole steps of the product loop (four pairs)
            let np = (cn.div_ceil(4) * 2).next_multiple_of(4);
            let (Some(vc), Some(uc)) = (v.get_mut(..POS * np * TILES), u.get_mut(..POS * np))
            else {
                return fallback(layer, wins, outs);
            };
            if !input_chunk::<GENERAL>(wins, c0, cn, np, zpb, zp4, vc) {
                return fallback(layer, wins, outs);
            }
            for (o, yo) in y.iter_mut().enumerate().take(og) {
                let base = (o0 + o) * 9 * ci + c0;
                if !filter_chunk::<GENERAL>(weights, base, ci, cn, np, uc) {
                    return fallback(layer, wins, outs);
                }
                // a whole chunk: the straight-run product loop, which overwrites `m`
                match (
                    <&[i32; POS * PAIRS]>::try_from(&*uc),
                    <&[i32; POS * PAIRS * TILES]>::try_from(&*vc),
                ) {
                    (Ok(u16), Ok(v16)) => wino_gemm::gemm16(u16, v16, &mut m),
                    _ => {
                        m = [[0; TILES]; POS];
                        wino_gemm::gemm4(uc, vc, &mut m);
                    }
                }
                wino_gemm::output4_add(&m, yo);
            }
            c0 += cn;
        }
        for (o, yo) in y.iter().enumerate().take(og) {
            let b = i32_at(bias, o0 + o).unwrap_or(0);
            for (out, yt) in outs.iter_mut().zip(yo).take(wins.len()) {
                let acc = yt.map(|y4| b.wrapping_add(y4 >> 2));
                store(
                    layer,
                    o0 + o,
                    acc,
                    output_zero_point,
                    act_min,
                    TilePool::Quad,
                    out,
                    &mut [],
                );
            }
        }
        o0 += og;
    }
}

/// `V` of channels `c0..c0 + cn` of every window into `v[(position np + pair) TILES + tile]`
/// (pairs past the channels, and tiles past the windows, zero); `false` where a window needs
/// the general path and `GENERAL` is off.
#[inline(never)]
fn input_chunk<const GENERAL: bool>(
    wins: &[Window<'_>],
    c0: usize,
    cn: usize,
    np: usize,
    zpb: u8,
    zp4: i32,
    v: &mut [i32],
) -> bool {
    let groups = cn.div_ceil(4);
    let pad = i32::from_le_bytes([zpb; 4]);
    let whole = cn == CHUNK_CH && np == wino_chunk::NP;
    for t in 0..TILES {
        let win = wins.get(t);
        if let (true, Some(win)) = (whole, win)
            && wino_chunk::input_groups(win, c0, zpb, zp4, t, v)
        {
            continue;
        }
        if !GENERAL {
            if win.is_some() {
                return false;
            }
            for x in v.iter_mut().skip(t).step_by(TILES) {
                *x = 0;
            }
            continue;
        }
        for g in 0..np / 2 {
            let (mut even, mut odd) = ([0i32; POS], [0i32; POS]);
            if let (Some(win), true) = (win, g < groups) {
                let d: [i32; POS] = core::array::from_fn(|k| match win.get(k).copied().flatten() {
                    // channels past the chunk read as the zero point: they contribute nothing
                    Some(px) => {
                        let at = c0 + 4 * g;
                        i32::from_le_bytes(core::array::from_fn(|i| {
                            px.get(at + i)
                                .filter(|_| i + 4 * g < cn)
                                .map_or(zpb, |&x| x as u8)
                        }))
                    }
                    None => pad,
                });
                wino::input4(&d, zp4, &mut even, &mut odd);
            }
            for (p, (&e, &o)) in even.iter().zip(&odd).enumerate() {
                let at = (p * np + 2 * g) * TILES + t;
                if let Some(x) = v.get_mut(at) {
                    *x = e;
                }
                if let Some(x) = v.get_mut(at + TILES) {
                    *x = o;
                }
            }
        }
    }
    true
}

/// `U` of one output channel's filters for input channels `c0..c0 + cn` (`base` = the
/// channel's offset plus `c0`) into `u[position np + pair]`, pairs past the channels zero;
/// `false` where the chunk needs the general path and `GENERAL` is off.
#[inline(never)]
fn filter_chunk<const GENERAL: bool>(
    weights: &[u8],
    base: usize,
    ci: usize,
    cn: usize,
    np: usize,
    u: &mut [i32],
) -> bool {
    let groups = cn.div_ceil(4);
    if cn == CHUNK_CH && np == wino_chunk::NP && wino_chunk::filter_groups(weights, base, ci, u) {
        return true;
    }
    if !GENERAL {
        return false;
    }
    for g in 0..np / 2 {
        let (mut even, mut odd) = ([0i32; POS], [0i32; POS]);
        if g < groups {
            let left = cn - 4 * g;
            let w: [i32; 9] = core::array::from_fn(|k| {
                let at = base + k * ci + 4 * g;
                // weights past the chunk's channels are 0: they contribute nothing
                let tap = weights.get(..at + left.min(4)).unwrap_or(&[]);
                word(tap, at, 0)
            });
            wino::filter4(&w, &mut even, &mut odd);
        }
        for (p, (&e, &o)) in even.iter().zip(&odd).enumerate() {
            if let Some([x, y]) = u.get_mut(p * np + 2 * g..p * np + 2 * g + 2) {
                *x = e;
                *y = o;
            }
        }
    }
    true
}

/// The direct kernel, window by window.
#[inline(never)]
fn fallback(layer: &Conv3x3<'_>, wins: &[Window<'_>], outs: &mut [&mut [i8]]) {
    for (w, out) in wins.iter().zip(outs.iter_mut()) {
        conv_pool_i8(layer, &window_taps(w), TilePool::Quad, out, &mut []);
    }
}

/// [`super::conv3x3_relu_pool_i8`] through [`conv_pool_wino_i8`]: a whole int8 conv + ReLU +
/// 2x2 max-pool layer on an HWC tensor, four pooling windows per call (consecutive in
/// `[pooled mel][pooled frame]` order), what the firmware's per-layer benchmark runs beside the
/// direct kernel. Bit-identical to [`crate::conv::conv3x3_relu_ref_i8`] then
/// [`crate::pool::maxpool2x2_ref`].
///
/// # Errors
/// As [`super::conv3x3_relu_pool_i8`].
pub fn conv3x3_relu_pool_wino_i8(
    layer: &Conv3x3<'_>,
    input: &[i8],
    mels: usize,
    frames: usize,
    out: &mut [i8],
) -> Result<(), Error> {
    let (pm, pt) = super::check_layer(layer, input, mels, frames, out)?;
    let (ci, co) = (layer.in_ch, layer.out_ch);
    let out = out.get_mut(..pm * pt * co).unwrap_or(&mut []);
    for (w0, dst) in (0..pm * pt)
        .step_by(TILES)
        .zip(out.chunks_mut(TILES * co.max(1)))
    {
        let wins: [Window<'_>; TILES] = core::array::from_fn(|t| {
            let (j, f) = ((w0 + t) / pt.max(1), (w0 + t) % pt.max(1));
            core::array::from_fn(|k| {
                let (m, tt) = (
                    (2 * j + k / 4).wrapping_sub(1),
                    (2 * f + k % 4).wrapping_sub(1),
                );
                (m < mels && tt < frames)
                    .then(|| input.get((m * frames + tt) * ci..(m * frames + tt + 1) * ci))
                    .flatten()
            })
        });
        let n = dst.len() / co.max(1);
        let mut outs: [&mut [i8]; TILES] = Default::default();
        for (o, d) in outs.iter_mut().zip(dst.chunks_mut(co.max(1))) {
            *o = d;
        }
        conv_pool_wino_i8::<true>(layer, wins.get(..n).unwrap_or(&[]), &mut outs);
    }
    Ok(())
}
