//! Per-layer benchmark of infer-core's int8 conv kernel: the baseline's five
//! conv3x3-ReLU-maxpool2 layer shapes on deterministic data, one whole layer at a time through
//! `conv_tile::conv3x3_relu_pool_i8`, counted like the firmware counts (SysTick under QEMU
//! `-icount shift=0`). Prints per layer the MACs, the instructions and an FNV-1a hash of the
//! pooled int8 output, the same lines as the CMSIS-NN harness (`benches/cmsis-nn/harness.c`,
//! whose `layers.h` defines the shapes and the LCG this file mirrors), so
//! `scripts/bench-cmsis-nn.sh` can put the two side by side and check the outputs agree. Each
//! layer with more than one input channel runs again through Winograd F(2x2, 3x3)
//! (`conv_tile::wino`, `wino N ...` lines, the same output hash expected), then the
//! transform's parts are timed on their own (`wino_parts`).

#![no_std]
#![no_main]

#[path = "../counter.rs"]
mod counter;
#[path = "../vectors.rs"]
mod vectors;

use cortex_m_rt::entry;
use infer_core::conv::{Conv3x3, ConvParams};
use infer_core::conv_tile::conv3x3_relu_pool_i8;
use infer_core::conv_tile::wino::conv3x3_relu_pool_wino_i8;
use semihosting::println;

/// `{mels, frames, in_ch, out_ch, right shift, input zero point, output zero point}`, as
/// `benches/cmsis-nn/layers.h`.
const LAYERS: [[i32; 7]; 5] = [
    [128, 130, 1, 128, 7, 5, -128],
    [64, 65, 128, 64, 11, -128, -128],
    [32, 32, 64, 32, 10, -128, -100],
    [16, 16, 32, 16, 10, -100, -128],
    [8, 8, 16, 8, 9, -128, -128],
];

fn lcg(s: &mut u32) -> u32 {
    *s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
    *s
}

#[entry]
fn main() -> ! {
    let Some(cp) = cortex_m::Peripherals::take() else {
        semihosting::process::exit(5)
    };
    counter::start(cp.SYST);
    // the first read can precede SysTick's first reload
    let _ = counter::calibrate(1000);
    let cal = counter::calibrate(2_000_000);
    println!("tinygenre 1 calibration ticks={cal}");
    let mut input = [0i8; 128 * 130];
    let mut big_input = [0i8; 64 * 65 * 128];
    let mut pooled = [0i8; 64 * 65 * 128];
    let mut weights = [0u8; 64 * 9 * 128];
    let mut bias = [0u8; 4 * 128];
    let mut mult = [0u8; 4 * 128];
    let mut shift = [0u8; 128];
    for (l, &[h, w, ci, co, rshift, izp, ozp]) in LAYERS.iter().enumerate() {
        let [h, w, ci, co] = [h, w, ci, co].map(|v| v as usize);
        let mut s = 1 + l as u32;
        let x: &mut [i8] = if h * w * ci <= input.len() {
            &mut input[..h * w * ci]
        } else {
            &mut big_input[..h * w * ci]
        };
        for v in x.iter_mut() {
            *v = (lcg(&mut s) >> 24) as i8;
        }
        for v in weights[..co * 9 * ci].iter_mut() {
            let q = (lcg(&mut s) >> 24) as i8;
            *v = q.max(-127) as u8;
        }
        for o in 0..co {
            let b = ((lcg(&mut s) >> 16) % 4001) as i32 - 2000;
            let m = (0x4000_0000u32 + (lcg(&mut s) >> 2)) as i32;
            bias[4 * o..4 * o + 4].copy_from_slice(&b.to_le_bytes());
            mult[4 * o..4 * o + 4].copy_from_slice(&m.to_le_bytes());
            shift[o] = (-rshift) as i8 as u8;
        }
        let layer = Conv3x3 {
            in_ch: ci,
            out_ch: co,
            params: ConvParams::Int8 {
                weights: &weights[..co * 9 * ci],
                bias: &bias[..4 * co],
                multipliers: &mult[..4 * co],
                shifts: &shift[..co],
                input_zero_point: izp,
                output_zero_point: ozp,
                act_min: ozp.max(-128),
            },
        };
        let out = &mut pooled[..(h / 2) * (w / 2) * co];
        let t0 = counter::ticks();
        let r = conv3x3_relu_pool_i8(&layer, x, h, w, out);
        let t1 = counter::ticks();
        if r.is_err() {
            println!("error: layer {l}: {r:?}");
            semihosting::process::exit(3)
        }
        let fnv = out.iter().fold(0x811c_9dc5u32, |f, &v| {
            (f ^ u32::from(v as u8)).wrapping_mul(0x0100_0193)
        });
        let macs = (h * w * 9 * ci * co) as u64;
        let insns = (t1 - t0) * counter::INSNS_PER_TICK;
        println!("layer {l} macs={macs} conv_pool={insns} out_fnv={fnv:08x}");
        // the same layer through Winograd F(2x2, 3x3) (not layer 1: one input channel)
        if ci > 1 {
            let t0 = counter::ticks();
            let r = conv3x3_relu_pool_wino_i8(&layer, x, h, w, out);
            let t1 = counter::ticks();
            if r.is_err() {
                println!("error: layer {l} winograd: {r:?}");
                semihosting::process::exit(3)
            }
            let wfnv = out.iter().fold(0x811c_9dc5u32, |f, &v| {
                (f ^ u32::from(v as u8)).wrapping_mul(0x0100_0193)
            });
            let insns = (t1 - t0) * counter::INSNS_PER_TICK;
            println!("wino {l} macs={macs} winograd={insns} out_fnv={wfnv:08x}");
        }
    }
    // Winograd's parts at layer 2's shape (128 input channels), instructions per call (mean of
    // 64): one output channel's filter transform of a 32-channel chunk, its products with four
    // tiles (the whole-chunk loop the executor runs), one tile's input transform of a chunk, and
    // the output transform of one channel's products added to its sums
    {
        use infer_core::dsp::wino_chunk as dc;
        use infer_core::dsp::wino_gemm as dg;
        let w = &weights[..64 * 9 * 128];
        let mut u = [0i32; 16 * dc::NP];
        let mut v = [0i32; 16 * dc::NP * 4];
        let mut m = [[0i32; 4]; 16];
        let t0 = counter::ticks();
        for o in 0..64 {
            dc::filter_groups(w, o * 9 * 128, 128, &mut u);
        }
        let t1 = counter::ticks();
        for _ in 0..64 {
            dg::gemm16(&u, &v, &mut m);
        }
        let t2 = counter::ticks();
        let px = [0i8; 128];
        let win: [Option<&[i8]>; 16] = core::array::from_fn(|k| (k != 3).then_some(&px[..]));
        for t in 0..64 {
            dc::input_groups(&win, 32, 5, 20, t % 4, &mut v);
        }
        let t3 = counter::ticks();
        let mut y = [[0i32; 4]; 4];
        for _ in 0..64 {
            dg::output4_add(core::hint::black_box(&m), &mut y);
        }
        let t4 = counter::ticks();
        core::hint::black_box(&y);
        let k = counter::INSNS_PER_TICK;
        println!(
            "wino_parts filter={} products={} input={} output={}",
            (t1 - t0) * k / 64,
            (t2 - t1) * k / 64,
            (t3 - t2) * k / 64,
            (t4 - t3) * k / 64
        );
    }
    println!("done");
    semihosting::process::exit(0)
}

/// Exits with status 101 on a panic (none are expected).
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    semihosting::process::exit(101)
}
