//! Helpers shared by the augmentation tests: WAV reading and the log-mel (both the trainer's
//! own, the latter checked against librosa in `augment_pitch::test_logmel_matches_librosa`), and
//! a precise frequency estimator.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use realfft::RealFftPlanner;

/// `tests/fixtures/pitch` at the workspace root.
pub fn pitch_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/pitch")
}

/// Mono samples of a WAV file and its rate, decoded by the trainer (int16 / 32768, as librosa
/// loads them).
pub fn read_wav(path: &Path) -> (Vec<f32>, u32) {
    trainer::base::audio::load_mono_native(path).unwrap()
}

/// `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050))` with `ref=1,
/// amin=1e-10` and the given `top_db`, computed by the project's front end (infer-core's
/// `FrontendConfig::DEFAULT`, checked against librosa in `tests/tests/frontend_parity.rs`).
/// Returns `[n_mels][frames]`.
pub fn log_mel(y: &[f32], top_db: Option<f64>) -> Vec<Vec<f64>> {
    let cfg = trainer::data::cache::FrontendConfig {
        top_db: top_db.map(|t| t as f32),
        ..trainer::data::cache::FrontendConfig::DEFAULT
    };
    let (m, f, x) = trainer::data::cache::log_mel(&cfg, y).unwrap();
    (0..m)
        .map(|i| {
            x[i * f..(i + 1) * f]
                .iter()
                .map(|&v| f64::from(v))
                .collect()
        })
        .collect()
}

/// Mean absolute difference of two log-mels of the same shape, in dB.
pub fn mean_abs_db(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut sum = 0.0;
    let mut n = 0usize;
    for (ra, rb) in a.iter().zip(b) {
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(rb) {
            sum += (x - y).abs();
            n += 1;
        }
    }
    sum / n as f64
}

/// The dominant frequency of `y` between `start` and `start + 32768`
/// samples: peak of a zero-padded (x4) Hann-windowed FFT, refined by a
/// parabola through the log magnitudes of the peak bin and its neighbours.
pub fn estimate_frequency(y: &[f32], sr: f64, start: usize) -> f64 {
    let len = 32768usize;
    let pad = 131072usize;
    let seg = &y[start..start + len];
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(pad);
    let mut buf = fft.make_input_vec();
    for (i, (b, &s)) in buf.iter_mut().zip(seg).enumerate() {
        // numpy.hanning (symmetric).
        let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (len - 1) as f64).cos();
        *b = f64::from(s) * w;
    }
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let mag: Vec<f64> = spec.iter().map(|c| c.norm()).collect();
    let k = (1..mag.len() - 1)
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap();
    let (a, b, c) = (mag[k - 1].ln(), mag[k].ln(), mag[k + 1].ln());
    let delta = 0.5 * (a - c) / (a - 2.0 * b + c);
    (k as f64 + delta) * sr / pad as f64
}
