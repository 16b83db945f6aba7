//! A fixed number of training steps of the baseline CNN on any Burn device, for
//! `benches/gpu.sh`: the step of `benches/benches/train_throughput.rs` (forward, soft-target
//! cross-entropy, backward, Adam on a batch of 32 `[1, 128, 130]` segments), timed after a
//! warm-up. Prints segments/s.
//!
//! Usage: `cargo run -p tinygenre-benches --features wgpu --example train_steps -- wgpu 50`
//! (device: flex, ndarray, wgpu, cuda, libtorch or libtorch-cuda[:N]; all but flex need a cargo
//! feature: the name, or `libtorch` for both LibTorch ones).

use std::time::Instant;

use burn::prelude::*;
use trainer::models::backend::DeviceKind;
use trainer::study::train::{optimizer, train_step};

use tinygenre_benches::TRAIN_BATCH as BATCH;

// the `trainer` binary's allocator, so host-side allocation costs what it costs in training
#[global_allocator]
static GLOBAL: trainer::base::alloc::Allocator = trainer::base::alloc::Allocator;
const WARMUP: usize = 3;

fn main() -> anyhow::Result<()> {
    trainer::base::alloc::keep_freed_memory();
    let mut args = std::env::args().skip(1);
    let kind: DeviceKind = args.next().as_deref().unwrap_or("flex").parse()?;
    let steps: usize = args.next().as_deref().unwrap_or("50").parse()?;
    anyhow::ensure!(steps >= 1, "steps must be at least 1");
    let device = kind.device()?.autodiff();
    device.seed(0);
    let (cfg, x, y) = tinygenre_benches::baseline_step();
    let mut model = cfg.init(&device);
    let mut optim = optimizer();
    let mut t0 = Instant::now();
    let mut loss = 0.0;
    for s in 0..WARMUP + steps {
        if s == WARMUP {
            t0 = Instant::now();
        }
        let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), [BATCH, 1, 128, 130]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [BATCH, 10]), &device);
        // the loss is read back every step, which also waits for the device to finish it
        let (m, l, _) = train_step(model, &mut optim, xt, yt, 1e-3);
        model = m;
        loss = l;
    }
    let dt = t0.elapsed().as_secs_f64() / steps as f64;
    println!(
        "burn {kind}: {:.1} ms/step, {:.1} segments/s (batch {BATCH}, {steps} steps, last loss {loss:.4})",
        dt * 1000.0,
        BATCH as f64 / dt
    );
    Ok(())
}
