//! Front-end profile: the instructions of each stage of one log-mel frame (window, real FFT,
//! power + mel filterbank, log), counted like the firmware counts (SysTick under QEMU
//! `-icount shift=0`), and the whole streaming front end on 3 s of a deterministic signal.

#![no_std]
#![no_main]

#[path = "../counter.rs"]
mod counter;
#[path = "../vectors.rs"]
mod vectors;

use cortex_m_rt::entry;
use infer_core::config::FrontendConfig;
use infer_core::filterbank::MelFilterbank;
use infer_core::rfft;
use infer_core::stream::LogMelStream;
use semihosting::println;

fn lcg(s: &mut u32) -> u32 {
    *s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
    *s
}

fn insns(t0: u64, t1: u64) -> u64 {
    (t1 - t0) * counter::INSNS_PER_TICK
}

#[entry]
fn main() -> ! {
    let Some(cp) = cortex_m::Peripherals::take() else {
        semihosting::process::exit(5)
    };
    counter::start(cp.SYST);
    let _ = counter::calibrate(1000);
    let cfg = FrontendConfig::DEFAULT;
    let Ok(fb) = MelFilterbank::new(&cfg) else {
        semihosting::process::exit(3)
    };
    let mut s = 1u32;
    let mut buf = [0.0f32; 2048];
    for v in buf.iter_mut() {
        *v = ((lcg(&mut s) >> 16) as i16) as f32 * (1.0 / 32768.0);
    }
    let mut mel = [0.0f32; 128];
    let ring = buf;
    let mut z = [0.0f32; 2048];
    let t0 = counter::ticks();
    let _ = rfft::load_ring_windowed_first_stage(&ring, 1024, &mut z);
    let t1 = counter::ticks();
    rfft::cfft1024_dit_after_first_stage(&mut z);
    let t2 = counter::ticks();
    rfft::split_power_folded(&mut z);
    let t3 = counter::ticks();
    let _ = fb.apply_folded(&z, 2, &mut mel);
    let t4 = counter::ticks();
    for v in mel.iter_mut() {
        let x = if *v > 1e-10 { *v } else { 1e-10 };
        *v = infer_core::frontend::db10(x);
    }
    let t5 = counter::ticks();
    let h = mel.iter().fold(0x811c_9dc5u32, |f, v| {
        (f ^ v.to_bits()).wrapping_mul(0x0100_0193)
    });
    println!(
        "frame window_permute_stage1={} cfft1024_stages2to5={} split_power={} mel={} log={} mel_fnv={h:08x}",
        insns(t0, t1),
        insns(t1, t2),
        insns(t2, t3),
        insns(t3, t4),
        insns(t4, t5)
    );
    let Ok(mut st) = LogMelStream::new(&cfg) else {
        semihosting::process::exit(3)
    };
    let mut chunk = [0i16; 1024];
    let mut frames = 0u32;
    let mut hm = 0x811c_9dc5u32;
    let mut on = |f: &[f32]| {
        frames += 1;
        for v in f {
            hm = (hm ^ v.to_bits()).wrapping_mul(0x0100_0193);
        }
    };
    let t0 = counter::ticks();
    let mut left = 66150usize;
    while left > 0 {
        let n = left.min(1024);
        for v in chunk[..n].iter_mut() {
            *v = (lcg(&mut s) >> 18) as i16;
        }
        let _ = st.push_i16(&chunk[..n], &mut on);
        left -= n;
    }
    let _ = st.finish(&mut on);
    let t1 = counter::ticks();
    println!(
        "stream3s fe={} frames={frames} mel_fnv={hm:08x}",
        insns(t0, t1)
    );
    semihosting::process::exit(0)
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    semihosting::process::exit(101)
}
