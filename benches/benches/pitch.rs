//! Pitch shift of a 30 s clip (661 500 samples at 22 050 Hz) by +2 and -4 semitones with
//! `trainer::augment::pitch::pitch_shift` (phase-vocoder stretch, STFT 2048/512, then rubato
//! sinc resampling), in process. The peer is `librosa.effects.pitch_shift` in
//! benches/pitch_librosa.py on the same clip; benches/pitch.sh runs both on one core and prints
//! the ratio.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tinygenre_benches::music_clip;
use trainer::augment::pitch::pitch_shift;

fn bench(c: &mut Criterion) {
    let x = music_clip(30);
    let mut g = c.benchmark_group("pitch_shift_30s");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    for steps in [2.0f64, -4.0] {
        g.bench_function(format!("steps_{steps}"), |b| {
            b.iter(|| pitch_shift(&x, steps).expect("pitch shift"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
