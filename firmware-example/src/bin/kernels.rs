//! The DSP kernels against their portable references, on the device (under QEMU): the
//! assembly in infer-core's `dsp` module only runs on a Cortex-M with the DSP extension, so the
//! host tests cannot reach it. Seeded random data, every remainder of the group loops, odd
//! channel counts, padding; then whole tiles (`conv_pool_i8` against `conv_pool_scalar`) and
//! one-input-channel windows (`conv9_pool_windows` against the scalar kernel), Winograd
//! windows (`conv_tile::wino`, its `SADD16`/`SSUB16` and `SMLAD` loop against the portable
//! twins, whole windows against the direct kernel); then the front
//! end's FFT and filterbank loops (`dsp::fft4`) against their portable twins.
//! `cargo run --release --bin kernels` prints `kernels ok checks=N` and exits 0, or names the
//! first mismatch and exits 1.

#![no_std]
#![no_main]

#[path = "../vectors.rs"]
mod vectors;

use cortex_m_rt::entry;
use infer_core::config::FrontendConfig;
use infer_core::conv::{Conv3x3, ConvParams, Taps};
use infer_core::conv_tile::wino::{Window, conv_pool_wino_i8, window_taps};
use infer_core::conv_tile::{
    MAX_OUT, Patch, TILE, TilePool, conv_pool_i8, conv_pool_scalar, conv9_pool_windows, pack_patch,
};
use infer_core::dsp::wino as dw;
use infer_core::dsp::wino_chunk;
use infer_core::dsp::wino_gemm as dg;
use infer_core::dsp::{self, Group, Quad9};
use infer_core::filterbank::MelFilterbank;
use infer_core::quant::Requantizer;
use infer_core::rfft;
use semihosting::println;

struct Rng(u32);

/// A word-aligned byte buffer (the column build's `LDM` path).
#[repr(align(4))]
struct Aligned([i8; 160]);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next()) * u64::from(n)) >> 32) as u32
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 24) as i8
    }
}

fn fail(what: &str, case: u32) -> ! {
    println!("kernels MISMATCH {what} case={case}");
    semihosting::process::exit(1)
}

