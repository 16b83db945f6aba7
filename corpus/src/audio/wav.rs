//! The RIFF WAVE header: chunks walked with bounds checked against the file's length, the `fmt `
//! chunk (PCM, IEEE float, `WAVE_FORMAT_EXTENSIBLE`) and where the `data` chunk lies. Samples are
//! decoded by [`Header::read_mono`](super::header::Header::read_mono).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::AudioError;
use super::header::{Header, Sample, check_rate_channels};
use super::limits::Limits;

/// Bytes of a `fmt ` chunk this reader looks at (the extensible form's 40).
const FMT_READ: usize = 40;

/// The GUID tail of `KSDATAFORMAT_SUBTYPE_*` (`xxxxxxxx-0000-0010-8000-00aa00389b71`); the
/// first two bytes of the sub-format are the format tag.
const SUBTYPE_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

fn bad(path: &Path, reason: impl Into<String>) -> AudioError {
    AudioError::Wav {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn unsupported(path: &Path, format: impl Into<String>) -> AudioError {
    AudioError::UnsupportedFormat {
        path: path.to_path_buf(),
        format: format!("WAV {}", format.into()),
    }
}

/// `bytes` as text for a message: printable ASCII kept, the rest escaped.
pub(crate) fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// The name of a WAV format tag this reader does not decode.
fn tag_name(tag: u16) -> String {
    match tag {
        0x0002 => "Microsoft ADPCM".into(),
        0x0006 => "A-law".into(),
        0x0007 => "mu-law".into(),
        0x0011 => "IMA ADPCM".into(),
        0x0031 => "GSM 6.10".into(),
        0x0050 => "MPEG".into(),
        0x0055 => "MPEG layer 3 (MP3)".into(),
        0x0000 => "format tag 0 (unknown)".into(),
        t => format!("format tag 0x{t:04x}"),
    }
}

/// The fields of a `fmt ` chunk this reader uses.
struct Fmt {
    tag: u16,
    channels: u16,
    rate: u32,
    block_align: u16,
    bits: u16,
}

fn parse_fmt(path: &Path, b: &[u8]) -> Result<Fmt, AudioError> {
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let mut fmt = Fmt {
        tag: u16_at(0),
        channels: u16_at(2),
        rate: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        block_align: u16_at(12),
        bits: u16_at(14),
    };
    if fmt.tag == 0xfffe {
        if b.len() < FMT_READ {
            return Err(bad(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk of {} bytes (needs 40)",
                    b.len()
                ),
            ));
        }
        if b[24 + 2..40] != SUBTYPE_TAIL {
            return Err(unsupported(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE with sub-format GUID {}",
                    shown(&b[24..40])
                ),
            ));
        }
        fmt.tag = u16_at(24);
    }
    Ok(fmt)
}

/// The sample encoding of `fmt`, or why it is not decoded.
fn sample_of(path: &Path, fmt: &Fmt) -> Result<(Sample, u64), AudioError> {
    let channels = u64::from(fmt.channels);
    let block = u64::from(fmt.block_align);
    if block == 0 || !block.is_multiple_of(channels) {
        return Err(bad(
            path,
            format!(
                "block align {block} is not a whole number of bytes per sample for {channels} channels"
            ),
        ));
    }
    let width = block / channels;
    let bits = u64::from(fmt.bits);
    if bits == 0 || bits > 8 * width {
        return Err(bad(
            path,
            format!("{bits} bits per sample do not fit {width}-byte samples"),
        ));
    }
    let sample = match (fmt.tag, width) {
        (1, 1) => Sample::U8,
        (1, 2..=4) => Sample::Int {
            bytes: width as u8,
            big_endian: false,
        },
        (1, _) => return Err(unsupported(path, format!("PCM, {bits} bits"))),
        (3, 4) if bits == 32 => Sample::F32 { big_endian: false },
        (3, _) => return Err(unsupported(path, format!("IEEE float, {bits} bits"))),
        (tag, _) => return Err(unsupported(path, tag_name(tag))),
    };
    Ok((sample, block))
}

/// Reads the header of a WAV file of `file_len` bytes from `r`: only the RIFF header and chunk
/// headers, and at most 40 bytes of the `fmt ` chunk, are read; rate and channels are checked
/// against `limits` as soon as they are known.
pub(crate) fn header<R: Read + Seek>(
    r: &mut R,
    path: &Path,
    file_len: u64,
    limits: &Limits,
) -> Result<Header, AudioError> {
    let io = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    if file_len < 12 {
        return Err(bad(
            path,
            format!("the file is {file_len} bytes, shorter than the 12-byte RIFF header"),
        ));
    }
    let mut riff = [0u8; 12];
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    r.read_exact(&mut riff).map_err(io)?;
    match (&riff[0..4], &riff[8..12]) {
        (b"RIFF", b"WAVE") => {}
        (b"RF64", _) => return Err(unsupported(path, "RF64 (the 64-bit WAV form)")),
        (b"RIFX", _) => return Err(unsupported(path, "RIFX (big-endian WAV)")),
        _ => {
            return Err(bad(
                path,
                format!(
                    "no RIFF/WAVE magic (the file starts with \"{}\")",
                    shown(&riff)
                ),
            ));
        }
    }
    let mut fmt = None;
    let mut data = None;
    let mut pos = 12u64;
    while pos + 8 <= file_len && (fmt.is_none() || data.is_none()) {
        let mut head = [0u8; 8];
        r.seek(SeekFrom::Start(pos)).map_err(io)?;
        r.read_exact(&mut head).map_err(io)?;
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let body = pos + 8;
        match &head[0..4] {
            b"fmt " if fmt.is_none() => {
                if size < 16 {
                    return Err(bad(
                        path,
                        format!("fmt chunk of {size} bytes (at least 16 needed)"),
                    ));
                }
                let n = size.min(FMT_READ as u64);
                if body + n > file_len {
                    return Err(bad(
                        path,
                        format!(
                            "the fmt chunk at byte {pos} runs past the end of the file ({file_len} bytes)"
                        ),
                    ));
                }
                let mut b = vec![0u8; n as usize];
                r.read_exact(&mut b).map_err(io)?;
                fmt = Some(parse_fmt(path, &b)?);
            }
            b"data" if data.is_none() => data = Some((body, size)),
            _ => {}
        }
        // chunks are padded to an even length
        pos = body + size + (size & 1);
    }
    let fmt = fmt.ok_or_else(|| bad(path, "no fmt chunk"))?;
    let (sample, frame_bytes) = {
        // the encoding first (a float64 file is named as such whatever its rate), then the
        // limits, then the layout that depends on the channel count
        if !matches!(fmt.tag, 1 | 3) {
            return Err(unsupported(path, tag_name(fmt.tag)));
        }
        if fmt.tag == 3 && fmt.bits != 32 {
            return Err(unsupported(path, format!("IEEE float, {} bits", fmt.bits)));
        }
        check_rate_channels(path, fmt.rate, u32::from(fmt.channels), limits)?;
        sample_of(path, &fmt)?
    };
    let (data_offset, size) = data.ok_or_else(|| bad(path, "no data chunk"))?;
    Ok(Header {
        sample_rate: fmt.rate,
        channels: fmt.channels,
        sample,
        frame_bytes,
        data_offset,
        // 0xffffffff: written by a streaming writer that never came back to fill it in
        promised_bytes: (size != u64::from(u32::MAX)).then_some(size),
    })
}
