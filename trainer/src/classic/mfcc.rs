//! MFCCs from the project's log-mel front end.
//!
//! `librosa.feature.mfcc(y=y, sr=22050, n_mfcc=20)` (librosa 0.11) computes
//!
//! ```text
//! S = power_to_db(melspectrogram(y, sr))     # ref 1.0, amin 1e-10, top_db 80 (its default)
//! M = scipy.fft.dct(S, axis=-2, type=2, norm="ortho")[:n_mfcc]
//! ```
//!
//! infer-core's [`FrontendConfig::DEFAULT`] is the same mel spectrogram and the same
//! `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, but with `top_db: None`
//! (the CNN's input is not floored). librosa's MFCC, however, floors at
//! `max - 80 dB`, the maximum taken over the whole spectrogram (all mels, all
//! frames). [`mfcc_from_log_mel`] applies that floor itself (`top_db`
//! argument, [`LIBROSA_TOP_DB`] to match librosa), then the orthonormal DCT-II
//! over the mel axis:
//!
//! ```text
//! c[k, t] = s_k * sum_{m=0}^{M-1} S[m, t] * cos(pi * k * (2m + 1) / (2M)),
//! s_0 = sqrt(1 / M),  s_k = sqrt(2 / M) for k > 0
//! ```
//!
//! (scipy's DCT-II `2 sum x[n] cos(...)` with `norm="ortho"` scaling
//! `sqrt(1/(4N))` for k = 0 and `sqrt(1/(2N))` otherwise.)
//!
//! Shapes: log-mel input mel-major `[n_mels, frames]` (`x[m * frames + t]`, the
//! front end's layout); MFCC output coefficient-major `[n_mfcc, frames]`
//! (`c[k * frames + t]`, librosa's layout).

use infer_core::config::FrontendConfig;

use super::ClassicError;

/// librosa's `power_to_db` default `top_db`, which `librosa.feature.mfcc` uses.
pub const LIBROSA_TOP_DB: f32 = 80.0;

/// The number of MFCCs the baseline keeps (librosa's default `n_mfcc`).
pub const N_MFCC: usize = 20;

/// The orthonormal DCT-II basis, row-major `[n_out, n_in]`: `basis[k * n_in + m]
/// = s_k cos(pi k (2m + 1) / (2 n_in))`, computed in f64.
///
/// # Errors
/// [`ClassicError::BadMfccCount`] when `n_out` is 0 or exceeds `n_in`.
pub fn dct_ortho_basis(n_in: usize, n_out: usize) -> Result<Vec<f64>, ClassicError> {
    if n_out == 0 || n_out > n_in {
        return Err(ClassicError::BadMfccCount {
            n_mfcc: n_out,
            n_mels: n_in,
        });
    }
    let n = n_in as f64;
    let mut basis = Vec::with_capacity(n_out * n_in);
    for k in 0..n_out {
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        for m in 0..n_in {
            let arg = std::f64::consts::PI * k as f64 * (2 * m + 1) as f64 / (2.0 * n);
            basis.push(scale * arg.cos());
        }
    }
    Ok(basis)
}

/// Checks a mel-major log-mel buffer: `n_mels > 0`, `len` a non-zero multiple of
/// `n_mels`, all values finite. Returns `frames`.
pub(crate) fn check_log_mel(log_mel: &[f32], n_mels: usize) -> Result<usize, ClassicError> {
    if n_mels == 0 || log_mel.is_empty() || !log_mel.len().is_multiple_of(n_mels) {
        return Err(ClassicError::LogMelShape {
            len: log_mel.len(),
            n_mels,
        });
    }
    if let Some(index) = log_mel.iter().position(|v| !v.is_finite()) {
        return Err(ClassicError::NonFiniteLogMel { index });
    }
    Ok(log_mel.len() / n_mels)
}

/// MFCCs of one mel-major log-mel spectrogram `[n_mels, frames]` (dB, as the
/// front end produces it). Returns `[n_mfcc, frames]` (`c[k * frames + t]`).
///
/// `top_db`: `Some(d)` raises every value below `max - d` (max over the whole
/// input) to it first, as librosa's `power_to_db` does; pass
/// `Some(`[`LIBROSA_TOP_DB`]`)` to match `librosa.feature.mfcc`, `None` to use the
/// values as given.
///
/// # Errors
/// [`ClassicError::LogMelShape`], [`ClassicError::NonFiniteLogMel`],
/// [`ClassicError::BadMfccCount`], [`ClassicError::BadTopDb`].
pub fn mfcc_from_log_mel(
    log_mel: &[f32],
    n_mels: usize,
    n_mfcc: usize,
    top_db: Option<f32>,
) -> Result<Vec<f32>, ClassicError> {
    let frames = check_log_mel(log_mel, n_mels)?;
    let floor = db_floor(std::iter::once(log_mel), top_db)?;
    mfcc_floored(log_mel, n_mels, frames, n_mfcc, floor)
}

