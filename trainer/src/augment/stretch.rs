//! Phase-vocoder time stretching, the first half of [`super::pitch`].
//!
//! This follows `librosa.effects.time_stretch` (librosa 0.11): a centred,
//! zero-padded STFT with a periodic Hann window (`n_fft` 2048, hop 512), the
//! `librosa.phase_vocoder` column interpolation, and an inverse STFT with
//! window-sum-square normalisation trimmed to `round(len / rate)` samples.
//!
//! One implementation detail differs from librosa's code but not from its
//! result: librosa accumulates the phase as
//! `acc += phi_advance + wrap(angle(D1) - angle(D0) - phi_advance)`, which is
//! `acc + angle(D1) - angle(D0)` modulo 2π. Here the accumulator is a unit
//! phasor multiplied by `u1 * conj(u0)` (`u = D / |D|`, `u = 1` where
//! `D = 0`, as `angle(0) = 0`), which is the same quantity without `atan2`,
//! `sin` and `cos`, and without the float32 precision loss of a phase that
//! grows to ~10^6 radians.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// STFT size (librosa's default `n_fft`).
pub const N_FFT: usize = 2048;
/// STFT hop (librosa's default `n_fft / 4`).
pub const HOP: usize = 512;
/// Number of frequency bins, `N_FFT / 2 + 1`.
pub const N_BINS: usize = N_FFT / 2 + 1;

/// A one-sided complex spectrogram, frame-major: `data[t * N_BINS + k]`.
#[derive(Debug, Clone)]
pub struct Spectrogram {
    /// Number of frames.
    pub frames: usize,
    /// `[frames, N_BINS]` values.
    pub data: Vec<Complex<f32>>,
}

/// The periodic Hann window of length `n` (`scipy.signal.get_window('hann', n)`).
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (0.5 - 0.5 * x.cos()) as f32
        })
        .collect()
}

/// Centred STFT (zero padding of `N_FFT / 2` on both sides), as
/// `librosa.stft(y)` with its defaults: `1 + y.len() / HOP` frames.
pub fn stft(y: &[f32], planner: &mut RealFftPlanner<f32>) -> Spectrogram {
    let window = hann_periodic(N_FFT);
    let fft = planner.plan_fft_forward(N_FFT);
    let frames = 1 + y.len() / HOP;
    let mut data = vec![Complex::new(0.0, 0.0); frames * N_BINS];
    let mut frame = fft.make_input_vec();
    let mut scratch = fft.make_scratch_vec();
    let pad = N_FFT / 2;
    for (t, out) in data.chunks_exact_mut(N_BINS).enumerate() {
        // Frame t covers padded samples [t*HOP, t*HOP + N_FFT), i.e. original
        // samples [t*HOP - pad, t*HOP - pad + N_FFT).
        for (k, v) in frame.iter_mut().enumerate() {
            let idx = (t * HOP + k).wrapping_sub(pad);
            *v = if idx < y.len() {
                y[idx] * window[k]
            } else {
                0.0
            };
        }
        // Lengths are those the plan was made for, so this cannot fail.
        fft.process_with_scratch(&mut frame, out, &mut scratch)
            .expect("FFT buffer lengths match the plan");
    }
    Spectrogram { frames, data }
}

/// `librosa.phase_vocoder(D, rate)`: output column `t` interpolates the
/// magnitudes of input columns `floor(t * rate)` and the next one (zero past
/// the end) and carries the accumulated phase; `ceil(frames / rate)` columns.
pub fn phase_vocoder(d: &Spectrogram, rate: f64) -> Spectrogram {
    assert!(rate > 0.0 && rate.is_finite(), "rate must be positive");
    let in_frames = d.frames;
    // np.arange(0, frames, rate) has ceil(frames / rate) elements.
    let out_frames = (in_frames as f64 / rate).ceil() as usize;
    let mut out = vec![Complex::new(0.0f32, 0.0); out_frames * N_BINS];
    if in_frames == 0 {
        return Spectrogram {
            frames: 0,
            data: out,
        };
    }
    // Magnitudes and unit phasors of the input columns.
    let mags: Vec<f32> = d.data.iter().map(|c| c.norm()).collect();
    let units: Vec<Complex<f32>> = d
        .data
        .iter()
        .zip(&mags)
        .map(|(c, &m)| {
            if m > 0.0 {
                c / m
            } else {
                Complex::new(1.0, 0.0)
            }
        })
        .collect();
    let one = Complex::new(1.0f32, 0.0);
    let column = |j: usize, k: usize| -> (f32, Complex<f32>) {
        if j < in_frames {
            (mags[j * N_BINS + k], units[j * N_BINS + k])
        } else {
            (0.0, one)
        }
    };
    // Accumulator initialised to the phase of the first column.
    let mut acc: Vec<Complex<f32>> = units[..N_BINS].to_vec();
    for (t, out_col) in out.chunks_exact_mut(N_BINS).enumerate() {
        let step = t as f64 * rate;
        let j = step.floor() as usize;
        let alpha = (step - j as f64) as f32;
        for k in 0..N_BINS {
            let (m0, u0) = column(j, k);
            let (m1, u1) = column(j + 1, k);
            let mag = (1.0 - alpha) * m0 + alpha * m1;
            out_col[k] = acc[k] * mag;
            // Advance by angle(D1) - angle(D0), renormalised against drift.
            let next = acc[k] * u1 * u0.conj();
            let n = next.norm();
            acc[k] = if n > 0.0 { next / n } else { one };
        }
    }
    Spectrogram {
        frames: out_frames,
        data: out,
    }
}

