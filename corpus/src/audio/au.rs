//! The Sun / NeXT `.au` header: 24 big-endian bytes (magic `.snd`, data offset, data size,
//! encoding, sample rate, channels), then an annotation up to the data offset.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::AudioError;
use super::header::{Header, Sample, check_rate_channels};
use super::limits::Limits;
use super::wav::shown;

fn bad(path: &Path, reason: impl Into<String>) -> AudioError {
    AudioError::Au {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The sample encoding of `.au` encoding number `code`, or its name when it is not decoded.
fn sample_of(code: u32) -> Result<Sample, String> {
    let int = |bytes| Sample::Int {
        bytes,
        big_endian: true,
    };
    Ok(match code {
        2 => Sample::I8,
        3 => int(2),
        4 => int(3),
        5 => int(4),
        6 => Sample::F32 { big_endian: true },
        1 => return Err("mu-law (encoding 1)".into()),
        7 => return Err("IEEE float, 64 bits (encoding 7)".into()),
        23..=26 => return Err(format!("G.72x ADPCM (encoding {code})")),
        27 => return Err("A-law (encoding 27)".into()),
        other => return Err(format!("encoding {other}")),
    })
}

/// Reads the 24-byte header of a `.au` file of `file_len` bytes from `r` and checks it against
/// `limits`. A data size of `0xffffffff` means "to the end of the file".
pub(crate) fn header<R: Read + Seek>(
    r: &mut R,
    path: &Path,
    file_len: u64,
    limits: &Limits,
) -> Result<Header, AudioError> {
    if file_len < 24 {
        return Err(bad(
            path,
            format!("the file is {file_len} bytes, shorter than the 24-byte header"),
        ));
    }
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut h = [0u8; 24];
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    r.read_exact(&mut h).map_err(io)?;
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    match &h[0..4] {
        b".snd" => {}
        b"dns." => {
            return Err(AudioError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: "Sun .au little-endian (magic dns.)".into(),
            });
        }
        other => {
            return Err(bad(
                path,
                format!("no .snd magic (the file starts with \"{}\")", shown(other)),
            ));
        }
    }
    let offset = u64::from(word(4));
    let size = word(8);
    let sample = sample_of(word(12)).map_err(|e| AudioError::UnsupportedFormat {
        path: path.to_path_buf(),
        format: format!("Sun .au {e}"),
    })?;
    let channels = check_rate_channels(path, word(16), word(20), limits)?;
    if offset < 24 {
        return Err(bad(
            path,
            format!("data offset {offset} is inside the 24-byte header"),
        ));
    }
    if offset > file_len {
        return Err(bad(
            path,
            format!("data offset {offset} is past the end of the file ({file_len} bytes)"),
        ));
    }
    Ok(Header {
        sample_rate: word(16),
        channels,
        sample,
        frame_bytes: sample.bytes() * u64::from(channels),
        data_offset: offset,
        promised_bytes: (size != u32::MAX).then_some(u64::from(size)),
    })
}
