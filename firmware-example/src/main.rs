//! tinygenre firmware for a Cortex-M4F (QEMU mps2-an386).
//!
//! Reads raw 16-bit PCM clips named in `clips.txt` over semihosting, feeds
//! each 3 s segment through infer-core's streaming log-mel front end in
//! DMA-sized chunks and every finished frame straight into the streaming int8
//! CNN, and writes one line per segment to `out.txt` (see README.md for the
//! protocol). Exits 0 when
//! every clip was processed, non-zero on any error. No heap: nothing here or in
//! infer-core links `alloc` (there is no `#[global_allocator]`, so any use of
//! it would fail to link).

#![no_std]
#![no_main]

mod counter;
mod error;
mod faults;
mod hostio;
mod stack;
mod text;
mod vectors;

use crate::text::eprint;
use cortex_m_rt::entry;

use infer_core::config::FrontendConfig;
use infer_core::executor::Executor;
use infer_core::model::{Model, N_BLOCKS, Precision};
use infer_core::stream::LogMelStream;

use crate::error::FwError;
use crate::hostio::{CPath, LineReader, LineWriter, PcmClip};

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
        eprint(|l| {
            l.s("error: core peripherals already taken");
        });
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
        eprint(|l| {
            l.s("error: ");
            e.describe(l);
        });
        let _ = out.line(|l| {
            l.s("error ");
            e.describe(l);
        });
    }
    drop(out);
    let fin = CPath::new(b"out.txt")?;
    semihosting::fs::rename(tmp.as_cstr()?, fin.as_cstr()?).map_err(|_| FwError::OutWrite)?;
    result
}

fn process(out: &mut LineWriter) -> Result<(), Failure> {
    let calib_ticks = counter::calibrate(CALIBRATION_ITERATIONS);
    let model = match model::MODEL {
        Some(bytes) => Some(check_model(
            Model::from_bytes(bytes).map_err(FwError::Core)?,
        )?),
        None => None,
    };
    let cfg = model
        .as_ref()
        .map_or(FrontendConfig::DEFAULT, |m| *m.frontend());
    // The pipeline's working memory lives on the stack (so the painted peak
    // counts it). Kept inside its `Result` (never moved out), the 22 KiB
    // front end (sample ring, FFT buffer, filterbank) is built once, in place.
    let mut stream = new_stream(&cfg);
    let stream = match &mut stream {
        Ok(s) => s,
        Err(e) => return Err(FwError::Core(*e).into()),
    };
    out.line(|l| {
        l.s("tinygenre-fw ")
            .u(PROTOCOL.into())
            .s(" model_bytes=")
            .u(model::MODEL.map_or(0, <[u8]>::len) as u64)
            .s(" segment_samples=")
            .u(SEGMENT_SAMPLES as u64)
            .s(" chunk=")
            .u(CHUNK as u64)
            .s(" macs=")
            .u(model.as_ref().map_or(0, macs));
    })?;
    out.line(|l| {
        l.s("calibration insns=")
            .u(2 * u64::from(CALIBRATION_ITERATIONS))
            .s(" ticks=")
            .u(calib_ticks)
            .s(" insns_per_tick=")
            .u(counter::INSNS_PER_TICK);
    })?;
    run_clips(out, stream, model.as_ref())
}

