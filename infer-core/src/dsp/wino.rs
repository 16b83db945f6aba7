//! The integer Winograd F(2x2, 3x3) transforms ([`crate::conv_tile::wino`]) on two int16
//! halves at a time: `SADD16` / `SSUB16` on Cortex-M cores with the DSP extension, portable
//! twins elsewhere (and as the reference the firmware's `kernels` binary checks the assembly
//! against). The products and the output transform's assembly are in `dsp::wino_gemm`, the
//! whole-chunk filter and input transforms in `dsp::wino_chunk`.
//!
//! A word packs two channels of one Winograd position: the low half channel `4g` and the high
//! half `4g + 2` ("even" pair of a group of four channels), or `4g + 1` and `4g + 3` ("odd"
//! pair), which is what `SXTB16` and `SXTB16 ROR #8` make of four int8 values in one word, so
//! filters and inputs widen with no shuffling.
//!
//! Ranges (why int16 halves never wrap): filter transform `U = G'' g G''^T` with `G''` rows
//! `[1,0,0] [1,1,1] [1,-1,1] [0,0,1]`: `|U| <= 9 x 128 = 1,152`; input transform `B^T d B`
//! (entries 0, +-1, two non-zero per row) on raw int8 values: `|V| <= 4 x 128 = 512`, minus
//! `4 zp` at position 5: `|V| <= 1,024`.

use super::{sxtb16, sxtb16_ror8};

/// `x`'s memory as 32-bit words: working memory lent by the front end (its FFT buffer, whose
/// contents are dead between frames) to the Winograd kernel, bit patterns kept as they are.
pub fn words_of(x: &mut [f32]) -> &mut [i32] {
    // SAFETY: `f32` and `i32` have the same size and alignment and every bit pattern is valid
    // for both; the result borrows `x` mutably for its whole lifetime, so nothing else can
    // read or write it as `f32` meanwhile.
    unsafe { core::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<i32>(), x.len()) }
}

/// Winograd positions per tile (4 x 4).
pub const POS: usize = 16;
/// Tiles whose products one pass of the product loop (`wino_gemm::gemm4`) computes.
pub const TILES: usize = 4;

/// `SADD16 a, b`: the two int16 halves added, each wrapping on its own.
#[inline(always)]
pub fn sadd16(a: i32, b: i32) -> i32 {
    sadd16_impl(a, b)
}

/// `SSUB16 a, b`: the two int16 halves subtracted, each wrapping on its own.
#[inline(always)]
pub fn ssub16(a: i32, b: i32) -> i32 {
    ssub16_impl(a, b)
}

/// Portable twin of [`sadd16`].
#[inline(always)]
pub fn sadd16_portable(a: i32, b: i32) -> i32 {
    let lo = (a as i16).wrapping_add(b as i16);
    let hi = ((a >> 16) as i16).wrapping_add((b >> 16) as i16);
    (i32::from(hi) << 16) | i32::from(lo as u16)
}

/// Portable twin of [`ssub16`].
#[inline(always)]
pub fn ssub16_portable(a: i32, b: i32) -> i32 {
    let lo = (a as i16).wrapping_sub(b as i16);
    let hi = ((a >> 16) as i16).wrapping_sub((b >> 16) as i16);
    (i32::from(hi) << 16) | i32::from(lo as u16)
}

/// The two halfword instructions: their portable twins off the DSP targets, one `asm!`
/// instruction on them.
macro_rules! halfword_op {
    ($name:ident, $portable:ident, $insn:literal) => {
        #[cfg(not(tinygenre_dsp))]
        #[inline(always)]
        fn $name(a: i32, b: i32) -> i32 {
            $portable(a, b)
        }

        #[cfg(tinygenre_dsp)]
        #[inline(always)]
        fn $name(a: i32, b: i32) -> i32 {
            let y: i32;
            // SAFETY: one register-to-register instruction: reads `a` and `b`, writes `y`,
            // touches no memory and no stack; it sets the GE flags, which no Rust code reads
            // (`preserves_flags` is not claimed).
            unsafe {
                core::arch::asm!(
                    concat!($insn, " {y}, {a}, {b}"),
                    a = in(reg) a,
                    b = in(reg) b,
                    y = lateout(reg) y,
                    options(pure, nomem, nostack)
                );
            }
            y
        }
    };
}