/// The `max - top_db` floor over all values of `parts` (`f32::NEG_INFINITY` when
/// `top_db` is `None`).
pub(crate) fn db_floor<'a>(
    parts: impl Iterator<Item = &'a [f32]>,
    top_db: Option<f32>,
) -> Result<f32, ClassicError> {
    match top_db {
        None => Ok(f32::NEG_INFINITY),
        Some(d) if !(d.is_finite() && d >= 0.0) => Err(ClassicError::BadTopDb { top_db: d }),
        Some(d) => {
            let max = parts
                .flat_map(|p| p.iter().copied())
                .fold(f32::NEG_INFINITY, f32::max);
            Ok(max - d)
        }
    }
}

/// The DCT of `log_mel` (already checked: `[n_mels, frames]`, finite) after
/// raising values below `floor` to it. Accumulates in f64.
pub(crate) fn mfcc_floored(
    log_mel: &[f32],
    n_mels: usize,
    frames: usize,
    n_mfcc: usize,
    floor: f32,
) -> Result<Vec<f32>, ClassicError> {
    let basis = dct_ortho_basis(n_mels, n_mfcc)?;
    let mut acc = vec![0f64; n_mfcc * frames];
    for (m, row) in log_mel.chunks_exact(frames).enumerate() {
        for (k, out) in acc.chunks_exact_mut(frames).enumerate() {
            let w = basis[k * n_mels + m];
            for (o, &v) in out.iter_mut().zip(row) {
                *o += w * f64::from(v.max(floor));
            }
        }
    }
    Ok(acc.into_iter().map(|v| v as f32).collect())
}

/// `librosa.feature.mfcc(y=samples, sr=22050, n_mfcc)` with the project's front end:
/// [`crate::data::cache::log_mel`] with `cfg` (normally [`FrontendConfig::DEFAULT`],
/// whose own `top_db` should be `None`), then [`mfcc_from_log_mel`] with
/// `top_db`. Returns `(frames, [n_mfcc, frames])`.
///
/// # Errors
/// [`ClassicError::Frontend`] when the front end rejects the input (empty, too
/// short, non-finite), and those of [`mfcc_from_log_mel`].
pub fn mfcc(
    cfg: &FrontendConfig,
    samples: &[f32],
    n_mfcc: usize,
    top_db: Option<f32>,
) -> Result<(usize, Vec<f32>), ClassicError> {
    let (n_mels, frames, log_mel) =
        crate::data::cache::log_mel(cfg, samples).map_err(ClassicError::Frontend)?;
    let c = mfcc_from_log_mel(&log_mel, n_mels, n_mfcc, top_db)?;
    Ok((frames, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The basis is orthonormal when square (DCT-II ortho is an orthogonal matrix).
    #[test]
    fn square_basis_is_orthonormal() {
        let n = 16;
        let b = dct_ortho_basis(n, n).unwrap();
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..n).map(|m| b[i * n + m] * b[j * n + m]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "<{i},{j}> = {dot}");
            }
        }
    }

    /// Hand calculation: a constant column c over M mels gives c0 = c * sqrt(M)
    /// and zero for every other coefficient; the top_db floor clamps first.
    #[test]
    fn constant_column_and_floor_by_hand() {
        let n_mels = 8;
        let frames = 2;
        // frame 0: all -10 dB; frame 1: all -200 dB (floored to max - 80 = -90).
        let mut x = vec![0f32; n_mels * frames];
        for m in 0..n_mels {
            x[m * frames] = -10.0;
            x[m * frames + 1] = -200.0;
        }
        let c = mfcc_from_log_mel(&x, n_mels, 3, Some(80.0)).unwrap();
        let s = (n_mels as f32).sqrt();
        assert!((c[0] - -10.0 * s).abs() < 1e-4, "{}", c[0]);
        assert!((c[1] - -90.0 * s).abs() < 1e-3, "{}", c[1]);
        assert!(c[2..].iter().all(|v| v.abs() < 1e-3), "{c:?}");
        let c = mfcc_from_log_mel(&x, n_mels, 3, None).unwrap();
        assert!((c[1] - -200.0 * s).abs() < 1e-3, "{}", c[1]);
    }

    #[test]
    fn rejects_bad_shapes_and_values() {
        assert!(matches!(
            mfcc_from_log_mel(&[0.0; 10], 3, 2, None),
            Err(ClassicError::LogMelShape { len: 10, n_mels: 3 })
        ));
        assert!(matches!(
            mfcc_from_log_mel(&[0.0, f32::NAN], 2, 1, None),
            Err(ClassicError::NonFiniteLogMel { index: 1 })
        ));
        assert!(matches!(
            mfcc_from_log_mel(&[0.0; 4], 2, 3, None),
            Err(ClassicError::BadMfccCount { .. })
        ));
        assert!(matches!(
            mfcc_from_log_mel(&[0.0; 4], 2, 1, Some(-1.0)),
            Err(ClassicError::BadTopDb { .. })
        ));
    }
}
