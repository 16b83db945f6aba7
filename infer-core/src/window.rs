//! The periodic Hann window, as a compile-time table (flash, not RAM).
//!
//! `w[n] = 0.5 - 0.5 * cos(2 * pi * n / N)` for `n` in `0..N` (scipy's
//! `get_window('hann', N, fftbins=True)`, which librosa uses). The table holds
//! the first half (`n = 0..=MAX_N_FFT/2`) for `N = MAX_N_FFT`, evaluated in
//! f64 at compile time and rounded to f32; every smaller power-of-two window
//! is a subsample of it (`w_N[n] = w_MAX[n * MAX_N_FFT / N]`) and the second
//! half mirrors the first (`w[N - n] = w[n]`).

use crate::Error;
use crate::config::MAX_N_FFT;

const HALF: usize = MAX_N_FFT / 2;

/// `[w(0), ..., w(MAX_N_FFT / 2)]` of the periodic Hann window of length
/// `MAX_N_FFT` (4 KiB of read-only data).
pub static HANN_HALF: [f32; HALF + 1] = hann_half_table();

/// Taylor series of sin and cos on `[0, pi/4]` (error below 1e-19).
const fn sin_cos_small(x: f64) -> (f64, f64) {
    let x2 = x * x;
    let mut s = x;
    let mut c = 1.0;
    let mut term_s = x;
    let mut term_c = 1.0;
    let mut k = 1;
    while k <= 12 {
        let a = (2 * k) as f64;
        term_s = -term_s * x2 / (a * (a + 1.0));
        term_c = -term_c * x2 / ((a - 1.0) * a);
        s += term_s;
        c += term_c;
        k += 1;
    }
    (s, c)
}

/// `cos(2 * pi * n / MAX_N_FFT)` for `n` in `0..=MAX_N_FFT/2`, reduced to the
/// first octant with exact integer symmetries.
pub(crate) const fn cos_turn(n: usize) -> f64 {
    let quarter = MAX_N_FFT / 4;
    let eighth = MAX_N_FFT / 8;
    let step = 2.0 * core::f64::consts::PI / MAX_N_FFT as f64;
    // cos(2 pi n / N) = -cos(2 pi (N/2 - n) / N) for n > N/4
    let (m, sign) = if n > quarter {
        (HALF - n, -1.0)
    } else {
        (n, 1.0)
    };
    // cos(x) = sin(pi/2 - x) for x > pi/4
    let v = if m > eighth {
        sin_cos_small((quarter - m) as f64 * step).0
    } else {
        sin_cos_small(m as f64 * step).1
    };
    sign * v
}

// Const evaluation: an index out of bounds here fails the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const fn hann_half_table() -> [f32; HALF + 1] {
    let mut t = [0.0f32; HALF + 1];
    let mut n = 0;
    while n <= HALF {
        t[n] = (0.5 - 0.5 * cos_turn(n)) as f32;
        n += 1;
    }
    t
}

/// Value `n` of the periodic Hann window of length `n_fft`, for `n` in `0..n_fft` and a power
/// of two `n_fft` in `2..=MAX_N_FFT`; `None` otherwise.
#[inline]
pub fn hann(n_fft: usize, n: usize) -> Option<f32> {
    if n_fft < 2 || n >= n_fft || !MAX_N_FFT.is_multiple_of(n_fft) {
        return None;
    }
    let stride = MAX_N_FFT / n_fft;
    let m = if n <= n_fft / 2 { n } else { n_fft - n };
    HANN_HALF.get(m * stride).copied()
}

/// Multiplies `frame[n]` by the periodic Hann window of length `frame.len()`.
///
/// # Errors
/// [`Error::ConfigUnsupportedFftSize`] unless `frame.len()` is a power of two in
/// `2..=MAX_N_FFT` (the frame is then left as it is; a validated front-end config never asks
/// for such a size).
pub fn apply_hann(frame: &mut [f32]) -> Result<(), Error> {
    let n_fft = frame.len();
    if n_fft < 2 || !MAX_N_FFT.is_multiple_of(n_fft) {
        return Err(Error::ConfigUnsupportedFftSize);
    }
    let stride = MAX_N_FFT / n_fft;
    let (first, second) = frame.split_at_mut(n_fft / 2);
    if stride == 1 {
        // the largest size: the table as it is (no strided iterator)
        for (x, w) in first.iter_mut().zip(&HANN_HALF) {
            *x *= *w;
        }
        for (x, w) in second.iter_mut().zip(HANN_HALF.iter().skip(1).rev()) {
            *x *= *w;
        }
        return Ok(());
    }
    // first half: w[0..N/2]
    for (x, w) in first.iter_mut().zip(HANN_HALF.iter().step_by(stride)) {
        *x *= *w;
    }
    // second half: w[N/2 + j] = w[N/2 - j]
    for (x, w) in second
        .iter_mut()
        .zip(HANN_HALF.iter().step_by(stride).rev())
    {
        *x *= *w;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_libm_cos_in_f64() {
        // Independent evaluation with the platform's cos in f64.
        for n_fft in [16usize, 64, 1024, 2048] {
            for n in 0..n_fft {
                let want = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / n_fft as f64).cos();
                let got = hann(n_fft, n).unwrap() as f64;
                assert!(
                    (got - want).abs() <= 6e-8,
                    "n_fft {n_fft} n {n}: {got} vs {want}"
                );
            }
        }
        // Hand values: w[0] = 0, w[N/4] = 0.5, w[N/2] = 1 exactly.
        assert_eq!(hann(2048, 0), Some(0.0));
        assert_eq!(hann(2048, 512), Some(0.5));
        assert_eq!(hann(2048, 1024), Some(1.0));
        assert_eq!(hann(2048, 1536), Some(0.5));
        // outside the window or an unsupported length: no value, not a silent 0
        assert_eq!(hann(2048, 2048), None);
        assert_eq!(hann(1000, 3), None);
        assert_eq!(hann(4096, 3), None);
        assert_eq!(hann(1, 0), None);
    }

    #[test]
    fn apply_matches_pointwise() {
        for n_fft in [16usize, 1024, 2048] {
            let mut frame = vec![1.0f32; n_fft];
            apply_hann(&mut frame).unwrap();
            for (n, v) in frame.iter().enumerate() {
                assert_eq!(Some(*v), hann(n_fft, n), "n_fft {n_fft} n {n}");
            }
        }
    }

    /// A frame of a length the window table does not cover is an error, not left unwindowed.
    #[test]
    fn unsupported_lengths_are_errors() {
        for n in [0usize, 1, 3, 1000, 4096] {
            let mut frame = vec![1.0f32; n];
            assert_eq!(
                apply_hann(&mut frame),
                Err(Error::ConfigUnsupportedFftSize),
                "{n}"
            );
        }
    }
}
