//! Training throughput of the baseline CNN on Burn's CPU backends: one optimisation step
//! (forward, soft-target cross-entropy, backward, Adam) on a batch of 32 log-mel segments
//! `[32, 1, 128, 130]`. Segments/s = 32 / (time per step). Flex always; LibTorch's CPU too when
//! built with `--features libtorch`. The PyTorch peer is benches/train_throughput_torch.py;
//! benches/train_throughput.sh runs them all and prints the ratios.

use burn::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trainer::models::backend::DeviceKind;
use trainer::study::train::{optimizer, train_step};

use tinygenre_benches::TRAIN_BATCH as BATCH;

// The same allocator as the `trainer` binary, so the bench measures what users run.
#[global_allocator]
static GLOBAL: trainer::base::alloc::Allocator = trainer::base::alloc::Allocator;

fn bench(c: &mut Criterion) {
    trainer::base::alloc::keep_freed_memory();
    let mut g = c.benchmark_group("train_throughput");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH as u64));
    for kind in [DeviceKind::Flex, DeviceKind::Libtorch] {
        if !kind.is_compiled_in() {
            continue;
        }
        let device = kind.device().expect("a CPU device").autodiff();
        device.seed(0);
        let (cfg, x, y) = tinygenre_benches::baseline_step();
        let mut model = Some(cfg.init(&device));
        let mut optim = optimizer();
        g.bench_function(format!("baseline_{kind}_batch32"), |bencher| {
            bencher.iter(|| {
                let xt = Tensor::<4>::from_data(
                    TensorData::new(x.clone(), [BATCH, 1, 128, 130]),
                    &device,
                );
                let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [BATCH, 10]), &device);
                let m = model.take().expect("model");
                let (m, loss, _) = train_step(m, &mut optim, xt, yt, 1e-3);
                model = Some(m);
                loss
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
