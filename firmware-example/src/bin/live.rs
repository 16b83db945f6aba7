//! Live mode: infer-core's `Classifier` in continuous mode on a clip fed as a microphone at the
//! model's sample rate would deliver it, 1024-sample DMA half-buffers (one every 46.4 ms of device
//! time at 22050 Hz, 64 ms at 16 kHz) at a stated clock (instructions standing in for cycles, counted as the segment firmware
//! counts them). Per hop it writes the decision and the instructions spent; per chunk the
//! instructions of its front end and of each log-mel frame's CNN work. Those costs drive
//! `infer_core::realtime`'s schedule on the device (front end in the half-buffer interrupt, CNN
//! in the main loop behind a frame queue), and each clip ends with its `summary` line: duty
//! cycle, worst hop latency, overruns. The host replays the same schedule from the `cost` lines
//! and checks the summary against it (`trainer crosscheck --stream`, `stream_eval --firmware`).
//! See README.md ("Live mode") for the protocol.

#![no_std]
#![no_main]

#[path = "../counter.rs"]
mod counter;
#[path = "../error.rs"]
#[allow(dead_code)]
mod error;
#[path = "../faults.rs"]
mod faults;
#[path = "../hostio.rs"]
mod hostio;
#[path = "../stack.rs"]
mod stack;
#[path = "../text.rs"]
mod text;
#[path = "../vectors.rs"]
mod vectors;

use core::cell::Cell;

use cortex_m_rt::entry;
use infer_core::classifier::{Classifier, ClassifierConfig, Decision, Hop, Mode, Probe};
use infer_core::executor::Executor;
use infer_core::format::MAX_CLASSES;
use infer_core::model::{Model, Precision};
use infer_core::realtime::{FrameWork, Realtime, RealtimeConfig};
use infer_core::stream::LogMelStream;

use crate::error::FwError;
use crate::hostio::{CPath, LineReader, LineWriter, PcmClip};
use crate::text::{Line, eprint};

/// The embedded model, chosen by `build.rs`.
mod model {
    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

/// Output protocol version written on the first line of `out.txt` (2: per-chunk costs, the
/// schedule replayed on the host; 3: the clip's track decision, `track=`, on its `end` line;
/// 4: the schedule run on the device too, a `summary` line after each `end`).
const PROTOCOL: u32 = 4;
/// Samples per DMA half-buffer. The clips and the modelled microphone run at the model's own
/// sample rate (its front end's: 22050 Hz, or 16000 Hz for a 16 kHz model).
const CHUNK: usize = 1024;
/// Longest clip accepted (10 minutes at 22050 Hz: the firmware holds one chunk at a time).
const MAX_CLIP_SAMPLES: usize = 600 * 22_050;
/// Iterations of the calibration loop (2 instructions each).
const CALIBRATION_ITERATIONS: u32 = 2_000_000;
/// The default stated clock: an STM32F4 at full speed.
const DEFAULT_CLOCK_HZ: u64 = 168_000_000;
/// The default frame queue between the front end and the CNN (int8 input rows: 128 bytes each
/// for the baseline's 128 mels).
const DEFAULT_QUEUE_FRAMES: u32 = 8;
/// Pieces the PCM is read in (the scratch of the semihosting read).
const READ_PIECE: usize = 256;

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
        Err(e) => e.exit_code(),
    };
    semihosting::process::exit(code)
}

