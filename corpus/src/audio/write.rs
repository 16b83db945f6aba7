//! The one WAV writer: mono 16-bit PCM or 32-bit float, encoded in memory with hound and written
//! atomically.

use std::io::Cursor;
use std::path::Path;

use super::error::AudioError;

/// The samples of a mono WAV file to write.
#[derive(Debug, Clone, Copy)]
pub enum WavData<'a> {
    /// 16-bit PCM.
    Pcm16(&'a [i16]),
    /// 32-bit IEEE float.
    Float32(&'a [f32]),
}

/// 16-bit PCM of `samples` by the inverse of the reader's scaling (`round(x * 32768)`, clipped to
/// the i16 range), so that a 16-bit file reads back within half a step of `samples`.
pub fn to_pcm16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Writes a mono WAV file at `sample_rate` atomically (encoded in memory, then
/// [`write_atomic`](crate::fsio::write_atomic)): never half-written.
///
/// # Errors
/// [`AudioError::Write`] or [`AudioError::Io`], naming `path`.
pub fn write_wav_mono(path: &Path, data: WavData<'_>, sample_rate: u32) -> Result<(), AudioError> {
    let err = |e: hound::Error| AudioError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (bits, format, n) = match data {
        WavData::Pcm16(s) => (16, hound::SampleFormat::Int, s.len()),
        WavData::Float32(s) => (32, hound::SampleFormat::Float, s.len()),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut buf = Cursor::new(Vec::with_capacity(44 + n * usize::from(bits / 8)));
    {
        let mut w = hound::WavWriter::new(&mut buf, spec).map_err(err)?;
        match data {
            WavData::Pcm16(s) => {
                let mut w16 = w.get_i16_writer(n as u32);
                for &x in s {
                    w16.write_sample(x);
                }
                w16.flush().map_err(err)?;
            }
            WavData::Float32(s) => {
                for &x in s {
                    w.write_sample(x).map_err(err)?;
                }
            }
        }
        w.finalize().map_err(err)?;
    }
    crate::fsio::write_atomic(path, buf.get_ref()).map_err(|e| AudioError::Io {
        path: e.path,
        source: e.source,
    })
}