#[entry]
fn main() -> ! {
    let mut rng = Rng(12345);
    let mut checks = 0u32;
    // dsp::dot4 and dot4_channels: every n mod 4, one to five channels, gaps between them
    let mut col = [[0i32; 8]; 40];
    let mut w = [0u8; 5 * 200];
    for case in 0..200 {
        let n = 1 + rng.below(24) as usize;
        let ch = 1 + rng.below(5) as usize;
        let stride = 4 * n + rng.below(9) as usize;
        for g in col.iter_mut().take(n) {
            *g = core::array::from_fn(|_| {
                let lo = rng.below(511) as i32 - 255;
                let hi = rng.below(511) as i32 - 255;
                (hi << 16) | (lo & 0xffff)
            });
        }
        for b in w.iter_mut() {
            *b = rng.next() as u8;
        }
        let col: &[Group] = &col[..n];
        let mut want = [[0i32; 4]; 5];
        let mut got = [[0i32; 4]; 5];
        for o in 0..ch {
            let start: [i32; 4] = core::array::from_fn(|_| rng.next() as i32);
            want[o] = start;
            got[o] = start;
            dsp::dot4_portable(col, &w[o * stride..], &mut want[o]);
            let mut one = start;
            dsp::dot4(col, &w[o * stride..], &mut one);
            if one != want[o] {
                fail("dot4", case);
            }
        }
        dsp::dot4_channels(col, &w, stride, &mut got[..ch]);
        if got != want {
            fail("dot4_channels", case);
        }
        checks += 1;
    }
    // SXTB16 / SXTAB16
    for case in 0..1000 {
        let (a, x) = (rng.next() as i32, rng.next() as i32);
        let b = x.to_le_bytes().map(|v| i32::from(v as i8));
        let pack = |lo: i32, hi: i32| (hi << 16) | (lo & 0xffff);
        let (a0, a1) = (i32::from(a as i16), a >> 16);
        let ok = dsp::sxtb16(x) == pack(b[0], b[2])
            && dsp::sxtb16_ror8(x) == pack(b[1], b[3])
            && dsp::sxtab16(a, x) == pack(a0 + b[0], (a1 + b[2]) as i16 as i32)
            && dsp::sxtab16_ror8(a, x) == pack(a0 + b[1], (a1 + b[3]) as i16 as i32);
        if !ok {
            fail("sxtb16", case);
        }
        checks += 1;
    }
    // widen_into: word-aligned sources (the LDM loop) and unaligned ones, every remainder
    let mut src = Aligned([0i8; 160]);
    for case in 0..200 {
        for v in src.0.iter_mut() {
            *v = rng.i8();
        }
        let (off, len) = (rng.below(4) as usize, rng.below(150) as usize);
        let (p, zp) = (rng.below(4) as usize, rng.below(256) as i32 - 128);
        let zpn = ((-zp) << 16) | ((-zp) & 0xffff);
        let x = &src.0[off..off + len.min(156)];
        let mut got = [[7i32; 8]; 40];
        dsp::widen_into(x, zpn, &mut got, p);
        let mut want = [[7i32; 8]; 40];
        for (q, d) in x.chunks_exact(4).zip(want.iter_mut()) {
            let v = |i: usize| (i32::from(q[i]) - zp) & 0xffff;
            d[2 * p] = (v(2) << 16) | v(0);
            d[2 * p + 1] = (v(3) << 16) | v(1);
        }
        if got != want {
            fail("widen_into", case);
        }
        checks += 1;
    }
    // SADD16 / SSUB16 and the Winograd product loop against their portable twins
    for case in 0..1000 {
        let (a, b) = (rng.next() as i32, rng.next() as i32);
        if dw::sadd16(a, b) != dw::sadd16_portable(a, b)
            || dw::ssub16(a, b) != dw::ssub16_portable(a, b)
        {
            fail("sadd16/ssub16", case);
        }
        checks += 1;
    }
    let mut wu = [0i32; dw::POS * 16];
    let mut wv = [0i32; dw::POS * 16 * dw::TILES];
    for case in 0..40 {
        let n = 4 * (1 + rng.below(4) as usize);
        for x in wu.iter_mut().chain(wv.iter_mut()) {
            *x = rng.next() as i32;
        }
        let start: [[i32; dw::TILES]; dw::POS] =
            core::array::from_fn(|_| core::array::from_fn(|_| rng.next() as i32));
        let (mut got, mut want) = (start, start);
        let (u, v) = (&wu[..dw::POS * n], &wv[..dw::POS * n * dw::TILES]);
        dg::gemm4(u, v, &mut got);
        dg::gemm4_portable(u, v, &mut want);
        if got != want || got == start {
            fail("gemm4", case);
        }
        checks += 1;
    }
    // the whole-chunk product loop (overwrites) and the output transform against their twins
    for case in 0..40 {
        for x in wu.iter_mut().chain(wv.iter_mut()) {
            *x = rng.next() as i32;
        }
        let start: [[i32; dw::TILES]; dw::POS] =
            core::array::from_fn(|_| core::array::from_fn(|_| rng.next() as i32));
        let (mut got, mut want) = (start, start);
        dg::gemm16(&wu, &wv, &mut got);
        dg::gemm16_portable(&wu, &wv, &mut want);
        if got != want || got == start {
            fail("gemm16", case);
        }
        checks += 1;
        let y0: [[i32; 4]; dw::TILES] =
            core::array::from_fn(|_| core::array::from_fn(|_| rng.next() as i32));
        let (mut got, mut want) = (y0, y0);
        dg::output4_add(&start, &mut got);
        dg::output4_add_portable(&start, &mut want);
        if got != want || got == y0 {
            fail("output4_add", case);
        }
        checks += 1;
    }
    // the whole-chunk filter transform against its twin: random weights, strides and bases
    {
        let mut wts = [0u8; 9 * 64 + 64];
        for case in 0..60 {
            for x in wts.iter_mut() {
                *x = rng.next() as u8;
            }
            let stride = 32 + rng.below(33) as usize;
            let base = rng.below(64 - 32 + 1) as usize;
            let (mut got, mut want) = ([7i32; dw::POS * 16], [7i32; dw::POS * 16]);
            let ok = wino_chunk::filter_groups(&wts, base, stride, &mut got);
            let ok_twin = wino_chunk::filter_groups_portable(&wts, base, stride, &mut want);
            if !ok || !ok_twin || got != want {
                fail("filter_groups", case);
            }
            checks += 1;
        }
    }
    // quad9x4_max
    for case in 0..300 {
        let w9: [u8; 9] = core::array::from_fn(|_| rng.next() as u8);
        let wide = dsp::widen9(&w9);
        let x: [Quad9; 4] = core::array::from_fn(|_| {
            core::array::from_fn(|_| core::array::from_fn(|_| rng.next() as i32 & 0x00ff_00ff))
        });
        let want = x.map(|q| {
            q.iter()
                .map(|px| dsp::dot9_portable(&wide, px))
                .fold(i32::MIN, i32::max)
        });
        if dsp::quad9x4_max(&wide, &x) != want {
            fail("quad9x4_max", case);
        }
        checks += 1;
    }
    // whole tiles: the fast kernel against the scalar reference kernel and pool
    let shapes: [(usize, usize); 11] = [
        (1, 5),
        (1, 128),
        (3, 7),
        (4, 3),
        (7, 9),
        (13, 17),
        (16, 8),
        (43, 6),
        (64, 32),
        (128, 64),
        (129, 3),
    ];
    let mut weights = [0u8; 9 * 128 * 64];
    let mut bias = [0u8; 4 * MAX_OUT];
    let mut mults = [0u8; 4 * MAX_OUT];
    let mut shifts = [0u8; MAX_OUT];
    let mut inputs = [[[0i8; 129]; 9]; TILE];
    for case in 0..40u32 {
        let (ci, co) = shapes[case as usize % shapes.len()];
        for b in weights[..9 * ci * co].iter_mut() {
            *b = rng.i8().max(-127) as u8;
        }
        for o in 0..co {
            let b = rng.below(80_000) as i32 - 40_000;
            bias[4 * o..4 * o + 4].copy_from_slice(&b.to_le_bytes());
            let scale = (0.05 + f64::from(rng.below(1000)) / 1000.0) / (9.0 * ci as f64) / 8.0;
            let Ok(r) = Requantizer::from_scale(scale) else {
                fail("requantizer scale", case);
            };
            mults[4 * o..4 * o + 4].copy_from_slice(&r.multiplier().to_le_bytes());
            shifts[o] = r.shift() as u8;
        }
        let ozp = rng.below(149) as i32 - 128;
        let layer = Conv3x3 {
            in_ch: ci,
            out_ch: co,
            params: ConvParams::Int8 {
                weights: &weights[..9 * ci * co],
                bias: &bias[..4 * co],
                multipliers: &mults[..4 * co],
                shifts: &shifts[..co],
                input_zero_point: rng.below(256) as i32 - 128,
                output_zero_point: ozp,
                act_min: ozp,
            },
        };
        for px in inputs.iter_mut() {
            for tap in px.iter_mut() {
                for v in tap.iter_mut() {
                    *v = rng.i8();
                }
            }
        }
        let mut pad = [[false; 9]; TILE];
        for p in pad.iter_mut() {
            for t in p.iter_mut() {
                *t = rng.below(4) == 0;
            }
        }
        let taps: [Taps<'_, i8>; TILE] = core::array::from_fn(|p| {
            core::array::from_fn(|k| (!pad[p][k]).then(|| &inputs[p][k][..ci]))
        });
        for pool in [TilePool::Quad, TilePool::Pairs] {
            let (mut f0, mut f1) = ([0i8; MAX_OUT], [0i8; MAX_OUT]);
            let (mut r0, mut r1) = ([0i8; MAX_OUT], [0i8; MAX_OUT]);
            conv_pool_i8(&layer, &taps, pool, &mut f0[..co], &mut f1[..co]);
            conv_pool_scalar(&layer, &taps, pool, &mut r0[..co], &mut r1[..co]);
            if f0 != r0 || f1 != r1 {
                fail("conv_pool_i8", case);
            }
            checks += 1;
        }
        // Winograd: four windows (the tile's inputs, shifted) against the direct kernel
        let wins: [Window<'_>; 4] = core::array::from_fn(|t| {
            core::array::from_fn(|k| {
                let (p, tap) = ((k + t) % TILE, (k + 3 * t) % 9);
                (rng.below(5) != 0).then(|| &inputs[p][tap][..ci])
            })
        });
        let nw = 1 + (case as usize % 4);
        let mut got = [[0i8; MAX_OUT]; 4];
        {
            let [g0, g1, g2, g3] = &mut got;
            let mut outs: [&mut [i8]; 4] =
                [&mut g0[..co], &mut g1[..co], &mut g2[..co], &mut g3[..co]];
            // the general form, and on odd cases the whole-chunk form the executor runs
            if case % 2 == 0 {
                conv_pool_wino_i8::<true>(&layer, &wins[..nw], &mut outs[..nw]);
            } else {
                conv_pool_wino_i8::<false>(&layer, &wins[..nw], &mut outs[..nw]);
            }
        }
        for (t, win) in wins.iter().enumerate().take(nw) {
            let mut want = [0i8; MAX_OUT];
            conv_pool_i8(
                &layer,
                &window_taps(win),
                TilePool::Quad,
                &mut want[..co],
                &mut [],
            );
            if got[t][..co] != want[..co] {
                fail("conv_pool_wino_i8", case);
            }
            checks += 1;
        }
        if ci == 1 {
            // three groups of four windows: every channel in one assembly pass
            let patches: [Patch<i8>; 12] = core::array::from_fn(|_| {
                core::array::from_fn(|_| {
                    core::array::from_fn(|_| (rng.below(5) != 0).then(|| rng.i8()))
                })
            });
            let ConvParams::Int8 {
                input_zero_point, ..
            } = layer.params
            else {
                fail("params", case)
            };
            let wins: [[Quad9; 4]; 3] = core::array::from_fn(|g| {
                core::array::from_fn(|x| pack_patch(&patches[4 * g + x], input_zero_point))
            });
            let mut got = [[[0i8; MAX_OUT]; 4]; 3];
            let [g0, g1, g2] = &mut got;
            conv9_pool_windows(&layer, &wins, &mut [g0, g1, g2]);
            for (wi, patch) in patches.iter().enumerate() {
                let cells: [[[i8; 1]; 4]; 4] = patch.map(|r| r.map(|v| [v.unwrap_or(0)]));
                let taps: [Taps<'_, i8>; TILE] = core::array::from_fn(|p| {
                    let (dm, dt) = (p / 2, p % 2);
                    core::array::from_fn(|k| {
                        let (i, j) = (dm + k / 3, dt + k % 3);
                        patch[i][j].map(|_| &cells[i][j][..])
                    })
                });
                let mut want = [0i8; MAX_OUT];
                conv_pool_scalar(&layer, &taps, TilePool::Quad, &mut want[..co], &mut []);
                if got[wi / 4][wi % 4][..co] != want[..co] {
                    fail("conv9_pool_windows", case);
                }
                checks += 1;
            }
        }
    }
    // dsp::sqrt_f32 (VSQRT.F32) against libm's correctly rounded square root: random bit
    // patterns of non-negative floats (denormals, infinity and NaN among them), then a ramp
    for case in 0..20_000u32 {
        let x = if case < 10_000 {
            f32::from_bits(rng.next() >> 1)
        } else {
            (case - 10_000) as f32 * 0.37
        };
        let (a, b) = (dsp::sqrt_f32(x), dsp::sqrt_f32_portable(x));
        if a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()) {
            fail("sqrt_f32", case);
        }
        checks += 1;
    }
    // the front end's M4F loops (`dsp::fft4`) against their portable twins, bit for bit: the
    // ring-to-folded-power path at the ring positions the default hop gives (0, 512, 1024,
    // 1536) and two even ones that take the portable first stage, at three signal levels;
    // then the mel slopes on the result
    let Ok(fb) = MelFilterbank::new(&FrontendConfig::DEFAULT) else {
        fail("filterbank", 0)
    };
    let mut ring = [0.0f32; 2048];
    let (mut fa, mut fp) = ([0.0f32; 2048], [0.0f32; 2048]);
    for case in 0..18u32 {
        let scale = [1.0f32, 1e-3, 3e-6][case as usize % 3];
        for v in ring.iter_mut() {
            *v = (rng.below(65536) as i32 - 32768) as f32 * (scale / 32768.0);
        }
        let pos = [0usize, 512, 1024, 1536, 2, 1022][case as usize % 6];
        let ok = rfft::load_ring_windowed_first_stage(&ring, pos, &mut fa);
        rfft::cfft1024_dit_after_first_stage(&mut fa);
        rfft::split_power_folded(&mut fa);
        let ok_portable = rfft::power_folded_from_ring_portable(&ring, pos, &mut fp);
        let same = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits());
        if !ok || !ok_portable || !same(&fa, &fp) {
            fail("rfft ring to folded power", case);
        }
        checks += 1;
        let (mut ma, mut mp) = ([0.0f32; 128], [0.0f32; 128]);
        let ra = fb.apply_folded(&fa, 2, &mut ma);
        let rp = fb.apply_folded_portable(&fa, 2, &mut mp);
        if ra.is_err() || rp.is_err() || !same(&ma, &mp) {
            fail("apply_folded", case);
        }
        checks += 1;
    }
    println!("kernels ok checks={checks}");
    semihosting::process::exit(0)
}

/// Exits with status 101 on a panic.
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    println!("kernels PANIC");
    semihosting::process::exit(101)
}
