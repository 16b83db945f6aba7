//! Every kind of bad input is a typed error naming the file and the problem; good files decode
//! as before (hound wrote them). Files are built byte by byte here.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;

/// A canonical 44-byte-header WAV: `tag`, `channels`, `rate`, `bits`, `block_align`, the data
/// size the header gives, and the data bytes actually present.
fn wav(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    block: u16,
    size: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&size.wrapping_add(36).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    b.extend_from_slice(&block.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// 16-bit mono PCM at `rate` with `frames` frames promised and `held` present.
fn wav16(rate: u32, frames: u32, held: u32) -> Vec<u8> {
    wav(
        1,
        1,
        rate,
        16,
        2,
        frames * 2,
        &vec![0x11; held as usize * 2],
    )
}

/// A `.au` file: 24-byte header with data offset 24, then `data`.
fn au(encoding: u32, rate: u32, channels: u32, size: u32, data: &[u8]) -> Vec<u8> {
    let mut b = b".snd".to_vec();
    for w in [24, size, encoding, rate, channels] {
        b.extend_from_slice(&w.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

struct Tmp(tempfile::TempDir);

impl Tmp {
    fn new() -> Tmp {
        Tmp(tempfile::tempdir().unwrap())
    }
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// `decode` and `probe` of `path` both fail; the decode error's message names the file and
/// contains every one of `words`.
fn fails(path: &Path, words: &[&str]) -> AudioError {
    let limits = Limits::default();
    let e = decode(path, &limits).unwrap_err();
    let p = probe_with(path, &limits).unwrap_err();
    assert_eq!(p.to_string(), e.to_string());
    let msg = e.to_string();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "{msg}");
    for w in words {
        assert!(msg.contains(w), "{msg:?} lacks {w:?}");
    }
    e
}

#[test]
fn good_files_decode() {
    let t = Tmp::new();
    // 16-bit stereo WAV: (16384, -8192) -> 0.125
    let pcm: Vec<u8> = [16384i16, -8192, 32767, 32767]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let p = t.file("st.wav", &wav(1, 2, 22050, 16, 4, 8, &pcm));
    let d = decode(&p, &Limits::default()).unwrap();
    assert_eq!(d.samples, vec![0.125, 32767.0 / 32768.0]);
    assert_eq!((d.sample_rate, d.warnings.len()), (22050, 0));
    // 24-bit in WAVE_FORMAT_EXTENSIBLE
    let mut x = wav(0xfffe, 1, 8000, 24, 3, 3, &[0, 0, 0x40]);
    x[16..20].copy_from_slice(&40u32.to_le_bytes());
    let mut ext = 22u16.to_le_bytes().to_vec(); // cbSize
    ext.extend_from_slice(&24u16.to_le_bytes()); // valid bits
    ext.extend_from_slice(&4u32.to_le_bytes()); // channel mask
    ext.extend_from_slice(&1u16.to_le_bytes()); // PCM
    ext.extend_from_slice(&header_tail());
    x.splice(36..36, ext);
    x[20..22].copy_from_slice(&1u16.to_le_bytes());
    let p = t.file("ext.wav", &x);
    assert_eq!(decode(&p, &Limits::default()).unwrap().samples, vec![0.5]);
    // .au with unknown size: to the end of the file
    let p = t.file("a.au", &au(3, 22050, 1, u32::MAX, &[0x40, 0, 0xc0, 0]));
    assert_eq!(
        decode(&p, &Limits::default()).unwrap().samples,
        vec![0.5, -0.5]
    );
}

fn header_tail() -> [u8; 14] {
    [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]
}

#[test]
fn truncated_wav_says_what_was_promised_and_what_is_there() {
    let t = Tmp::new();
    // header: 30 s at 8 kHz; file: 10 s
    let p = t.file("cut.wav", &wav16(8000, 240_000, 80_000));
    let e = fails(
        &p,
        &["truncated", "480000 bytes", "30.00 s", "160000", "10.00 s"],
    );
    assert!(matches!(
        e,
        AudioError::Truncated {
            promised_bytes: 480_000,
            held_bytes: 160_000,
            ..
        }
    ));
}

#[test]
fn lying_wav_data_size_past_the_file_is_truncated() {
    let t = Tmp::new();
    // a data size of 2^31 bytes over 100 frames
    let p = t.file("lie.wav", &wav(1, 1, 22050, 16, 2, 1 << 31, &[0; 200]));
    let e = fails(&p, &["truncated", "2147483648 bytes", "the file holds 200"]);
    assert!(matches!(e, AudioError::Truncated { .. }), "{e}");
}

#[test]
fn slightly_short_file_is_decoded_with_a_named_warning() {
    let t = Tmp::new();
    // 1000 frames promised, 995 held (0.5 % short)
    let p = t.file("short.au", &au(3, 8000, 1, 2000, &[0; 1990]));
    let d = decode(&p, &Limits::default()).unwrap();
    assert_eq!(d.samples.len(), 995);
    assert!(matches!(
        d.warnings[..],
        [DecodeWarning::Truncated {
            promised_bytes: 2000,
            held_bytes: 1990,
            ..
        }]
    ));
    assert!(
        d.warnings[0].to_string().contains("using the 0.12 s there"),
        "{}",
        d.warnings[0]
    );
    assert_eq!(probe(&p).unwrap().frames, 995);
    // a data size that is not a whole number of frames
    let p = t.file("odd.wav", &wav(1, 1, 8000, 16, 2, 5, &[0; 5]));
    let d = decode(&p, &Limits::default()).unwrap();
    assert_eq!(
        (d.samples.len(), &d.warnings[..]),
        (2, &[DecodeWarning::PartialFrame { bytes: 1 }][..])
    );
}

#[test]
fn truncated_au_is_an_error() {
    let t = Tmp::new();
    // header: 30 s of 16-bit mono at 22050 Hz; file: 10 s
    let p = t.file("cut.au", &au(3, 22050, 1, 1_323_000, &vec![0; 441_000]));
    let e = fails(
        &p,
        &["truncated", "1323000 bytes", "30.00 s", "441000", "10.00 s"],
    );
    assert!(matches!(e, AudioError::Truncated { .. }), "{e}");
}

#[test]
fn empty_and_short_au_files_are_errors() {
    let t = Tmp::new();
    let p = t.file("zero.au", b"");
    let e = fails(&p, &["0 bytes", "24-byte header"]);
    assert!(matches!(e, AudioError::Au { .. }), "{e}");
    let p = t.file("head.au", &au(3, 22050, 1, 0, &[]));
    assert!(matches!(
        fails(&p, &["no audio samples"]),
        AudioError::Empty { .. }
    ));
}

#[test]
fn float64_and_other_encodings_are_named() {
    let t = Tmp::new();
    let p = t.file("f64.wav", &wav(3, 1, 22050, 64, 8, 16, &[0; 16]));
    let e = fails(&p, &["IEEE float, 64 bits"]);
    assert!(matches!(e, AudioError::UnsupportedFormat { .. }), "{e}");
    let p = t.file("alaw.wav", &wav(6, 1, 8000, 8, 1, 4, &[0; 4]));
    fails(&p, &["A-law"]);
    let p = t.file("mp3.wav", &wav(0x55, 1, 8000, 0, 1, 4, &[0; 4]));
    fails(&p, &["MP3"]);
    let p = t.file("f64.au", &au(7, 22050, 1, 8, &[0; 8]));
    fails(&p, &["IEEE float, 64 bits"]);
    let p = t.file("alaw.au", &au(27, 8000, 1, 4, &[0; 4]));
    fails(&p, &["A-law"]);
    let p = t.file("mu.au", &au(1, 8000, 1, 4, &[0; 4]));
    fails(&p, &["mu-law"]);
}

#[test]
fn a_one_hertz_header_is_refused_before_any_allocation() {
    let t = Tmp::new();
    // 2^31 frames at 1 Hz promised over 400 KB: resampled to 22050 Hz this wanted 35 GB
    let mut b = wav(1, 1, 1, 16, 2, u32::MAX - 1, &[]);
    b.resize(400_000, 7);
    let p = t.file("slow.wav", &b);
    let start = Instant::now();
    let e = load_mono(&p, 22050).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            e,
            AudioError::RateOutOfRange {
                rate: 1,
                min: 8000,
                max: 192_000,
                ..
            }
        ),
        "{e}"
    );
    fails(&p, &["sample rate 1 Hz", "8000..=192000"]);
}

#[test]
fn rates_and_channel_counts_out_of_range_are_refused() {
    let t = Tmp::new();
    let p = t.file("fast.wav", &wav16(300_000, 10, 10));
    let e = fails(&p, &["300000 Hz"]);
    assert!(
        matches!(e, AudioError::RateOutOfRange { rate: 300_000, .. }),
        "{e}"
    );
    let p = t.file("fast.au", &au(3, 300_000, 1, 4, &[0; 4]));
    assert!(matches!(
        fails(&p, &["300000 Hz"]),
        AudioError::RateOutOfRange { .. }
    ));
    for (c, name) in [(0u16, "c0.wav"), (9, "c9.wav")] {
        let p = t.file(name, &wav(1, c, 22050, 16, 2 * c, 36, &[0; 36]));
        let e = fails(&p, &[&format!("{c} channels"), "1..=8"]);
        assert!(matches!(e, AudioError::ChannelsOutOfRange { .. }), "{e}");
    }
    for (c, name) in [(0u32, "c0.au"), (9, "c9.au"), (u32::MAX, "cmax.au")] {
        let p = t.file(name, &au(3, 22050, c, 36, &[0; 36]));
        let e = fails(&p, &[&format!("{c} channels")]);
        assert!(matches!(e, AudioError::ChannelsOutOfRange { .. }), "{e}");
    }
}

#[test]
fn clips_over_the_duration_limit_are_refused() {
    let t = Tmp::new();
    // 2 s at 8 kHz against a 1 s limit
    let p = t.file("long.wav", &wav16(8000, 16_000, 16_000));
    let limits = Limits::default().with_max_seconds(1.0);
    let e = decode(&p, &limits).unwrap_err();
    assert!(matches!(e, AudioError::TooLong { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("long.wav") && msg.contains("2.0 s") && msg.contains("1.0 s"),
        "{msg}"
    );
    assert!(load_mono_with(&p, 8000, &limits).is_err());
    assert_eq!(
        load_mono_with(&p, 8000, &Limits::default()).unwrap().len(),
        16_000
    );
    // the default: 10 minutes (a header of 11 minutes over a file that holds them all)
    let p = t.file(
        "eleven.au",
        &au(2, 8000, 1, 8000 * 660, &vec![0; 8000 * 660]),
    );
    assert!(matches!(
        fails(&p, &["660.0 s", "600.0 s"]),
        AudioError::TooLong { .. }
    ));
    assert_eq!(parse_max_seconds("30").unwrap(), 30.0);
    assert!(parse_max_seconds("0").is_err() && parse_max_seconds("nan").is_err());
}

#[test]
fn text_and_other_non_wav_files_are_errors() {
    let t = Tmp::new();
    let p = t.file("notes.wav", b"hello world, this is not audio\n");
    let e = fails(&p, &["no RIFF/WAVE magic", "hello world"]);
    assert!(matches!(e, AudioError::Wav { .. }), "{e}");
    let p = t.file("tiny.wav", b"RIFF");
    assert!(matches!(fails(&p, &["4 bytes"]), AudioError::Wav { .. }));
    let mut nodata = wav16(8000, 1, 1);
    nodata.truncate(36);
    let p = t.file("nodata.wav", &nodata);
    fails(&p, &["no data chunk"]);
    let p = t.file("rf64.wav", b"RF64\xff\xff\xff\xffWAVEds64");
    assert!(matches!(
        fails(&p, &["RF64"]),
        AudioError::UnsupportedFormat { .. }
    ));
    let p = t.file("text.au", b"just some text, more than 24 bytes of it");
    assert!(matches!(
        fails(&p, &["no .snd magic"]),
        AudioError::Au { .. }
    ));
    let p = t.file("clip.mp3", b"ID3");
    assert!(matches!(
        fails(&p, &["unsupported file type"]),
        AudioError::UnsupportedType { .. }
    ));
    let missing = t.0.path().join("missing.wav");
    assert!(matches!(fails(&missing, &[]), AudioError::Io { .. }));
}

#[test]
fn bytes_in_memory_decode_like_files() {
    let t = Tmp::new();
    let b = au(3, 22050, 2, 8, &[0x40, 0, 0, 0, 0xc0, 0, 0, 0]);
    let p = t.file("m.au", &b);
    let from_file = decode(&p, &Limits::default()).unwrap();
    let from_bytes = decode_bytes(AudioKind::Au, &b, &p, &Limits::default()).unwrap();
    assert_eq!(from_file, from_bytes);
    assert_eq!(from_bytes.samples, vec![0.25, -0.25]);
    assert_eq!(
        probe_bytes(AudioKind::Au, &b, &p, &Limits::default()).unwrap(),
        AudioInfo {
            sample_rate: 22050,
            channels: 2,
            frames: 2
        }
    );
}

#[test]
fn hound_written_files_read_back() {
    let t = Tmp::new();
    let p = t.0.path().join("w.wav");
    write_wav_mono(&p, WavData::Pcm16(&[16384, -32768, 1]), 16000).unwrap();
    let (y, sr) = load_mono_native(&p).unwrap();
    assert_eq!((y, sr), (vec![0.5, -1.0, 1.0 / 32768.0], 16000));
    let p = t.0.path().join("f.wav");
    write_wav_mono(&p, WavData::Float32(&[0.25, -0.75]), 44100).unwrap();
    assert_eq!(load_mono(&p, 44100).unwrap(), vec![0.25, -0.75]);
}

#[test]
fn non_finite_float_samples_are_an_error() {
    // found by fuzz/wav: a NaN in a float WAV made rubato panic while resampling
    let t = Tmp::new();
    let data: Vec<u8> = [0.5f32, f32::NAN, f32::INFINITY, 0.25]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let p = t.file("nan.wav", &wav(3, 1, 44100, 32, 4, 16, &data));
    let e = load_mono(&p, 22050).unwrap_err();
    assert!(
        matches!(
            e,
            AudioError::NonFinite {
                count: 2,
                first: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("nan.wav") && e.to_string().contains("NaN"),
        "{e}"
    );
    assert!(resample(&[0.0, f32::NAN], 44100, 22050).is_err());
    // the mean of two channels at f32::MAX is f32::MAX, not infinity
    let big: Vec<u8> = [f32::MAX, f32::MAX]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let p = t.file("big.au", &au(6, 8000, 2, 8, &big));
    assert_eq!(
        decode(&p, &Limits::default()).unwrap().samples,
        vec![f32::MAX]
    );
}

#[test]
fn long_files_are_read_in_chunks_with_every_frame_in_place() {
    // stereo 24-bit (6-byte frames, not a divisor of the 64 KB read chunk), 25 000 frames
    let t = Tmp::new();
    let n = 25_000u32;
    let mut data = Vec::new();
    for i in 0..n {
        let v = (i as i32 % 4096 - 2048) << 8; // left channel; right is its negation
        data.extend_from_slice(&v.to_le_bytes()[1..]);
        data.extend_from_slice(&(-v).to_le_bytes()[1..]);
    }
    let p = t.file("long24.wav", &wav(1, 2, 8000, 24, 6, n * 6, &data));
    let d = decode(&p, &Limits::default()).unwrap();
    assert_eq!(d.samples.len(), n as usize);
    assert!(d.samples.iter().all(|&x| x == 0.0));
    // mono: the values themselves
    let mono: Vec<u8> = data.chunks_exact(6).flat_map(|f| f[..3].to_vec()).collect();
    let p = t.file("long24m.wav", &wav(1, 1, 8000, 24, 3, n * 3, &mono));
    let d = decode(&p, &Limits::default()).unwrap();
    for (i, &x) in d.samples.iter().enumerate() {
        assert_eq!(
            x,
            (i as i32 % 4096 - 2048) as f32 / 8_388_608.0,
            "frame {i}"
        );
    }
}
