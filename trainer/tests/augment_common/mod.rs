//! Helpers shared by the augmentation tests: WAV reading, a small log-mel
//! matching librosa's defaults (validated against librosa in
//! `augment_pitch::test_logmel_matches_librosa`), and a precise frequency
//! estimator.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use realfft::RealFftPlanner;

/// `tests/fixtures/pitch` at the workspace root.
pub fn pitch_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/pitch")
}

/// Mono samples of a WAV file, scaled as librosa loads them (int16 / 32768).
pub fn read_wav(path: &Path) -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let ch = usize::from(spec.channels);
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 * scale)
                .collect()
        }
    };
    let mono = interleaved
        .chunks_exact(ch)
        .map(|c| c.iter().sum::<f32>() / ch as f32)
        .collect();
    (mono, spec.sample_rate)
}

fn hz_to_mel(f: f64) -> f64 {
    // Slaney: linear below 1 kHz, logarithmic above.
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// librosa.filters.mel(sr, n_fft, n_mels=128) with Slaney scale and norm:
/// `[n_mels, n_fft/2 + 1]`.
fn mel_filterbank(sr: f64, n_fft: usize, n_mels: usize) -> Vec<Vec<f64>> {
    let n_bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * sr / n_fft as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|m| {
            let enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
            fft_freqs
                .iter()
                .map(|&f| {
                    let lower = (f - mel_f[m]) / (mel_f[m + 1] - mel_f[m]);
                    let upper = (mel_f[m + 2] - f) / (mel_f[m + 2] - mel_f[m + 1]);
                    lower.min(upper).max(0.0) * enorm
                })
                .collect()
        })
        .collect()
}

/// librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050)) with
/// `ref=1, amin=1e-10` and the given `top_db`: centred zero-padded STFT
/// (periodic Hann, n_fft 2048, hop 512), power 2, 128 Slaney mel bands.
/// Returns `[n_mels][frames]`.
pub fn log_mel(y: &[f32], top_db: Option<f64>) -> Vec<Vec<f64>> {
    let (n_fft, hop, n_mels) = (2048usize, 512usize, 128usize);
    let fb = mel_filterbank(22050.0, n_fft, n_mels);
    let window: Vec<f64> = (0..n_fft)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos())
        .collect();
    let frames = 1 + y.len() / hop;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut buf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut out = vec![vec![0.0; frames]; n_mels];
    for t in 0..frames {
        for (k, v) in buf.iter_mut().enumerate() {
            let idx = (t * hop + k) as i64 - (n_fft / 2) as i64;
            *v = if idx >= 0 && (idx as usize) < y.len() {
                f64::from(y[idx as usize]) * window[k]
            } else {
                0.0
            };
        }
        fft.process(&mut buf, &mut spec).unwrap();
        let power: Vec<f64> = spec.iter().map(|c| c.norm_sqr()).collect();
        for (m, row) in fb.iter().enumerate() {
            let p: f64 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
            out[m][t] = 10.0 * p.max(1e-10).log10();
        }
    }
    if let Some(top) = top_db {
        let max = out
            .iter()
            .flatten()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        for v in out.iter_mut().flatten() {
            *v = v.max(max - top);
        }
    }
    out
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
