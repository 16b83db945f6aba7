//! tinygenre firmware for a Cortex-M4F (QEMU mps2-an386).
//!
//! Reads raw 16-bit PCM clips named in `clips.txt` over semihosting, feeds
//! each 3 s segment through infer-core in DMA-sized chunks, and writes one line
//! per segment to `out.txt` (see README.md for the protocol). Exits 0 when
//! every clip was processed, non-zero on any error. No heap: nothing here or in
//! infer-core links `alloc` (there is no `#[global_allocator]`, so any use of
//! it would fail to link).

#![no_std]
#![no_main]

mod counter;
mod error;
mod hostio;
mod stack;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use semihosting::eprintln;

use crate::error::FwError;
use crate::hostio::{CPath, LineWriter, PcmClip};

/// The embedded model, chosen by `build.rs`.
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

/// Output protocol version written on the first line of `out.txt`.
const PROTOCOL: u32 = 1;
/// Sample rate of the clips.
const SAMPLE_RATE: usize = 22_050;
/// Samples per segment (3 s, as the trainer's default segmentation).
const SEGMENT_SAMPLES: usize = 3 * SAMPLE_RATE;
/// Longest clip accepted (60 s).
const MAX_CLIP_SAMPLES: usize = 60 * SAMPLE_RATE;
/// Samples per chunk, as a microphone DMA half-buffer would deliver them.
const CHUNK: usize = 1024;
/// Size of the clip-list buffer.
const LIST_BYTES: usize = 64 * 1024;
/// Iterations of the calibration loop (2 instructions each).
const CALIBRATION_ITERATIONS: u32 = 2_000_000;

/// A failure, and whether its message (naming the clip) was already written.
enum Failure {
    /// Reported where it happened (the clip's index and path are known there).
    Reported(FwError),
    /// Not reported yet.
    Plain(FwError),
}

impl Failure {
    fn error(&self) -> FwError {
        match self {
            Failure::Reported(e) | Failure::Plain(e) => *e,
        }
    }
}

impl From<FwError> for Failure {
    fn from(error: FwError) -> Self {
        Failure::Plain(error)
    }
}

#[entry]
fn main() -> ! {
    stack::paint();
    let Some(cp) = cortex_m::Peripherals::take() else {
        eprintln!("error: core peripherals already taken");
        semihosting::process::exit(5)
    };
    counter::start(cp.SYST);
    let code = match run() {
        Ok(()) => 0,
        Err(f) => f.error().exit_code(),
    };
    semihosting::process::exit(code)
}

/// Runs the whole job; writes `out.txt` (via a temporary file) even on error.
fn run() -> Result<(), Failure> {
    let tmp = CPath::new(b"out.txt.tmp")?;
    let mut out = LineWriter::create(tmp.as_cstr()?)?;
    let result = process(&mut out);
    if let Err(Failure::Plain(e)) = &result {
        eprintln!("error: {e}");
        let _ = out.line(format_args!("error {e}"));
    }
    drop(out);
    let fin = CPath::new(b"out.txt")?;
    semihosting::fs::rename(tmp.as_cstr()?, fin.as_cstr()?).map_err(|_| FwError::OutWrite)?;
    result
}

fn process(out: &mut LineWriter) -> Result<(), Failure> {
    let calib_ticks = counter::calibrate(CALIBRATION_ITERATIONS);
    out.line(format_args!(
        "tinygenre-fw {PROTOCOL} model_bytes={} segment_samples={SEGMENT_SAMPLES} chunk={CHUNK}",
        model::MODEL.map_or(0, <[u8]>::len)
    ))?;
    out.line(format_args!(
        "calibration insns={} ticks={calib_ticks} insns_per_tick={}",
        2 * u64::from(CALIBRATION_ITERATIONS),
        counter::INSNS_PER_TICK
    ))?;

    let list_buf =
        cortex_m::singleton!(: [u8; LIST_BYTES] = [0; LIST_BYTES]).ok_or(FwError::ListRead)?;
    let list_path = CPath::new(b"clips.txt")?;
    let list = hostio::read_all(list_path.as_cstr()?, list_buf)?;

    let mut n_clips = 0usize;
    let mut n_segments = 0usize;
    for (lineno, line) in list.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        let bad = FwError::ListBadLine(lineno + 1);
        let mut parts = line.splitn(3, |&b| b == b' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(b"clip"), Some(n), Some(path)) => {
                let n = parse_usize(n).ok_or(bad)?;
                let path = CPath::new(path)?;
                let idx = n_clips;
                match process_clip(out, idx, &path, n) {
                    Ok(s) => n_segments += s,
                    Err(e) => {
                        eprintln!("error: clip {idx} '{}': {e}", path.as_str());
                        let _ =
                            out.line(format_args!("error clip={idx} path={} {e}", path.as_str()));
                        return Err(Failure::Reported(e));
                    }
                }
                n_clips += 1;
            }
            _ => return Err(bad.into()),
        }
    }
    out.line(format_args!(
        "stack peak_bytes={} region_bytes={}",
        stack::peak(),
        stack::size()
    ))?;
    out.line(format_args!("done clips={n_clips} segments={n_segments}"))?;
    Ok(())
}

/// Processes one clip: one output line per full segment. Returns the segment count.
fn process_clip(
    out: &mut LineWriter,
    idx: usize,
    path: &CPath,
    n_samples: usize,
) -> Result<usize, FwError> {
    let mut clip = PcmClip::open(path.as_cstr()?, n_samples, MAX_CLIP_SAMPLES)?;
    let n_seg = n_samples / SEGMENT_SAMPLES;
    if n_seg == 0 {
        return Err(FwError::ClipNoSegment {
            samples: n_samples,
            segment: SEGMENT_SAMPLES,
        });
    }
    out.line(format_args!(
        "clip {idx} samples={n_samples} segments={n_seg}"
    ))?;
    let mut chunk = [0i16; CHUNK];
    let mut bytes = [0u8; 2 * CHUNK];
    for seg in 0..n_seg {
        let mut left = SEGMENT_SAMPLES;
        let mut fnv = Fnv::new();
        while left > 0 {
            let want = left.min(CHUNK);
            let buf = chunk.get_mut(..want).ok_or(FwError::ClipRead)?;
            let got = clip.read(buf, &mut bytes)?;
            if got != want {
                return Err(FwError::ClipRead);
            }
            fnv.samples(buf);
            left -= got;
        }
        out.line(format_args!("seg {idx} {seg} pcm_fnv={:08x}", fnv.0))?;
    }
    Ok(n_seg)
}

/// FNV-1a over the samples' little-endian bytes: lets the host check that the
/// device read exactly the samples it wrote.
struct Fnv(u32);

impl Fnv {
    fn new() -> Self {
        Fnv(0x811c_9dc5)
    }
    fn samples(&mut self, s: &[i16]) {
        for v in s {
            for b in v.to_le_bytes() {
                self.0 = (self.0 ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
    }
}

fn parse_usize(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    s.iter().try_fold(0usize, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + usize::from(b - b'0'))
    })
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    eprintln!("error: hard fault at pc={:#010x}", ef.pc());
    semihosting::process::exit(6)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    eprintln!("error: unexpected exception {irqn}");
    semihosting::process::exit(7)
}
