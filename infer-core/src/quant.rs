//! Integer quantisation arithmetic, following the TFLite / CMSIS-NN conventions so that the int8
//! path is bit-for-bit checkable against the tflite-micro reference kernels.
//!
//! - Weights: symmetric int8 per output channel (zero point 0, `scale = max|w| / 127`).
//! - Activations: asymmetric int8 per tensor, `real = scale * (q - zero_point)`.
//! - Bias: int32 with `scale = input_scale * weight_scale[c]`, zero point 0.
//! - Requantisation of an int32 accumulator by a [`Requantizer`]: a Q31 fixed-point multiplier and
//!   a power-of-two shift, applied with TFLite's `MultiplyByQuantizedMultiplier` (gemmlowp's
//!   `SaturatingRoundingDoublingHighMul` then `RoundingDivideByPOT`; the default "double rounding"
//!   build of tflite-micro).

use crate::Error;

/// Per-tensor affine quantisation of an activation: `real = scale * (q - zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QParams {
    /// Step between adjacent integer levels (finite, > 0).
    pub scale: f32,
    /// The integer that represents real 0.
    pub zero_point: i8,
}

impl QParams {
    /// Checks the scale is finite and positive.
    ///
    /// # Errors
    /// [`Error::ModelBadQuantisation`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.scale.is_finite() && self.scale > 0.0 {
            Ok(())
        } else {
            Err(Error::ModelBadQuantisation)
        }
    }

    /// Quantises a real value as TFLite's `AffineQuantize` does: `round(x / scale) + zero_point`
    /// (f32 division, ties away from zero), saturated to `[-128, 127]`. NaN maps to the zero point.
    #[inline]
    pub fn quantize(&self, x: f32) -> i8 {
        let r = libm::roundf(x / self.scale);
        // `as` saturates and maps NaN to 0.
        let q = (r as i32).saturating_add(i32::from(self.zero_point));
        q.clamp(-128, 127) as i8
    }

    /// Dequantises: `scale * (q - zero_point)`.
    #[inline]
    pub fn dequantize(&self, q: i8) -> f32 {
        self.scale * (i32::from(q) - i32::from(self.zero_point)) as f32
    }

    /// Asymmetric int8 parameters covering `[min, max]` (widened to include 0), as TFLite's
    /// calibration computes them: `scale = (max - min) / 255`, `zero_point = round(-128 - min /
    /// scale)` clamped to `[-128, 127]`. A degenerate range gives scale 1.
    pub fn from_range(min: f32, max: f32) -> QParams {
        let lo = f64::from(min.min(0.0));
        let hi = f64::from(max.max(0.0));
        let range = hi - lo;
        if !(range.is_finite() && range > 0.0) {
            return QParams {
                scale: 1.0,
                zero_point: 0,
            };
        }
        let scale = (range / 255.0) as f32;
        let zp = libm::round(-128.0 - lo / f64::from(scale));
        let zero_point = zp.clamp(-128.0, 127.0) as i8;
        QParams { scale, zero_point }
    }
}

/// A Q31 fixed-point multiplier and a power-of-two exponent that together approximate a real
/// scale factor `m ≈ multiplier * 2^(shift - 31)`.
///
/// `shift > 0` is a left shift applied before the multiplication, `shift < 0` a rounding right
/// shift after it, as in TFLite. The fields are private: every `Requantizer` comes from
/// [`Requantizer::new`] or [`Requantizer::from_scale`], so its multiplier is in `[2^30, 2^31)`
/// and its shift in `[-31, 30]` (never the all-zero requantizer a tiny scale would flush to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requantizer {
    multiplier: i32,
    shift: i8,
}

impl Requantizer {
    /// A requantizer from its stored fields (as a model file holds them).
    ///
    /// # Errors
    /// [`Error::ModelBadQuantisation`] unless `multiplier` is in `[2^30, 2^31)` and `shift` in
    /// `[-31, 30]`.
    pub const fn new(multiplier: i32, shift: i8) -> Result<Requantizer, Error> {
        if multiplier >= 1 << 30 && shift >= -31 && shift <= 30 {
            Ok(Requantizer { multiplier, shift })
        } else {
            Err(Error::ModelBadQuantisation)
        }
    }

    /// The Q31 significand, in `[2^30, 2^31)`.
    #[inline(always)]
    pub const fn multiplier(&self) -> i32 {
        self.multiplier
    }

    /// The binary exponent, in `[-31, 30]`.
    #[inline(always)]
    pub const fn shift(&self) -> i8 {
        self.shift
    }

