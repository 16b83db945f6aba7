//! The log-mel front end on a 30 s clip (661 500 samples at 22 050 Hz), whole-signal form, for
//! both configurations (librosa defaults: n_fft 2048 Slaney; torchaudio-style n_fft 1024 HTK), and
//! the streaming form fed in 1024-sample chunks. The librosa peer is benches/frontend_librosa.py;
//! benches/frontend.sh runs both single-threaded and prints the ratio.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infer_core::config::FrontendConfig;
use infer_core::frontend::LogMel;
use infer_core::stream::LogMelStream;

const SR: usize = 22_050;
const SECONDS: usize = 30;

/// A deterministic music-like test clip: a few harmonic partials with vibrato plus noise.
fn clip() -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..SR * SECONDS)
        .map(|i| {
            let t = i as f32 / SR as f32;
            let f0 = 220.0 * (1.0 + 0.01 * (2.0 * std::f32::consts::PI * 5.0 * t).sin());
            let tone: f32 = (1..6)
                .map(|k| (2.0 * std::f32::consts::PI * f0 * k as f32 * t).sin() / k as f32)
                .sum();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            0.3 * tone + 0.05 * noise
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let x = clip();
    let mut g = c.benchmark_group("frontend_30s");
    g.sample_size(20);
    g.throughput(Throughput::Elements(x.len() as u64));
    for (name, cfg) in [
        ("default_2048_slaney", FrontendConfig::DEFAULT),
        ("htk1024", FrontendConfig::HTK1024),
    ] {
        let mut lm = Box::new(LogMel::new(&cfg).expect("valid config"));
        let mut out = vec![0f32; cfg.n_mels as usize * cfg.n_frames(x.len())];
        g.bench_function(name, |b| {
            b.iter(|| lm.compute_f32(&x, &mut out).expect("front end"))
        });
    }
    let cfg = FrontendConfig::DEFAULT;
    let mut stream = Box::new(LogMelStream::new(&cfg).expect("valid config"));
    g.bench_function("default_2048_slaney_stream_1024", |b| {
        b.iter(|| {
            stream.reset();
            let mut frames = 0usize;
            for chunk in x.chunks(1024) {
                stream.push_f32(chunk, |_| frames += 1).expect("push");
            }
            stream.finish(|_| frames += 1).expect("finish");
            frames
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
