//! Cutting a track's waveform into fixed-length segments.
//!
//! Segments are `seconds` long and start every `hop_seconds` (default 3 s / 3 s:
//! non-overlapping 3 s segments, the study's). A tail shorter than one segment is
//! dropped; a track shorter than one segment is zero-padded to one segment (the
//! caller is told, to warn). In whole-track mode the one segment is the whole track
//! (used by the Won et al. model, which random-crops 29 s itself).

/// How tracks are cut into segments.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentConfig {
    /// Segment length in seconds.
    pub seconds: f32,
    /// Distance between segment starts in seconds.
    pub hop_seconds: f32,
    /// One segment per track holding the whole track (`seconds`/`hop_seconds` unused).
    #[serde(default)]
    pub whole_track: bool,
}

impl Default for SegmentConfig {
    /// Non-overlapping 3 s segments.
    fn default() -> Self {
        SegmentConfig {
            seconds: 3.0,
            hop_seconds: 3.0,
            whole_track: false,
        }
    }
}

/// A segmentation that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid segmentation: {0}")]
pub struct SegmentError(pub String);

/// The segments of one track.
#[derive(Debug, Clone, PartialEq)]
pub struct Segments {
    /// The segments' samples (all the same length, except in whole-track mode).
    pub segments: Vec<Vec<f32>>,
    /// True when the track was shorter than one segment and was zero-padded.
    pub padded: bool,
}

impl SegmentConfig {
    /// Whole-track mode.
    pub fn whole_track() -> Self {
        SegmentConfig {
            whole_track: true,
            ..SegmentConfig::default()
        }
    }

    /// Segment length and hop in samples at `sample_rate` (rounded to the nearest
    /// sample); `None` in whole-track mode.
    pub fn lengths(&self, sample_rate: u32) -> Result<Option<(usize, usize)>, SegmentError> {
        if self.whole_track {
            return Ok(None);
        }
        let len = (f64::from(self.seconds) * f64::from(sample_rate)).round();
        let hop = (f64::from(self.hop_seconds) * f64::from(sample_rate)).round();
        if !(len >= 1.0 && hop >= 1.0) {
            return Err(SegmentError(format!(
                "segment length {} s and hop {} s must give at least one sample at {sample_rate} Hz",
                self.seconds, self.hop_seconds
            )));
        }
        Ok(Some((len as usize, hop as usize)))
    }

    /// Start offsets (in samples) of the segments of a track of `n` samples; a
    /// track shorter than one segment has the single start 0 (to be padded).
    pub fn starts(&self, n: usize, sample_rate: u32) -> Result<Vec<usize>, SegmentError> {
        match self.lengths(sample_rate)? {
            None => Ok(vec![0]),
            Some((len, _)) if n < len => Ok(vec![0]),
            Some((len, hop)) => Ok((0..=(n - len) / hop).map(|i| i * hop).collect()),
        }
    }

    /// Cuts `samples` into segments (see the module docs).
    pub fn cut(&self, samples: &[f32], sample_rate: u32) -> Result<Segments, SegmentError> {
        let Some((len, _)) = self.lengths(sample_rate)? else {
            return Ok(Segments {
                segments: vec![samples.to_vec()],
                padded: false,
            });
        };
        if samples.len() < len {
            let mut seg = samples.to_vec();
            seg.resize(len, 0.0);
            return Ok(Segments {
                segments: vec![seg],
                padded: true,
            });
        }
        let segments = self
            .starts(samples.len(), sample_rate)?
            .into_iter()
            .map(|s| samples[s..s + len].to_vec())
            .collect();
        Ok(Segments {
            segments,
            padded: false,
        })
    }

    /// A string that identifies this segmentation in cache keys.
    pub fn key(&self) -> String {
        if self.whole_track {
            "whole".to_string()
        } else {
            format!("seg{:?}/hop{:?}", self.seconds, self.hop_seconds)
        }
    }
}