    /// TFLite's `QuantizeMultiplier`: `frexp` the real multiplier, round the significand to Q31
    /// (ties away from zero), renormalise a significand of exactly 1.
    ///
    /// TFLite flushes a scale of 0 or below `2^-32` (an exponent below -31) to the zero
    /// requantizer, which maps every accumulator to the output zero point; here that is an
    /// error, so a layer whose output would be constant is rejected when it is exported or
    /// loaded instead of running silently.
    ///
    /// # Errors
    /// [`Error::ModelBadQuantisation`] for a negative, non-finite, or too large (`>= 2^30`)
    /// scale, [`Error::ModelScaleUnderflow`] for 0 or a scale below `2^-32`.
    pub fn from_scale(real: f64) -> Result<Requantizer, Error> {
        if !real.is_finite() || real < 0.0 {
            return Err(Error::ModelBadQuantisation);
        }
        if real == 0.0 {
            return Err(Error::ModelScaleUnderflow);
        }
        let (q, mut shift) = libm::frexp(real);
        let mut q_fixed = libm::round(q * (1u64 << 31) as f64) as i64;
        if q_fixed == 1i64 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Err(Error::ModelScaleUnderflow);
        }
        if shift > 30 {
            return Err(Error::ModelBadQuantisation);
        }
        let multiplier = i32::try_from(q_fixed).map_err(|_| Error::ModelBadQuantisation)?;
        Requantizer::new(multiplier, shift as i8)
    }

    /// The real factor this requantizer represents.
    pub fn to_f64(&self) -> f64 {
        f64::from(self.multiplier) * pow2(i32::from(self.shift) - 31)
    }

    /// TFLite's `MultiplyByQuantizedMultiplier(x, multiplier, shift)`.
    #[inline]
    pub fn apply(&self, x: i32) -> i32 {
        let shift = i32::from(self.shift);
        let left = if shift > 0 { shift } else { 0 };
        let right = if shift > 0 { 0 } else { -shift };
        // `x * (1 << left)`: TFLite relies on it not overflowing; wrap rather than panic.
        let shifted = x.wrapping_mul(1i32.wrapping_shl(left as u32));
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(shifted, self.multiplier),
            right,
        )
    }
}

/// `2^k` exactly (as `libm::exp2(k)` gives it, without its tables) for `k` in `-1022..=1023`,
/// clamped to that range.
pub fn pow2(k: i32) -> f64 {
    f64::from_bits(((k.clamp(-1022, 1023) + 1023) as u64) << 52)
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2 * a * b`, rounded to
/// nearest (ties toward +infinity, from gemmlowp's nudge-and-truncate), saturating the one overflow case
/// `a == b == i32::MIN`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // C++ integer division truncates toward zero, as Rust's does.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` is clamped to `0..=31`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let e = exponent.clamp(0, 31) as u32;
    let mask: i64 = (1i64 << e) - 1;
    let remainder = i64::from(x) & mask;
    let threshold = (mask >> 1) + i64::from(x < 0);
    (x >> e) + i32::from(remainder > threshold)
}

/// Symmetric per-channel int8 quantisation of one output channel's weights: `scale = max|w| /
/// 127` (1 for an all-zero channel), `q = round(w / scale)` clamped to `[-127, 127]`.
/// Returns the scale; `out` receives the quantised values (as many as fit).
pub fn quantize_symmetric(weights: &[f32], out: &mut [i8]) -> f32 {
    let max = weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    let scale = if max > 0.0 && max.is_finite() {
        max / 127.0
    } else {
        1.0
    };
    for (o, w) in out.iter_mut().zip(weights) {
        *o = libm::roundf(w / scale).clamp(-127.0, 127.0) as i8;
    }
    scale
}