/// Runs every clip of the list. Not inlined: the CNN's 15 KiB of row buffers
/// live in this frame, below the front end, and reuse the stack that
/// building the front end used for its temporaries.
#[inline(never)]
fn run_clips(
    out: &mut LineWriter,
    stream: &mut LogMelStream,
    model: Option<&Model<'static>>,
) -> Result<(), Failure> {
    let mut exec = Executor::<i8>::new();
    let list_path = CPath::new(b"clips.txt")?;
    let mut list = LineReader::open(list_path.as_cstr()?)?;
    let mut pipeline = Pipeline {
        stream,
        exec: &mut exec,
        model,
    };
    let mut n_clips = 0usize;
    let mut n_segments = 0usize;
    let mut lineno = 0usize;
    while let Some(line) = list.next_line()? {
        lineno += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        let bad = FwError::ListBadLine(lineno);
        let mut parts = line.splitn(3, |&b| b == b' ');
        let (n, path) = match (parts.next(), parts.next(), parts.next()) {
            (Some(b"clip"), Some(n), Some(path)) => (
                faults::parse_decimal(n, 9).map(|v| v as usize).ok_or(bad)?,
                CPath::new(path)?,
            ),
            _ => return Err(bad.into()),
        };
        let idx = n_clips;
        match process_clip(out, &mut pipeline, idx, &path, n) {
            Ok(s) => n_segments += s,
            Err(e) => {
                eprint(|l| {
                    l.s("error: clip ")
                        .u(idx as u64)
                        .s(" '")
                        .b(path.as_bytes())
                        .s("': ");
                    e.describe(l);
                });
                let _ = out.line(|l| {
                    l.s("error clip=")
                        .u(idx as u64)
                        .s(" path=")
                        .b(path.as_bytes())
                        .s(" ");
                    e.describe(l);
                });
                return Err(Failure::Reported(e));
            }
        }
        n_clips += 1;
    }
    out.line(|l| {
        l.s("stack peak_bytes=")
            .u(stack::peak() as u64)
            .s(" region_bytes=")
            .u(stack::size() as u64);
    })?;
    out.line(|l| {
        l.s("done clips=")
            .u(n_clips as u64)
            .s(" segments=")
            .u(n_segments as u64);
    })?;
    Ok(())
}

/// Builds the front end in the caller's slot; not inlined, so its
/// temporaries live (briefly) in its own frame, not in the caller's.
#[inline(never)]
fn new_stream(cfg: &FrontendConfig) -> Result<LogMelStream, infer_core::Error> {
    LogMelStream::with_mel_edges(cfg, &model::MEL_EDGES)
}

/// Checks that the firmware can run `model`: int8, and segments as long as the firmware cuts.
fn check_model(model: Model<'static>) -> Result<Model<'static>, FwError> {
    if model.precision() != Precision::Int8 {
        return Err(FwError::ModelNotInt8);
    }
    let seg = model.input().segment_samples;
    if seg as usize != SEGMENT_SAMPLES {
        return Err(FwError::ModelSegment {
            model: seg,
            firmware: SEGMENT_SAMPLES,
        });
    }
    Ok(model)
}

/// Multiply-accumulates of one inference as the network defines them: every
/// convolution output pixel (before pooling) times `9 * in_ch * out_ch`, plus
/// the dense layer. The streaming executor recomputes block 1's pooled values
/// (see infer-core's `executor.rs`); that extra work counts as instructions, not MACs.
fn macs(model: &Model<'_>) -> u64 {
    let d = model.dims();
    let conv: usize = (0..N_BLOCKS)
        .map(|b| d.mels[b] * d.frames[b] * 9 * d.channels[b] * d.channels[b + 1])
        .sum();
    (conv + d.features() * model.classes().len()) as u64
}

/// The front end and the CNN with their buffers.
struct Pipeline<'p> {
    stream: &'p mut LogMelStream,
    exec: &'p mut Executor<i8>,
    model: Option<&'p Model<'static>>,
}

/// What one segment cost and produced.
struct SegmentResult {
    pcm_fnv: u32,
    mel_fnv: u32,
    frontend_insns: u64,
    cnn_insns: u64,
}

