//! The log-mel front end on a 30 s clip (661 500 samples at 22 050 Hz), whole-signal form, for
//! both configurations (librosa defaults: n_fft 2048 Slaney; torchaudio-style n_fft 1024 HTK), and
//! the streaming form fed in 1024-sample chunks. The librosa peer is benches/frontend_librosa.py;
//! benches/frontend.sh runs both single-threaded and prints the ratio.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infer_core::config::FrontendConfig;
use infer_core::frontend::LogMel;
use infer_core::stream::LogMelStream;
use tinygenre_benches::music_clip;

fn bench(c: &mut Criterion) {
    let x = music_clip(30);
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