/// Runs the whole job; writes `out.txt` (via a temporary file) even on error.
fn run() -> Result<(), FwError> {
    let tmp = CPath::new(b"out.txt.tmp")?;
    let mut out = LineWriter::create(tmp.as_cstr()?)?;
    let result = process(&mut out);
    if let Err(e) = &result {
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

fn process(out: &mut LineWriter) -> Result<(), FwError> {
    let calib_ticks = counter::calibrate(CALIBRATION_ITERATIONS);
    let bytes = model::MODEL.ok_or(FwError::ModelNotInt8)?;
    let model = Model::from_bytes(bytes)?;
    if model.precision() != Precision::Int8 {
        return Err(FwError::ModelNotInt8);
    }
    // the front end built in place, kept inside its `Result` (as the segment firmware does)
    let mut stream = new_stream(&model);
    let stream = match &mut stream {
        Ok(s) => s,
        Err(e) => return Err(FwError::Core(*e)),
    };
    out.line(|l| {
        l.s("tinygenre-live ")
            .u(PROTOCOL.into())
            .s(" model_bytes=")
            .u(bytes.len() as u64)
            .s(" sample_rate=")
            .u(model.frontend().sample_rate.into())
            .s(" chunk=")
            .u(CHUNK as u64)
            .s(" segment_samples=")
            .u(model.input().segment_samples.into());
    })?;
    out.line(|l| {
        l.s("calibration insns=")
            .u(2 * u64::from(CALIBRATION_ITERATIONS))
            .s(" ticks=")
            .u(calib_ticks)
            .s(" insns_per_tick=")
            .u(counter::INSNS_PER_TICK);
    })?;
    run_clips(out, stream, &model)
}

#[inline(never)]
fn new_stream(model: &Model<'_>) -> Result<LogMelStream, infer_core::Error> {
    LogMelStream::with_mel_edges(model.frontend(), &model::MEL_EDGES)
}

/// The settings a clip runs with (`clips.txt` lines before it change them).
#[derive(Clone, Copy)]
struct Settings {
    clock_hz: u64,
    queue_frames: u32,
    classifier: ClassifierConfig,
}

/// Runs every clip of the list. Not inlined: the executor lives in this frame, below the front
/// end, reusing the stack its construction used.
#[inline(never)]
fn run_clips(
    out: &mut LineWriter,
    stream: &mut LogMelStream,
    model: &Model<'static>,
) -> Result<(), FwError> {
    let mut exec = Executor::<i8>::new();
    let list_path = CPath::new(b"clips.txt")?;
    let mut list = LineReader::open(list_path.as_cstr()?)?;
    let mut set = Settings {
        clock_hz: DEFAULT_CLOCK_HZ,
        queue_frames: DEFAULT_QUEUE_FRAMES,
        classifier: ClassifierConfig::CONTINUOUS,
    };
    let (mut n_clips, mut n_hops, mut lineno) = (0usize, 0u64, 0usize);
    while let Some(line) = list.next_line()? {
        lineno += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        let bad = FwError::ListBadLine(lineno);
        let mut parts = line.splitn(3, |&b| b == b' ');
        let (key, value, rest) = (parts.next(), parts.next(), parts.next());
        let num = value.and_then(|v| faults::parse_decimal(v, 12)).ok_or(bad);
        match (key, rest) {
            (Some(b"clock_hz"), None) => set.clock_hz = num?.max(1),
            (Some(b"queue_frames"), None) => set.queue_frames = num? as u32,
            (Some(b"smoothing"), None) => set.classifier.smoothing = num? as usize,
            (Some(b"hop_frames"), None) => {
                set.classifier.mode = Mode::Continuous {
                    hop_frames: num? as u32,
                }
            }
            (Some(b"clip"), Some(path)) => {
                let path = CPath::new(path)?;
                let n = num? as usize;
                let mut clf =
                    Classifier::with_parts(model, set.classifier, &mut *stream, &mut exec)?;
                let idx = n_clips;
                match live_clip(out, &mut clf, &set, idx, &path, n) {
                    Ok(h) => n_hops += h,
                    Err(e) => {
                        let _ = out.line(|l| {
                            l.s("error clip=")
                                .u(idx as u64)
                                .s(" path=")
                                .b(path.as_bytes())
                                .s(" ");
                            e.describe(l);
                        });
                        return Err(e);
                    }
                }
                n_clips += 1;
            }
            _ => return Err(bad),
        }
    }
    out.line(|l| {
        l.s("stack peak_bytes=")
            .u(stack::peak() as u64)
            .s(" region_bytes=")
            .u(stack::size() as u64);
    })?;
    out.line(|l| {
        l.s("done clips=").u(n_clips as u64).s(" hops=").u(n_hops);
    })
}

/// Times each frame's CNN work; the hop a frame finished comes through `hop`.
struct TickProbe<'h> {
    t0: u64,
    frames: [FrameWork; 4],
    n: usize,
    cnn_ticks: u64,
    hop: &'h Cell<Option<u64>>,
}

impl Probe for TickProbe<'_> {
    fn frame_begin(&mut self) {
        self.t0 = counter::ticks();
    }
    fn frame_end(&mut self) {
        let d = counter::ticks() - self.t0;
        self.cnn_ticks += d;
        if let Some(f) = self.frames.get_mut(self.n) {
            *f = FrameWork {
                instructions: d * counter::INSNS_PER_TICK,
                hop: self.hop.take(),
            };
            self.n += 1;
        }
    }
}

/// A hop as reported, kept until the chunk's push returns (printing is not timed).
#[derive(Clone, Copy)]
struct HopRec {
    index: u64,
    start: u64,
    decision: Decision,
    top1: usize,
    n: usize,
    logits: [i8; MAX_CLASSES],
    post: [u32; MAX_CLASSES],
}

impl HopRec {
    fn new(h: &Hop<'_, i8>) -> HopRec {
        let mut r = HopRec {
            index: h.index,
            start: h.start_sample,
            decision: h.decision,
            top1: h.top1(),
            n: h.logits.len(),
            logits: [0; MAX_CLASSES],
            post: [0; MAX_CLASSES],
        };
        for (d, &s) in r.logits.iter_mut().zip(h.logits) {
            *d = s;
        }
        for (d, s) in r.post.iter_mut().zip(h.posterior) {
            *d = s.to_bits();
        }
        r
    }
}

type LiveClassifier<'a> = Classifier<'a, i8, &'a mut LogMelStream, &'a mut Executor<i8>>;

