//! Positional encodings for the baseline CNN (`--posenc coord|sinusoidal`).
//!
//! Both are fixed (not learned) functions of the input shape, so the exporter and the
//! microcontroller can rebuild them from `(n_mels, frames)` alone.
//!
//! - **coord** (CoordConv, Liu et al. 2018): two extra input channels holding the normalised
//!   mel-bin index and frame index, each mapped linearly to **[-1, 1]**:
//!   `mel[m, t] = 2 m / (n_mels - 1) - 1`, `frame[m, t] = 2 t / (frames - 1) - 1`
//!   (a dimension of size 1 gives 0). The channel order is `[log-mel, mel, frame]`.
//! - **sinusoidal** (Vaswani et al. 2017, laid over the spectrogram plane): a fixed
//!   `[n_mels, frames]` plane *added* to the normalised log-mel, with the mel bin in the role of
//!   the embedding dimension and the frame in the role of the position:
//!   `pe[m, t] = sin(t / 10000^(2 floor(m/2) / n_mels))` for even `m`, `cos(...)` for odd `m`.
//!   Every (mel, frame) cell therefore sees a distinct pattern. Values lie in [-1, 1], the scale of
//!   the normalised input.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which positional encoding the baseline uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PosEnc {
    /// None: the study's baseline.
    #[default]
    None,
    /// Two extra coordinate channels in [-1, 1].
    Coord,
    /// A fixed sinusoidal plane added to the input.
    Sinusoidal,
}

impl PosEnc {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Coord => "coord",
            Self::Sinusoidal => "sinusoidal",
        }
    }

    /// Input channels the first convolution sees (1, or 3 with coordinate channels).
    pub fn in_channels(self) -> usize {
        match self {
            Self::Coord => 3,
            Self::None | Self::Sinusoidal => 1,
        }
    }
}

impl fmt::Display for PosEnc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PosEnc {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "none" => Ok(Self::None),
            "coord" => Ok(Self::Coord),
            "sinusoidal" => Ok(Self::Sinusoidal),
            _ => anyhow::bail!(
                "unknown positional encoding {s:?}: expected none, coord or sinusoidal"
            ),
        }
    }
}

/// The two coordinate channels, `[2, n_mels, frames]` row-major: channel 0 is the mel index,
/// channel 1 the frame index, both in [-1, 1]. Each value is infer-core's
/// [`unit_coord`](infer_core::posenc::unit_coord), so training sees bit for bit what the device
/// computes.
pub fn coord_planes(n_mels: usize, frames: usize) -> Vec<f32> {
    use infer_core::posenc::unit_coord;
    let mut out = Vec::with_capacity(2 * n_mels * frames);
    for m in 0..n_mels {
        out.extend(std::iter::repeat_n(unit_coord(m, n_mels), frames));
    }
    for _ in 0..n_mels {
        out.extend((0..frames).map(|t| unit_coord(t, frames)));
    }
    out
}

/// The sinusoidal plane `[n_mels, frames]` row-major (see the module docs for the formula): each
/// value is infer-core's [`sinusoid`](infer_core::posenc::sinusoid), so training sees bit for
/// bit what the device computes.
pub fn sinusoidal_plane(n_mels: usize, frames: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n_mels * frames);
    for m in 0..n_mels {
        out.extend((0..frames).map(|t| infer_core::posenc::sinusoid(m, t, n_mels)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coord_corners_are_minus_one_and_one() {
        let (m, t) = (4, 5);
        let p = coord_planes(m, t);
        assert_eq!(p.len(), 2 * m * t);
        // mel channel: first row -1, last row +1, constant along frames
        assert_eq!(p[0], -1.0);
        assert_eq!(p[(m - 1) * t + 2], 1.0);
        assert_eq!(p[t + 1], -1.0 / 3.0);
        // frame channel: first column -1, last +1, middle 0 (5 frames)
        let f = &p[m * t..];
        assert_eq!((f[0], f[2], f[4]), (-1.0, 0.0, 1.0));
        assert_eq!(f[3 * t + 4], 1.0);
    }

    #[test]
    fn sinusoidal_matches_hand_values() {
        let p = sinusoidal_plane(4, 3);
        // m=0: sin(t); m=1: cos(t); m=2: sin(t/100) (10000^(2/4) = 100); m=3: cos(t/100)
        let want = [
            0.0,
            1f64.sin(),
            2f64.sin(),
            1.0,
            1f64.cos(),
            2f64.cos(),
            0.0,
            0.01f64.sin(),
            0.02f64.sin(),
            1.0,
            0.01f64.cos(),
            0.02f64.cos(),
        ];
        for (a, b) in p.iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-7, "{a} vs {b}");
        }
    }
}
