//! Shared helpers for benches.

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