/// Feeds one clip chunk by chunk; returns its hop count.
fn live_clip(
    out: &mut LineWriter,
    clf: &mut LiveClassifier<'_>,
    set: &Settings,
    idx: usize,
    path: &CPath,
    n_samples: usize,
) -> Result<u64, FwError> {
    let mut clip = PcmClip::open(path.as_cstr()?, n_samples, MAX_CLIP_SAMPLES)?;
    let hop_frames = match set.classifier.mode {
        Mode::Continuous { hop_frames } => hop_frames,
        Mode::Segment => 0,
    };
    out.line(|l| {
        l.s("clip ")
            .u(idx as u64)
            .s(" samples=")
            .u(n_samples as u64)
            .s(" clock_hz=")
            .u(set.clock_hz)
            .s(" queue_frames=")
            .u(set.queue_frames.into())
            .s(" hop_frames=")
            .u(hop_frames.into())
            .s(" smoothing=")
            .u(set.classifier.smoothing as u64);
    })?;
    let mut schedule = Realtime::new(RealtimeConfig {
        clock_hz: set.clock_hz,
        sample_rate: clf.model().frontend().sample_rate,
        chunk: CHUNK as u32,
        queue_frames: set.queue_frames,
    });
    let mut chunk = [0i16; CHUNK];
    let mut scratch = [0u8; 2 * READ_PIECE];
    let (mut busy, mut busy_at_hop, mut n_chunks) = (0u64, 0u64, 0u64);
    let mut left = n_samples;
    while left > 0 {
        let buf = chunk.get_mut(..left.min(CHUNK)).ok_or(FwError::ClipRead)?;
        for piece in buf.chunks_mut(READ_PIECE) {
            if clip.read(piece, &mut scratch)? != piece.len() {
                return Err(FwError::ClipRead);
            }
        }
        left -= buf.len();
        let hop_cell = Cell::new(None);
        let mut probe = TickProbe {
            t0: 0,
            frames: [FrameWork::default(); 4],
            n: 0,
            cnn_ticks: 0,
            hop: &hop_cell,
        };
        let mut recs: [Option<HopRec>; 2] = [None; 2];
        let t0 = counter::ticks();
        clf.push(buf, &mut probe, |h| {
            hop_cell.set(Some(h.index));
            if let Some(slot) = recs.iter_mut().find(|r| r.is_none()) {
                *slot = Some(HopRec::new(h));
            }
        })?;
        let total = counter::ticks() - t0;
        let frontend = (total - probe.cnn_ticks) * counter::INSNS_PER_TICK;
        let frames = probe.frames.get(..probe.n).unwrap_or(&[]);
        schedule.chunk(frontend, frames);
        out.line(|l| cost_line(l, idx, n_chunks, frontend, frames))?;
        n_chunks += 1;
        busy += total * counter::INSNS_PER_TICK;
        for r in recs.iter().flatten() {
            out.line(|l| hop_line(l, idx, r, busy - busy_at_hop))?;
            busy_at_hop = busy;
        }
    }
    let mut mean = [0.0f32; MAX_CLASSES];
    let track = clf.track(&mut mean);
    out.line(|l| {
        l.s("end ")
            .u(idx as u64)
            .s(" chunks=")
            .u(n_chunks)
            .s(" hops=")
            .u(clf.hops())
            .s(" busy_insns=")
            .u(busy)
            .s(" track=");
        decision(l, track);
    })?;
    schedule.finish();
    let s = schedule.summary();
    out.line(|l| {
        l.s("summary ").u(idx as u64);
        for (key, value) in s.device_fields() {
            l.s(" ").s(key).s("=").u(value);
        }
    })?;
    Ok(clf.hops())
}

/// `cost <clip> <chunk> fe=<front-end insns> cnn=<insns>[:<hop>],...`: the chunk's front end
/// and each log-mel frame's CNN work (`:<hop>` where the frame finished that hop), in order.
fn cost_line(l: &mut Line, idx: usize, chunk: u64, frontend: u64, frames: &[FrameWork]) {
    l.s("cost ")
        .u(idx as u64)
        .s(" ")
        .u(chunk)
        .s(" fe=")
        .u(frontend)
        .s(" cnn=");
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            l.s(",");
        }
        l.u(f.instructions);
        if let Some(h) = f.hop {
            l.s(":").u(h);
        }
    }
}

/// `hop <clip> <index> start=<sample> class=<decision or -1> top1=<raw argmax>
/// insns=<work since the previous hop> logits=<int8,...> post=<f32 bits hex,...>`
fn hop_line(l: &mut Line, idx: usize, r: &HopRec, insns: u64) {
    l.s("hop ")
        .u(idx as u64)
        .s(" ")
        .u(r.index)
        .s(" start=")
        .u(r.start)
        .s(" class=");
    decision(l, r.decision);
    l.s(" top1=")
        .u(r.top1 as u64)
        .s(" insns=")
        .u(insns)
        .s(" logits=");
    for (i, &v) in r.logits.iter().take(r.n).enumerate() {
        if i > 0 {
            l.s(",");
        }
        l.i(v.into());
    }
    l.s(" post=");
    for (i, &v) in r.post.iter().take(r.n).enumerate() {
        if i > 0 {
            l.s(",");
        }
        l.hex8(v);
    }
}

/// A decision as a class index, `-1` when undecided.
fn decision(l: &mut Line, d: Decision) {
    match d {
        Decision::Genre(g) => l.u(g as u64),
        Decision::Undecided => l.s("-1"),
    };
}