halfword_op!(sadd16_impl, sadd16_portable, "sadd16");
halfword_op!(ssub16_impl, ssub16_portable, "ssub16");

/// One 1-D transform step `(x0, x1, x2) -> (x0, x0 + x1 + x2, x0 - x1 + x2, x2)` (`G''`).
#[inline(always)]
fn g3(x0: i32, x1: i32, x2: i32) -> [i32; 4] {
    let s = sadd16(x0, x2);
    [x0, sadd16(s, x1), ssub16(s, x1), x2]
}

/// One 1-D step `(d0, d1, d2, d3) -> (d0 - d2, d1 + d2, d2 - d1, d1 - d3)` (`B^T`).
#[inline(always)]
fn b4(d0: i32, d1: i32, d2: i32, d3: i32) -> [i32; 4] {
    [
        ssub16(d0, d2),
        sadd16(d1, d2),
        ssub16(d2, d1),
        ssub16(d1, d3),
    ]
}

/// Straight-line code (the device build optimises for size and would keep loops over these
/// small arrays as loops): `U = G'' g G''^T` of one pair, `g` row-major `[mel][frame]`.
#[inline(always)]
fn filter_pair(g: [i32; 9]) -> [i32; POS] {
    let [a0, a1, a2, b0, b1, b2, c0, c1, c2] = g;
    // along mels: rows 0 and 3 are the filter's first and last rows
    let (s0, s1, s2) = (sadd16(a0, c0), sadd16(a1, c1), sadd16(a2, c2));
    let [u0, u1, u2, u3] = g3(a0, a1, a2);
    let [u4, u5, u6, u7] = g3(sadd16(s0, b0), sadd16(s1, b1), sadd16(s2, b2));
    let [u8, u9, u10, u11] = g3(ssub16(s0, b0), ssub16(s1, b1), ssub16(s2, b2));
    let [u12, u13, u14, u15] = g3(c0, c1, c2);
    [
        u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15,
    ]
}

/// `V = B^T d B` of one pair minus `4 zp` at position 5, straight-line as [`filter_pair`].
#[inline(always)]
fn input_pair(d: [i32; POS], zp4: i32) -> [i32; POS] {
    let [
        d0,
        d1,
        d2,
        d3,
        d4,
        d5,
        d6,
        d7,
        d8,
        d9,
        d10,
        d11,
        d12,
        d13,
        d14,
        d15,
    ] = d;
    // along mels (rows of four frames)
    let [r0, r1, r2, r3] = [
        [
            ssub16(d0, d8),
            ssub16(d1, d9),
            ssub16(d2, d10),
            ssub16(d3, d11),
        ],
        [
            sadd16(d4, d8),
            sadd16(d5, d9),
            sadd16(d6, d10),
            sadd16(d7, d11),
        ],
        [
            ssub16(d8, d4),
            ssub16(d9, d5),
            ssub16(d10, d6),
            ssub16(d11, d7),
        ],
        [
            ssub16(d4, d12),
            ssub16(d5, d13),
            ssub16(d6, d14),
            ssub16(d7, d15),
        ],
    ];
    let [v0, v1, v2, v3] = b4(r0[0], r0[1], r0[2], r0[3]);
    let [v4, v5, v6, v7] = b4(r1[0], r1[1], r1[2], r1[3]);
    let [v8, v9, v10, v11] = b4(r2[0], r2[1], r2[2], r2[3]);
    let [v12, v13, v14, v15] = b4(r3[0], r3[1], r3[2], r3[3]);
    // B^T J B is 4 at position (1, 1) and 0 elsewhere: the zero point's whole contribution
    let v5 = ssub16(v5, zp4);
    [
        v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15,
    ]
}

