//! Per-track features of the classic baseline: the mean and the standard
//! deviation over frames of each MFCC (librosa-style MFCCs, see
//! [`super::mfcc`]), i.e. `2 * n_mfcc` numbers per track (40 for 20 MFCCs).

use infer_core::config::FrontendConfig;

use super::ClassicError;
use super::mfcc::{self, LIBROSA_TOP_DB, N_MFCC};

/// Mean and standard deviation over frames of each MFCC of one track.
///
/// `std` is the population standard deviation (divides by the number of
/// frames, NumPy's `np.std` default).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFeatures {
    /// Per-coefficient mean over frames, `[n_mfcc]`.
    pub mean: Vec<f32>,
    /// Per-coefficient standard deviation over frames, `[n_mfcc]`.
    pub std: Vec<f32>,
}

impl TrackFeatures {
    /// The statistics of an MFCC matrix `[n_mfcc, frames]` (`c[k * frames + t]`).
    ///
    /// # Errors
    /// [`ClassicError::LogMelShape`] when `mfcc` is empty or not a multiple of
    /// `n_mfcc` long (the same shape rule as a log-mel buffer).
    pub fn from_mfcc(mfcc: &[f32], n_mfcc: usize) -> Result<TrackFeatures, ClassicError> {
        let frames = mfcc::check_log_mel(mfcc, n_mfcc)?;
        let mut mean = Vec::with_capacity(n_mfcc);
        let mut std = Vec::with_capacity(n_mfcc);
        for row in mfcc.chunks_exact(frames) {
            let n = frames as f64;
            let mu = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mu).powi(2))
                .sum::<f64>()
                / n;
            mean.push(mu as f32);
            std.push(var.sqrt() as f32);
        }
        Ok(TrackFeatures { mean, std })
    }

    /// Features of a whole track's samples (at `cfg.sample_rate`): the front end
    /// `cfg` (normally [`FrontendConfig::DEFAULT`]), [`N_MFCC`] MFCCs with
    /// librosa's 80 dB floor, then [`TrackFeatures::from_mfcc`]. This is
    /// `librosa.feature.mfcc(y, sr=22050, n_mfcc=20)` followed by `mean(axis=1)`
    /// and `std(axis=1)`.
    ///
    /// # Errors
    /// Those of [`mfcc::mfcc`].
    pub fn from_samples(
        cfg: &FrontendConfig,
        samples: &[f32],
    ) -> Result<TrackFeatures, ClassicError> {
        let (_, c) = mfcc::mfcc(cfg, samples, N_MFCC, Some(LIBROSA_TOP_DB))?;
        TrackFeatures::from_mfcc(&c, N_MFCC)
    }

    /// Features of a track given as log-mel segments, each mel-major
    /// `[n_mels, frames_i]` (the trainer's feature cache stores 128 x 130
    /// segments). The 80 dB floor is taken from the maximum over all segments
    /// (as over a whole-track spectrogram), and the statistics run over the
    /// concatenation of all segments' frames.
    ///
    /// For contiguous, non-overlapping segments this equals
    /// [`TrackFeatures::from_samples`] up to the frames at segment edges (each
    /// segment is centred and zero-padded on its own) and any trailing samples
    /// that fill no segment.
    ///
    /// # Errors
    /// [`ClassicError::NoSegments`] for an empty list; those of
    /// [`mfcc::mfcc_from_log_mel`] for a bad segment.
    pub fn from_log_mel_segments(
        segments: &[&[f32]],
        n_mels: usize,
    ) -> Result<TrackFeatures, ClassicError> {
        if segments.is_empty() {
            return Err(ClassicError::NoSegments);
        }
        let mut frames = Vec::with_capacity(segments.len());
        for s in segments {
            frames.push(mfcc::check_log_mel(s, n_mels)?);
        }
        let floor = mfcc::db_floor(segments.iter().copied(), Some(LIBROSA_TOP_DB))?;
        let total: usize = frames.iter().sum();
        // Concatenate each segment's MFCCs along the frame axis: [N_MFCC, total].
        let mut all = vec![0f32; N_MFCC * total];
        let mut offset = 0;
        for (s, &f) in segments.iter().zip(&frames) {
            let c = mfcc::mfcc_floored(s, n_mels, f, N_MFCC, floor)?;
            for (k, row) in c.chunks_exact(f).enumerate() {
                all[k * total + offset..k * total + offset + f].copy_from_slice(row);
            }
            offset += f;
        }
        TrackFeatures::from_mfcc(&all, N_MFCC)
    }

    /// The feature vector `[mean_0 .. mean_{n-1}, std_0 .. std_{n-1}]` (40 values
    /// for 20 MFCCs), the layout [`super::Classifier`] and [`super::evaluate`] take.
    pub fn to_vec(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(self.mean.len() + self.std.len());
        v.extend_from_slice(&self.mean);
        v.extend_from_slice(&self.std);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand calculation: rows [1, 2, 3, 4] and [5, 5, 5, 5].
    #[test]
    fn mean_and_population_std_by_hand() {
        let f = TrackFeatures::from_mfcc(&[1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0], 2).unwrap();
        assert_eq!(f.mean, vec![2.5, 5.0]);
        // population variance of 1..4 = 1.25
        assert!((f.std[0] - 1.25f32.sqrt()).abs() < 1e-6);
        assert_eq!(f.std[1], 0.0);
        assert_eq!(f.to_vec(), vec![2.5, 5.0, f.std[0], 0.0]);
    }

    /// Splitting a log-mel spectrogram into frame blocks and passing them as
    /// segments gives the whole-spectrogram statistics (same floor, same frames).
    #[test]
    fn segments_equal_the_whole_when_split_on_frames() {
        let n_mels = 24;
        let frames = 10;
        // Deterministic values with a wide range so the 80 dB floor engages.
        let whole: Vec<f32> = (0..n_mels * frames)
            .map(|i| -((i * 37 % 101) as f32) * 1.5)
            .collect();
        let c = mfcc::mfcc_from_log_mel(&whole, n_mels, N_MFCC, Some(LIBROSA_TOP_DB)).unwrap();
        let want = TrackFeatures::from_mfcc(&c, N_MFCC).unwrap();
        // Split frames 0..4 and 4..10.
        let split = |a: usize, b: usize| -> Vec<f32> {
            (0..n_mels)
                .flat_map(|m| whole[m * frames + a..m * frames + b].to_vec())
                .collect()
        };
        let (s1, s2) = (split(0, 4), split(4, 10));
        let got = TrackFeatures::from_log_mel_segments(&[&s1, &s2], n_mels).unwrap();
        for (g, w) in got.to_vec().iter().zip(want.to_vec()) {
            assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{g} vs {w}");
        }
        assert!(matches!(
            TrackFeatures::from_log_mel_segments(&[], n_mels),
            Err(ClassicError::NoSegments)
        ));
    }
}