/// Inverse of [`stft`] as `librosa.istft(D, length=length)`: windowed
/// overlap-add of the first `min(frames, ceil((length + N_FFT) / HOP))`
/// columns, divided by the window sum-square where it exceeds the smallest
/// normal f32, trimmed (or zero-padded) to `length` samples.
pub fn istft(d: &Spectrogram, length: usize, planner: &mut RealFftPlanner<f32>) -> Vec<f32> {
    let window = hann_periodic(N_FFT);
    let ifft = planner.plan_fft_inverse(N_FFT);
    let pad = N_FFT / 2;
    let n_frames = d.frames.min((length + 2 * pad).div_ceil(HOP));
    let mut y = vec![0.0f32; length];
    let mut wss = vec![0.0f32; length];
    if n_frames == 0 {
        return y;
    }
    let mut spec = ifft.make_input_vec();
    let mut frame = ifft.make_output_vec();
    let mut scratch = ifft.make_scratch_vec();
    let scale = 1.0 / N_FFT as f32;
    for t in 0..n_frames {
        spec.copy_from_slice(&d.data[t * N_BINS..(t + 1) * N_BINS]);
        // numpy's irfft ignores the imaginary parts of DC and Nyquist.
        spec[0].im = 0.0;
        spec[N_BINS - 1].im = 0.0;
        ifft.process_with_scratch(&mut spec, &mut frame, &mut scratch)
            .expect("FFT buffer lengths match the plan");
        // Frame t lands at padded position t*HOP, i.e. output index t*HOP - pad.
        for k in 0..N_FFT {
            let idx = (t * HOP + k).wrapping_sub(pad);
            if idx < length {
                y[idx] += frame[k] * scale * window[k];
                wss[idx] += window[k] * window[k];
            }
        }
    }
    for (v, &w) in y.iter_mut().zip(&wss) {
        if w > f32::MIN_POSITIVE {
            *v /= w;
        }
    }
    y
}

/// `librosa.effects.time_stretch(y, rate=rate)`: `rate > 1` is faster
/// (shorter), `rate < 1` slower; the result has `round(len / rate)` samples
/// (round half to even, as Python's `round`).
pub fn time_stretch(y: &[f32], rate: f64, planner: &mut RealFftPlanner<f32>) -> Vec<f32> {
    let d = stft(y, planner);
    let stretched = phase_vocoder(&d, rate);
    let len = (y.len() as f64 / rate).round_ties_even() as usize;
    istft(&stretched, len, planner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-checkable identity: at rate 1 the phase vocoder returns the
    /// input columns, so stretch(y, 1) reconstructs y (Hann^2 at hop N/4
    /// satisfies the overlap-add condition away from nothing: the window sum
    /// is positive everywhere inside the signal).
    #[test]
    fn unit_rate_reconstructs_the_input() {
        let y: Vec<f32> = (0..10_000)
            .map(|i| {
                ((i as f32) * 0.013).sin() * 0.5 + ((i * 7919 % 101) as f32 / 101.0 - 0.5) * 0.1
            })
            .collect();
        let mut planner = RealFftPlanner::new();
        let out = time_stretch(&y, 1.0, &mut planner);
        assert_eq!(out.len(), y.len());
        let err = y
            .iter()
            .zip(&out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "max reconstruction error {err}");
    }

    #[test]
    fn lengths_follow_librosa() {
        let y = vec![0.1f32; 22050];
        let mut planner = RealFftPlanner::new();
        let d = stft(&y, &mut planner);
        assert_eq!(d.frames, 1 + 22050 / 512);
        // 44 frames / 0.8 = 55 output columns; len = round(22050 / 0.8) = 27562 (27562.5, to even).
        let pv = phase_vocoder(&d, 0.8);
        assert_eq!(pv.frames, 55);
        assert_eq!(time_stretch(&y, 0.8, &mut planner).len(), 27562);
    }
}
