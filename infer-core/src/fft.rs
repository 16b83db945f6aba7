//! Real FFT on microfft and the in-place power spectrum.
//!
//! microfft's `rfft_N` transforms `N` real samples in place into `N/2`
//! complex values laid out as `(re, im)` pairs, with one twist: the purely
//! real Nyquist coefficient `X[N/2]` is packed into the imaginary part of the
//! (purely real) DC bin. [`power_spectrum_in_place`] unpacks it, so the
//! result is the ordinary one-sided spectrum `|X[k]|^p` for `k = 0..=N/2`.
//!
//! The front end uses microfft only for sizes other than 2048 (host builds); 2048 points go
//! through [`crate::rfft`]. On the device microfft is no longer linked; it stays the reference
//! the radix-4 FFT is tested against.

use microfft::real;

use crate::Error;
use crate::limits::{MAX_N_FFT, MIN_N_FFT};

/// Whether `n_fft` is an FFT size compiled into this build (every power of two in
/// `MIN_N_FFT..=MAX_N_FFT` with the `fft-all-sizes` feature, else only [`DEVICE_N_FFT`]).
pub fn is_supported(n_fft: usize) -> bool {
    if cfg!(feature = "fft-all-sizes") {
        n_fft.is_power_of_two() && (MIN_N_FFT..=MAX_N_FFT).contains(&n_fft)
    } else {
        n_fft == DEVICE_N_FFT
    }
}

/// The one FFT size of a build without the `fft-all-sizes` feature: the default front end's.
pub const DEVICE_N_FFT: usize = 2048;

macro_rules! dispatch_rfft {
    ($buf:expr, $n:expr, $($size:literal => $f:ident),* $(,)?) => {
        match $n {
            $(
                $size => {
                    let arr: &mut [f32; $size] = $buf
                        .get_mut(..$size)
                        .and_then(|s| s.try_into().ok())
                        .ok_or(Error::OutputTooSmall)?;
                    let _ = real::$f(arr);
                    Ok(())
                }
            )*
            _ => Err(Error::ConfigUnsupportedFftSize),
        }
    };
}

/// In-place real FFT of `buf[..n_fft]` with microfft's packed output:
/// afterwards `buf[2k], buf[2k+1]` hold `Re X[k], Im X[k]` for `k` in
/// `1..n_fft/2`, `buf[0] = X[0]` and `buf[1] = X[n_fft/2]` (both real).
/// Unnormalised (`X[k] = sum_n x[n] e^{-2 pi i k n / N}`).
///
/// # Errors
/// [`Error::ConfigUnsupportedFftSize`] for a size not compiled in,
/// [`Error::OutputTooSmall`] if `buf` is shorter than `n_fft`.
#[cfg(feature = "fft-all-sizes")]
pub fn rfft_packed(buf: &mut [f32], n_fft: usize) -> Result<(), Error> {
    dispatch_rfft!(buf, n_fft,
        16 => rfft_16,
        32 => rfft_32,
        64 => rfft_64,
        128 => rfft_128,
        256 => rfft_256,
        512 => rfft_512,
        1024 => rfft_1024,
        2048 => rfft_2048,
    )
}

/// As above, with only [`DEVICE_N_FFT`] compiled in.
///
/// # Errors
/// [`Error::ConfigUnsupportedFftSize`] for any other size, [`Error::OutputTooSmall`] if `buf`
/// is shorter than `n_fft`.
#[cfg(not(feature = "fft-all-sizes"))]
pub fn rfft_packed(buf: &mut [f32], n_fft: usize) -> Result<(), Error> {
    dispatch_rfft!(buf, n_fft, 2048 => rfft_2048)
}