/// `U = G'' g G''^T` of four channels' 3x3 filters: `w[k]` packs tap `k`'s (`[mel][frame]`,
/// row-major) four int8 weights; the even pair's 16 positions go to `even`, the odd pair's to
/// `odd` (position `4 i + j`, `i` along mels).
#[inline(always)]
pub fn filter4(w: &[i32; 9], even: &mut [i32; POS], odd: &mut [i32; POS]) {
    let [w0, w1, w2, w3, w4, w5, w6, w7, w8] = *w;
    *even = filter_pair([
        sxtb16(w0),
        sxtb16(w1),
        sxtb16(w2),
        sxtb16(w3),
        sxtb16(w4),
        sxtb16(w5),
        sxtb16(w6),
        sxtb16(w7),
        sxtb16(w8),
    ]);
    *odd = filter_pair([
        sxtb16_ror8(w0),
        sxtb16_ror8(w1),
        sxtb16_ror8(w2),
        sxtb16_ror8(w3),
        sxtb16_ror8(w4),
        sxtb16_ror8(w5),
        sxtb16_ror8(w6),
        sxtb16_ror8(w7),
        sxtb16_ror8(w8),
    ]);
}

/// `V = B^T (d - zp) B` of four channels' 4x4 input: `d[4 a + b]` packs the four int8 values
/// at mel offset `a`, frame offset `b` (the input zero point in padding), `zp4` packs `4 zp`
/// in both halves; even and odd pairs as in [`filter4`].
#[inline(always)]
pub fn input4(d: &[i32; POS], zp4: i32, even: &mut [i32; POS], odd: &mut [i32; POS]) {
    let [
        d0,
        d1,
        d2,
        d3,
        d4,
        d5,
        d6,
        d7,
        d8,
        d9,
        d10,
        d11,
        d12,
        d13,
        d14,
        d15,
    ] = *d;
    *even = input_pair(
        [
            sxtb16(d0),
            sxtb16(d1),
            sxtb16(d2),
            sxtb16(d3),
            sxtb16(d4),
            sxtb16(d5),
            sxtb16(d6),
            sxtb16(d7),
            sxtb16(d8),
            sxtb16(d9),
            sxtb16(d10),
            sxtb16(d11),
            sxtb16(d12),
            sxtb16(d13),
            sxtb16(d14),
            sxtb16(d15),
        ],
        zp4,
    );
    *odd = input_pair(
        [
            sxtb16_ror8(d0),
            sxtb16_ror8(d1),
            sxtb16_ror8(d2),
            sxtb16_ror8(d3),
            sxtb16_ror8(d4),
            sxtb16_ror8(d5),
            sxtb16_ror8(d6),
            sxtb16_ror8(d7),
            sxtb16_ror8(d8),
            sxtb16_ror8(d9),
            sxtb16_ror8(d10),
            sxtb16_ror8(d11),
            sxtb16_ror8(d12),
            sxtb16_ror8(d13),
            sxtb16_ror8(d14),
            sxtb16_ror8(d15),
        ],
        zp4,
    );
}

/// `4 Y = A2^T M A2` with `A2^T` rows `[2,1,1,0] [0,1,-1,-2]`: the four outputs of tile `t`
/// from its 16 summed products `m[p][t]` (wrapping; the true value fits 32 bits), in pixel
/// order `2 i + j` (`i` along mels). Zero for `t >= TILES`.
#[inline]
pub fn output4(m: &[[i32; TILES]; POS], t: usize) -> [i32; 4] {
    if t >= TILES {
        return [0; 4];
    }
    let at = |p: usize| m.get(p).and_then(|r| r.get(t)).copied().unwrap_or(0);
    #[inline(always)]
    fn a2(x0: i32, x1: i32, x2: i32, x3: i32) -> [i32; 2] {
        [
            x0.wrapping_mul(2).wrapping_add(x1).wrapping_add(x2),
            x1.wrapping_sub(x2).wrapping_sub(x3.wrapping_mul(2)),
        ]
    }
    // along mels, per frame column
    let [z00, z10] = a2(at(0), at(4), at(8), at(12));
    let [z01, z11] = a2(at(1), at(5), at(9), at(13));
    let [z02, z12] = a2(at(2), at(6), at(10), at(14));
    let [z03, z13] = a2(at(3), at(7), at(11), at(15));
    let [y0, y1] = a2(z00, z01, z02, z03);
    let [y2, y3] = a2(z10, z11, z12, z13);
    [y0, y1, y2, y3]
}
