//! Positional encodings of the network input, computed exactly as the device computes them, so
//! that training can use the same values bit for bit (`docs/model-format.md`, `PosEnc`).
//!
//! - [`PosEnc::Sinusoidal`]: [`sinusoid`] is added to the normalised log-mel value.
//! - [`PosEnc::Coord`]: two extra input channels, [`unit_coord`] of the mel and of the frame.
//!
//! [`fill`] writes the planes for a whole `[n_mels][frames]` input.

use crate::Error;
use crate::format::PosEnc;

/// `2 i / (n - 1) - 1` in f64 then f32 (0 for `n <= 1`), as the trainer's coordinate channels.
pub fn unit_coord(i: usize, n: usize) -> f32 {
    if n <= 1 {
        0.0
    } else {
        (2.0 * i as f64 / (n - 1) as f64 - 1.0) as f32
    }
}

/// The trainer's sinusoidal plane: `sin(t / 10000^(2 floor(m/2) / n_mels))` for even `m`,
/// `cos` for odd `m`, in f64 then f32 (feature `posenc-sinusoidal`).
#[cfg(feature = "posenc-sinusoidal")]
pub fn sinusoid(m: usize, t: usize, n_mels: usize) -> f32 {
    let exponent = (2 * (m / 2)) as f64 / n_mels as f64;
    let angle = t as f64 / libm::pow(10000.0, exponent);
    (if m.is_multiple_of(2) {
        libm::sin(angle)
    } else {
        libm::cos(angle)
    }) as f32
}

/// Whether this build computes `posenc` (the sinusoidal one needs the `posenc-sinusoidal`
/// feature).
pub fn supported(posenc: PosEnc) -> bool {
    cfg!(feature = "posenc-sinusoidal") || posenc != PosEnc::Sinusoidal
}

/// Fills the positional-encoding planes of a `[n_mels][frames]` input (mel-major, f32) into
/// `out` and returns how many values it wrote:
/// - [`PosEnc::None`]: nothing (0);
/// - [`PosEnc::Sinusoidal`]: one plane, `out[m * frames + t] = sinusoid(m, t, n_mels)`, to be
///   added to the normalised log-mel;
/// - [`PosEnc::Coord`]: two planes, the mel coordinate `out[m * frames + t] = unit_coord(m,
///   n_mels)` then the frame coordinate `out[n + m * frames + t] = unit_coord(t, frames)` (`n =
///   n_mels * frames`), the input's channels 1 and 2.
///
/// # Errors
/// [`Error::OutputTooSmall`] if `out` holds fewer values than that,
/// [`Error::ModelPosEncUnsupported`] for the sinusoidal plane without the
/// `posenc-sinusoidal` feature.
pub fn fill(posenc: PosEnc, n_mels: usize, frames: usize, out: &mut [f32]) -> Result<usize, Error> {
    let n = n_mels * frames;
    if !supported(posenc) {
        return Err(Error::ModelPosEncUnsupported);
    }
    let planes = match posenc {
        PosEnc::None => 0,
        PosEnc::Sinusoidal => 1,
        PosEnc::Coord => 2,
    };
    let Some(out) = out.get_mut(..planes * n) else {
        return Err(Error::OutputTooSmall);
    };
    let (first, second) = out.split_at_mut(n.min(planes * n));
    for (i, v) in first.iter_mut().enumerate() {
        let m = i / frames.max(1);
        *v = match posenc {
            #[cfg(feature = "posenc-sinusoidal")]
            PosEnc::Sinusoidal => sinusoid(m, i % frames.max(1), n_mels),
            _ => unit_coord(m, n_mels),
        };
    }
    for (i, v) in second.iter_mut().enumerate() {
        *v = unit_coord(i % frames.max(1), frames);
    }
    Ok(planes * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definitions, evaluated independently in f64.
    #[test]
    fn fill_matches_the_definitions() {
        let (n_mels, frames) = (6, 5);
        let mut out = [0.0f32; 60];
        assert_eq!(fill(PosEnc::None, n_mels, frames, &mut out), Ok(0));
        assert_eq!(fill(PosEnc::Sinusoidal, n_mels, frames, &mut out), Ok(30));
        for m in 0..n_mels {
            for t in 0..frames {
                let angle = t as f64 / 10000f64.powf((2 * (m / 2)) as f64 / n_mels as f64);
                let want = if m % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
                assert_eq!(out[m * frames + t], want, "{m} {t}");
            }
        }
        assert_eq!(fill(PosEnc::Coord, n_mels, frames, &mut out), Ok(60));
        assert_eq!(out[0], -1.0);
        assert_eq!(out[5 * frames + 4], 1.0);
        assert_eq!(out[30], -1.0);
        assert_eq!(out[30 + 2], 0.0);
        assert_eq!(out[59], 1.0);
        assert_eq!(
            fill(PosEnc::Coord, n_mels, frames, &mut out[..59]),
            Err(Error::OutputTooSmall)
        );
    }
}