/// Windowed frame in, one-sided spectrum out, in the same buffer: on return
/// `buf[k] = |X[k]|^power` for `k` in `0..=n_fft/2` (`power` 1 or 2).
///
/// # Errors
/// As [`rfft_packed`]; also [`Error::OutputTooSmall`] if `buf` cannot hold
/// `n_fft` values and [`Error::ConfigBadPower`] for a power other than 1, 2.
pub fn power_spectrum_in_place(buf: &mut [f32], n_fft: usize, power: u8) -> Result<(), Error> {
    if power != 1 && power != 2 {
        return Err(Error::ConfigBadPower);
    }
    rfft_packed(buf, n_fft)?;
    let half = n_fft / 2;
    let buf = buf.get_mut(..n_fft).ok_or(Error::OutputTooSmall)?;
    let (dc, nyq) = match buf {
        [a, b, ..] => (*a, *b),
        _ => return Err(Error::ConfigUnsupportedFftSize),
    };
    // Bin k reads positions 2k, 2k+1 >= k, and writes position k, whose old
    // value (part of bin k/2 < k) has already been consumed: in place is safe.
    for k in 1..half {
        let (re, im) = match (buf.get(2 * k), buf.get(2 * k + 1)) {
            (Some(r), Some(i)) => (*r, *i),
            _ => return Err(Error::OutputTooSmall),
        };
        if let Some(slot) = buf.get_mut(k) {
            *slot = re * re + im * im;
        }
    }
    if let Some(slot) = buf.get_mut(0) {
        *slot = dc * dc;
    }
    // Position `half` held Re X[half/2], consumed at k = half/2.
    if let Some(slot) = buf.get_mut(half) {
        *slot = nyq * nyq;
    }
    if power == 1 {
        for v in buf.iter_mut().take(half + 1) {
            *v = crate::dsp::sqrt_f32(*v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};
    use rustfft::{FftPlanner, num_complex::Complex};

    /// microfft + unpacking against rustfft's complex FFT in f64.
    #[test]
    fn power_spectrum_matches_rustfft() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut planner = FftPlanner::<f64>::new();
        for n in [16usize, 32, 64, 128, 256, 512, 1024, 2048] {
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let mut want: Vec<Complex<f64>> =
                x.iter().map(|&v| Complex::new(v as f64, 0.0)).collect();
            planner.plan_fft_forward(n).process(&mut want);
            for power in [1u8, 2] {
                let mut buf = [0.0f32; MAX_N_FFT];
                buf[..n].copy_from_slice(&x);
                power_spectrum_in_place(&mut buf, n, power).unwrap();
                let scale = want.iter().map(|c| c.norm_sqr()).fold(0.0, f64::max);
                for k in 0..=n / 2 {
                    let w = if power == 2 {
                        want[k].norm_sqr()
                    } else {
                        want[k].norm()
                    };
                    let s = if power == 2 { scale } else { scale.sqrt() };
                    let err = (buf[k] as f64 - w).abs() / s;
                    assert!(err < 2e-6, "n {n} power {power} bin {k}: {} vs {w}", buf[k]);
                }
            }
        }
    }

    #[test]
    fn nyquist_and_dc_are_unpacked() {
        // x[n] = (-1)^n: all energy at Nyquist, X[N/2] = N.
        let n = 1024;
        let mut buf = [0.0f32; MAX_N_FFT];
        for (i, v) in buf[..n].iter_mut().enumerate() {
            *v = if i % 2 == 0 { 1.0 } else { -1.0 };
        }
        power_spectrum_in_place(&mut buf, n, 1).unwrap();
        assert_eq!(buf[n / 2], n as f32);
        assert!(buf[..n / 2].iter().all(|v| v.abs() < 1e-3));
        // constant: all energy at DC
        let mut buf = [0.0f32; MAX_N_FFT];
        buf[..n].fill(0.5);
        power_spectrum_in_place(&mut buf, n, 2).unwrap();
        assert_eq!(buf[0], (0.5 * n as f32).powi(2));
        assert!(buf[1..=n / 2].iter().all(|v| v.abs() < 1e-3));
    }

    #[test]
    fn bad_sizes_are_errors() {
        let mut buf = [0.0f32; MAX_N_FFT];
        assert_eq!(
            rfft_packed(&mut buf, 1000),
            Err(Error::ConfigUnsupportedFftSize)
        );
        assert_eq!(
            rfft_packed(&mut buf, 4096),
            Err(Error::ConfigUnsupportedFftSize)
        );
        assert_eq!(
            rfft_packed(&mut buf[..100], 128),
            Err(Error::OutputTooSmall)
        );
        assert_eq!(
            power_spectrum_in_place(&mut buf, 1024, 3),
            Err(Error::ConfigBadPower)
        );
        assert!(is_supported(2048) && !is_supported(8) && !is_supported(3000));
    }

    /// Without `fft-all-sizes` (the device build) only the default front end's size is
    /// compiled in and every other size is a typed error; with it (host builds) all are.
    #[test]
    fn gated_sizes_are_typed_errors() {
        assert!(is_supported(DEVICE_N_FFT));
        let all = cfg!(feature = "fft-all-sizes");
        let mut buf = [0.0f32; MAX_N_FFT];
        for n in [16, 256, 1024] {
            assert_eq!(is_supported(n), all);
            let want = if all {
                Ok(())
            } else {
                Err(Error::ConfigUnsupportedFftSize)
            };
            assert_eq!(rfft_packed(&mut buf, n), want);
        }
        assert_eq!(
            crate::posenc::supported(crate::format::PosEnc::Sinusoidal),
            cfg!(feature = "posenc-sinusoidal")
        );
    }
}
