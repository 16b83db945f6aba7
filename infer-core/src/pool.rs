//! 2x2 max-pooling (stride 2, floor), generic over the activation type.
//!
//! Max-pooling commutes with ReLU and with any monotonic non-decreasing requantisation, but the
//! executor does not rely on that: it pools the already requantised, ReLU-clamped conv outputs,
//! which is exactly what TFLite's `CONV_2D(fused RELU) -> MAX_POOL_2D` computes.

use crate::Error;

/// The larger of two activations (the first on ties or NaN).
#[inline]
pub fn max<A: PartialOrd + Copy>(a: A, b: A) -> A {
    if b > a { b } else { a }
}

/// `out[i] = max(a[i], b[i])` over the common length.
#[inline]
pub fn max_of<A: PartialOrd + Copy>(a: &[A], b: &[A], out: &mut [A]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = max(x, y);
    }
}

/// `acc[i] = max(acc[i], v[i])` over the common length.
#[inline]
pub fn max_into<A: PartialOrd + Copy>(acc: &mut [A], v: &[A]) {
    for (a, &x) in acc.iter_mut().zip(v) {
        *a = max(*a, x);
    }
}

/// Reference: 2x2 max-pool with floor on an HWC tensor, plain loops.
///
/// `input`: `[mels][frames][ch]` -> `out`: `[mels / 2][frames / 2][ch]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] / [`Error::OutputTooSmall`] if the buffers do not fit.
pub fn maxpool2x2_ref<A: PartialOrd + Copy>(
    input: &[A],
    mels: usize,
    frames: usize,
    ch: usize,
    out: &mut [A],
) -> Result<(), Error> {
    let (om, of) = (mels / 2, frames / 2);
    if input.len() < mels * frames * ch {
        return Err(Error::ShapeMismatch);
    }
    if out.len() < om * of * ch {
        return Err(Error::OutputTooSmall);
    }
    for m in 0..om {
        for t in 0..of {
            for c in 0..ch {
                let at = |mm: usize, tt: usize| input.get((mm * frames + tt) * ch + c).copied();
                let (Some(a), Some(b), Some(x), Some(y)) = (
                    at(2 * m, 2 * t),
                    at(2 * m, 2 * t + 1),
                    at(2 * m + 1, 2 * t),
                    at(2 * m + 1, 2 * t + 1),
                ) else {
                    return Err(Error::ShapeMismatch);
                };
                if let Some(o) = out.get_mut((m * of + t) * ch + c) {
                    *o = max(max(a, b), max(x, y));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_pool_by_hand() {
        // 3 mels x 3 frames x 1 channel: only the top-left 2x2 window survives the floor.
        let x = [1i8, 5, 9, 3, 2, 9, 9, 9, 9];
        let mut out = [0i8; 1];
        maxpool2x2_ref(&x, 3, 3, 1, &mut out).unwrap();
        assert_eq!(out, [5]);
        // 2 mels x 4 frames x 2 channels
        let x = [
            1.0f32, -1.0, 2.0, -2.0, 3.0, 0.5, 0.0, 7.0, 4.0, -3.0, 0.0, -4.0, 1.0, 1.0, 2.0, 2.0,
        ];
        let mut out = [0.0f32; 4];
        maxpool2x2_ref(&x, 2, 4, 2, &mut out).unwrap();
        assert_eq!(out, [4.0, -1.0, 3.0, 7.0]);
    }
}