impl Pipeline<'_> {
    /// Runs one segment: `read` fills each chunk (not timed); the front end
    /// and the CNN are timed apart, and so is hashing the log-mel frames.
    fn segment(
        &mut self,
        mut read: impl FnMut(&mut [i16]) -> Result<(), FwError>,
    ) -> Result<SegmentResult, FwError> {
        self.stream.reset();
        self.exec.reset();
        let mut pcm = Fnv::new();
        let mut mel = Fnv::new();
        let (mut total, mut cnn, mut hashing) = (0u64, 0u64, 0u64);
        let mut failed: Option<infer_core::Error> = None;
        let exec = &mut *self.exec;
        let model = self.model;
        // the front end lends its FFT buffer (idle between frames) to the CNN: with the
        // `winograd` feature block 2's transforms live there instead of on the stack
        let mut on_frame = |frame: &[f32], idle: &mut [f32]| {
            let t0 = counter::ticks();
            mel.f32s(frame);
            let t1 = counter::ticks();
            if let Some(m) = model
                && failed.is_none()
                && let Err(e) = exec.push_frame_in(m, frame, &mut (), idle)
            {
                failed = Some(e);
            }
            let t2 = counter::ticks();
            hashing += t1 - t0;
            cnn += t2 - t1;
        };
        let mut chunk = [0i16; CHUNK];
        let mut left = SEGMENT_SAMPLES;
        while left > 0 {
            let buf = chunk.get_mut(..left.min(CHUNK)).ok_or(FwError::ClipRead)?;
            read(buf)?;
            pcm.samples(buf);
            let t0 = counter::ticks();
            self.stream.push_lending(buf, &mut on_frame)?;
            total += counter::ticks() - t0;
            left -= buf.len();
        }
        let t0 = counter::ticks();
        self.stream.finish_lending(&mut on_frame)?;
        total += counter::ticks() - t0;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let insns = |ticks: u64| ticks * counter::INSNS_PER_TICK;
        Ok(SegmentResult {
            pcm_fnv: pcm.0,
            mel_fnv: mel.0,
            frontend_insns: insns(total - cnn - hashing),
            cnn_insns: insns(cnn),
        })
    }
}

/// Processes one clip: one output line per full segment. Returns the segment count.
fn process_clip(
    out: &mut LineWriter,
    pipeline: &mut Pipeline<'_>,
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
    out.line(|l| {
        l.s("clip ")
            .u(idx as u64)
            .s(" samples=")
            .u(n_samples as u64)
            .s(" segments=")
            .u(n_seg as u64);
    })?;
    let mut bytes = [0u8; 2 * CHUNK];
    for seg in 0..n_seg {
        let r = pipeline.segment(|buf| {
            if clip.read(buf, &mut bytes)? == buf.len() {
                Ok(())
            } else {
                Err(FwError::ClipRead)
            }
        })?;
        match pipeline.model {
            Some(m) => {
                let logits = pipeline.exec.logits(m)?;
                out.line(|l| {
                    seg_head(l, idx, seg, &r);
                    l.s(" cnn=")
                        .u(r.cnn_insns)
                        .s(" class=")
                        .u(argmax(logits) as u64)
                        .s(" logits=");
                    for (i, &v) in logits.iter().enumerate() {
                        if i > 0 {
                            l.s(",");
                        }
                        l.i(v.into());
                    }
                })?;
            }
            None => out.line(|l| seg_head(l, idx, seg, &r))?,
        }
    }
    Ok(n_seg)
}

/// Index of the largest value (the first on ties).
fn argmax(v: &[i8]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if v.get(best).is_some_and(|b| x > b) {
            best = i;
        }
    }
    best
}

/// `seg <clip> <segment> pcm_fnv=... mel_fnv=... fe=...`
fn seg_head(l: &mut text::Line, idx: usize, seg: usize, r: &SegmentResult) {
    l.s("seg ")
        .u(idx as u64)
        .s(" ")
        .u(seg as u64)
        .s(" pcm_fnv=")
        .hex8(r.pcm_fnv)
        .s(" mel_fnv=")
        .hex8(r.mel_fnv)
        .s(" fe=")
        .u(r.frontend_insns);
}

/// FNV-1a over the samples' little-endian bytes: lets the host check that the
/// device read exactly the samples it wrote.
struct Fnv(u32);

impl Fnv {
    fn new() -> Self {
        Fnv(0x811c_9dc5)
    }
    fn bytes(&mut self, bytes: impl IntoIterator<Item = u8>) {
        for b in bytes {
            self.0 = (self.0 ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    fn samples(&mut self, s: &[i16]) {
        for v in s {
            self.bytes(v.to_le_bytes());
        }
    }
    /// The f32 values' little-endian bit patterns.
    fn f32s(&mut self, v: &[f32]) {
        for x in v {
            self.bytes(x.to_le_bytes());
        }
    }
}
