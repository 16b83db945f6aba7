//! Shared helpers for benches.

use trainer::models::{ModelConfig, ModelKind, PosEnc};

/// Batch size of the training-throughput benches (the study's).
pub const TRAIN_BATCH: usize = 32;

/// The training step the throughput benches time: the baseline's configuration (10 classes,
/// `[1, 128, 130]` input), a deterministic input batch `[TRAIN_BATCH, 1, 128, 130]` in [-1, 1]
/// and one-hot targets `[TRAIN_BATCH, 10]` (example `b` of class `b % 10`).
pub fn baseline_step() -> (ModelConfig, Vec<f32>, Vec<f32>) {
    let cfg = ModelConfig {
        kind: ModelKind::Baseline,
        posenc: PosEnc::None,
        n_classes: 10,
        n_mels: 128,
        frames: 130,
        // the study's dropout: the bench times the paper's network
        dropout: trainer::models::study_dropout(),
        widths: Default::default(),
    };
    let x = (0..TRAIN_BATCH * 128 * 130)
        .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let mut y = vec![0f32; TRAIN_BATCH * 10];
    for b in 0..TRAIN_BATCH {
        y[b * 10 + b % 10] = 1.0;
    }
    (cfg, x, y)
}

/// The sample rate of every bench clip (GTZAN's).
pub const SR: usize = 22_050;

/// A deterministic music-like test clip of `seconds` at [`SR`]: five harmonic partials of 220 Hz
/// with 5 Hz vibrato, plus xorshift noise. The Python peers (`benches/frontend_librosa.py`, whose
/// `clip()` the other peers import) compute the same signal.
pub fn music_clip(seconds: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..SR * seconds)
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