/// Quantises a bias to int32 with `scale = input_scale * weight_scale` (computed in f64), rounding
/// ties away from zero and saturating.
pub fn quantize_bias(bias: f32, input_scale: f32, weight_scale: f32) -> i32 {
    let s = f64::from(input_scale) * f64::from(weight_scale);
    let q = libm::round(f64::from(bias) / s);
    q.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same computation in 128-bit integers, written from the definitions: high half of the
    /// doubled product rounded half up, then a rounding right shift.
    fn wide_reference(x: i32, m: i32, shift: i32) -> i32 {
        let left = shift.max(0);
        let right = (-shift).max(0);
        let xs = i128::from(x) << left;
        let p = xs * i128::from(m) * 2; // doubled product
        let div = 1i128 << 32;
        // gemmlowp's nudge-and-truncate rounds ties toward +infinity: floor(p / div + 1/2)
        let hi = (p + div / 2).div_euclid(div);
        let hi = hi.clamp(i128::from(i32::MIN), i128::from(i32::MAX));
        let d = 1i128 << right;
        let q = hi >> right;
        let rem = hi - (q << right);
        let half = d / 2;
        let up = if hi >= 0 {
            rem >= half && right > 0
        } else {
            rem > half && right > 0
        };
        (q + i128::from(up)) as i32
    }

    #[test]
    fn srdhm_matches_hand_values() {
        // 2 * 3 * 2^30 / 2^32 = 1.5 -> 2 (ties away from zero)
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        // the negative nudge 1 - 2^30 with truncation sends -1.5 to -1, -1.75 to -2
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(-7, 1 << 29), -2);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        // x * 0.5 in Q31: 2 * 100 * 2^30 / 2^32 = 50
        assert_eq!(saturating_rounding_doubling_high_mul(100, 1 << 30), 50);
    }

    #[test]
    fn rdbp_matches_hand_values() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3); // 2.5 -> 3
        assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 -> -3
        assert_eq!(rounding_divide_by_pot(7, 2), 2); // 1.75 -> 2
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(6, 2), 2); // 1.5 -> 2
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 -> -2
        assert_eq!(rounding_divide_by_pot(9, 0), 9);
    }

    #[test]
    fn apply_matches_wide_integer_reference() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200_000 {
            let x: i32 = rng.random_range(-(1 << 24)..(1 << 24));
            let m: i32 = rng.random_range((1 << 30)..i32::MAX);
            let shift: i32 = rng.random_range(-31..=2);
            let r = Requantizer::new(m, shift as i8).unwrap();
            assert_eq!(
                r.apply(x),
                wide_reference(x, m, shift),
                "x={x} m={m} shift={shift}"
            );
        }
    }

    #[test]
    fn from_scale_matches_frexp_hand_values() {
        // 0.5 = 0.5 * 2^0 -> multiplier 2^30, shift 0
        assert_eq!(
            Requantizer::from_scale(0.5),
            Ok(Requantizer {
                multiplier: 1 << 30,
                shift: 0
            })
        );
        // 0.75 * 2^-3 = 0.09375
        assert_eq!(
            Requantizer::from_scale(0.09375),
            Ok(Requantizer {
                multiplier: 3 << 29,
                shift: -3
            })
        );
        // a significand that rounds up to 1.0 is renormalised
        let just_below_one = 1.0 - 1e-12;
        assert_eq!(
            Requantizer::from_scale(just_below_one),
            Ok(Requantizer {
                multiplier: 1 << 30,
                shift: 1
            })
        );
        // TFLite flushes these to a requantizer that maps everything to 0: rejected here
        assert_eq!(
            Requantizer::from_scale(1e-20),
            Err(Error::ModelScaleUnderflow)
        );
        assert_eq!(
            Requantizer::from_scale(0.0),
            Err(Error::ModelScaleUnderflow)
        );
        // the smallest scale kept: 2^-32 (frexp exponent -31)
        assert_eq!(
            Requantizer::from_scale(pow2(-32)),
            Ok(Requantizer {
                multiplier: 1 << 30,
                shift: -31
            })
        );
        assert_eq!(
            Requantizer::from_scale(pow2(30)),
            Err(Error::ModelBadQuantisation)
        );
        assert_eq!(
            Requantizer::from_scale(-1.0),
            Err(Error::ModelBadQuantisation)
        );
        assert_eq!(
            Requantizer::from_scale(f64::NAN),
            Err(Error::ModelBadQuantisation)
        );
        // a requantizer approximates its scale to Q31 precision
        for s in [0.001234, 0.3, 0.9999, 1.5, 17.0] {
            let r = Requantizer::from_scale(s).unwrap();
            assert!((r.to_f64() - s).abs() <= s * 1e-9, "{s} {r:?}");
            assert_eq!(Requantizer::new(r.multiplier(), r.shift()), Ok(r));
        }
    }

    #[test]
    fn new_rejects_fields_from_scale_never_produces() {
        assert_eq!(Requantizer::new(0, 0), Err(Error::ModelBadQuantisation));
        assert_eq!(
            Requantizer::new((1 << 30) - 1, 0),
            Err(Error::ModelBadQuantisation)
        );
        assert_eq!(Requantizer::new(-5, 0), Err(Error::ModelBadQuantisation));
        assert_eq!(
            Requantizer::new(1 << 30, -32),
            Err(Error::ModelBadQuantisation)
        );
        assert_eq!(
            Requantizer::new(1 << 30, 31),
            Err(Error::ModelBadQuantisation)
        );
        assert!(Requantizer::new(i32::MAX, -31).is_ok());
        assert!(Requantizer::new(1 << 30, 30).is_ok());
    }

    #[test]
    fn qparams_from_range_follows_tflite() {
        // ReLU output [0, 6]: scale 6/255, zero point -128
        let q = QParams::from_range(0.0, 6.0);
        assert_eq!(q.zero_point, -128);
        assert!((q.scale - 6.0 / 255.0).abs() < 1e-9);
        // symmetric-ish range [-1, 1]: zero point round(-128 + 127.5) = round(-0.5) = -1
        let q = QParams::from_range(-1.0, 1.0);
        assert_eq!(q.zero_point, -1);
        // real 0 is exactly representable
        assert_eq!(q.dequantize(q.quantize(0.0)), 0.0);
        assert_eq!(q.quantize(1e9), 127);
        assert_eq!(q.quantize(-1e9), -128);
        assert_eq!(q.quantize(f32::NAN), q.zero_point);
    }

    #[test]
    fn symmetric_weights_and_bias() {
        let mut q = [0i8; 4];
        let s = quantize_symmetric(&[0.5, -1.27, 0.0, 0.3], &mut q);
        assert!((s - 0.01).abs() < 1e-7);
        assert_eq!(q, [50, -127, 0, 30]);
        assert_eq!(quantize_bias(1.0, 0.5, 0.01), 200);
        assert_eq!(quantize_bias(-0.0125, 0.5, 0.01), -3); // -2.5 -> -3
    }
}
