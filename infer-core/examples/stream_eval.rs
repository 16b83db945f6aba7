//! Continuous mode on real clips: per clip, the top-1 agreement of every continuous hop with
//! window-by-window inference on the same window, and three track decisions of the stream
//! beside the study's segment vote: the majority of its hops' (smoothed) decisions, the
//! classifier's own `track` (the mean of every hop's unsmoothed posterior, what a device keeps
//! in one running sum) and, for comparison, the mean of the smoothed posteriors; optionally
//! checks the firmware's live-mode output (`out.txt`) bit for bit against the host, and
//! replays its per-chunk costs through `infer_core::realtime` (the device's schedule: duty
//! cycle, latencies, overruns), printing a `summary` line per clip (and, with `--latencies`,
//! a `lat` line per hop).
//!
//! ```text
//! cargo run -p infer-core --release --features std --example stream_eval -- \
//!     models/baseline-synth-int8.postcard $GTZAN_DEV_DIR/genres/*/*.wav [--firmware out.txt]
//! ```
//! Files: 16-bit PCM mono WAV at the model's rate, or raw 16-bit little-endian `.pcm`. The
//! true genre is the file name's prefix up to the first `.` (GTZAN's `blues.00000.wav`).

use infer_core::classifier::{Classifier, ClassifierConfig, Decision, argmax};
use infer_core::executor::{Executor, run_logmel};
use infer_core::frontend::LogMel;
use infer_core::model::Model;
use infer_core::realtime::{FrameWork, Realtime, RealtimeConfig, RealtimeSummary};
use std::error::Error;
use std::path::Path;

/// A hop as the host computed it, in the firmware's terms.
struct HostHop {
    index: u64,
    start: u64,
    class: i64,
    top1: usize,
    logits: Vec<i8>,
    post: Vec<u32>,
}

fn read_pcm(path: &Path) -> Result<Vec<i16>, Box<dyn Error>> {
    let bytes = std::fs::read(path)?;
    let data = if path.extension().is_some_and(|e| e == "pcm") {
        &bytes[..]
    } else {
        // RIFF: find the `data` chunk (16-bit mono assumed, as GTZAN)
        let mut i = 12;
        let mut found = None;
        while i + 8 <= bytes.len() {
            let id = &bytes[i..i + 4];
            let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into()?) as usize;
            if id == b"fmt " {
                let ch = u16::from_le_bytes(bytes[i + 10..i + 12].try_into()?);
                let bits = u16::from_le_bytes(bytes[i + 22..i + 24].try_into()?);
                if ch != 1 || bits != 16 {
                    return Err(format!("{}: not 16-bit mono", path.display()).into());
                }
            }
            if id == b"data" {
                found = Some(&bytes[i + 8..(i + 8 + len).min(bytes.len())]);
                break;
            }
            i += 8 + len + (len & 1);
        }
        found.ok_or("no data chunk")?
    };
    Ok(data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// The majority (the lowest index among ties); `None` without votes.
fn vote(labels: impl Iterator<Item = usize>, n: usize) -> Option<usize> {
    let mut counts = vec![0usize; n];
    for l in labels {
        counts[l] += 1;
    }
    let best = argmax(&counts);
    (counts[best] > 0).then_some(best)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let firmware = match args.iter().position(|a| a == "--firmware") {
        Some(i) => {
            let p = args.get(i + 1).ok_or("--firmware needs a path")?.clone();
            args.drain(i..i + 2);
            Some(std::fs::read_to_string(p)?)
        }
        None => None,
    };
    let show_latencies = match args.iter().position(|a| a == "--latencies") {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let (model_path, files) = args.split_first().ok_or("usage: MODEL FILE...")?;
    let bytes = std::fs::read(model_path)?;
    let model = Model::from_bytes(&bytes)?;
    let classes = model.classes().len();
    let seg = model.input().segment_samples as usize;
    let d = *model.dims();
    let mut logmel = LogMel::new(model.frontend())?;
    let mut exec = Box::new(Executor::<i8>::new());
    let mut mel = vec![0.0f32; d.mels[0] * d.frames[0]];

    let (mut agree_all, mut total_all) = (0usize, 0usize);
    let (mut seg_right, mut stream_right, mut tracks) = (0usize, 0usize, 0usize);
    let (mut mean_right, mut smooth_mean_right) = (0usize, 0usize);
    let mut host_lines: Vec<Vec<HostHop>> = Vec::new();
    println!(
        "clip | hops compared | top-1 agreement | segment vote | stream vote | mean posterior | truth"
    );
    println!("---|---:|---:|---|---|---|---");
    for file in files {
        let path = Path::new(file);
        let pcm = read_pcm(path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let truth = name
            .split('.')
            .next()
            .and_then(|g| model.classes().iter().position(|c| *c == g));
        // continuous, in the firmware's 1024-sample chunks
        let mut hops = Vec::new();
        let mut smooth_sum = vec![0.0f64; classes];
        let mut c = Box::new(Classifier::<i8>::new(&model, ClassifierConfig::CONTINUOUS)?);
        for part in pcm.chunks(1024) {
            c.push_i16(part, |h| {
                for (s, &p) in smooth_sum.iter_mut().zip(h.posterior) {
                    *s += f64::from(p);
                }
                hops.push(HostHop {
                    index: h.index,
                    start: h.start_sample,
                    class: match h.decision {
                        Decision::Genre(g) => g as i64,
                        Decision::Undecided => -1,
                    },
                    top1: h.top1(),
                    logits: h.logits.to_vec(),
                    post: h.posterior.iter().map(|p| p.to_bits()).collect(),
                })
            })?;
        }
        let mut mean = vec![0.0f32; classes];
        let track = match c.track(&mut mean) {
            Decision::Genre(g) => Some(g),
            Decision::Undecided => None,
        };
        let smooth_track = (!hops.is_empty()).then(|| argmax(&smooth_sum));
        // window by window on the same windows
        let mut logits = vec![0i8; classes];
        let (mut agree, mut total) = (0, 0);
        for h in &hops {
            let s = h.start as usize;
            if s + seg > pcm.len() {
                continue;
            }
            logmel.compute_i16(&pcm[s..s + seg], &mut mel)?;
            run_logmel(&model, &mut exec, &mel, &mut (), &mut logits)?;
            agree += usize::from(argmax(&logits) == h.top1);
            total += 1;
        }
        // the study's segments and their vote
        let mut seg_top = Vec::new();
        for s in pcm.chunks_exact(seg) {
            logmel.compute_i16(s, &mut mel)?;
            run_logmel(&model, &mut exec, &mel, &mut (), &mut logits)?;
            seg_top.push(argmax(&logits));
        }
        let seg_vote = vote(seg_top.into_iter(), classes);
        let stream_vote = vote(
            hops.iter()
                .filter(|h| h.class >= 0)
                .map(|h| h.class as usize),
            classes,
        );
        let label = |v: Option<usize>| v.map_or("-", |i| model.classes()[i]);
        println!(
            "{name} | {total} | {:.1} % | {} | {} | {} | {}",
            100.0 * agree as f64 / total.max(1) as f64,
            label(seg_vote),
            label(stream_vote),
            label(track),
            label(truth)
        );
        agree_all += agree;
        total_all += total;
        if truth.is_some() {
            tracks += 1;
            seg_right += usize::from(seg_vote == truth);
            stream_right += usize::from(stream_vote == truth);
            mean_right += usize::from(track == truth);
            smooth_mean_right += usize::from(smooth_track == truth);
        }
        host_lines.push(hops);
    }
    println!(
        "\noverall top-1 agreement: {agree_all} of {total_all} = {:.2} %",
        100.0 * agree_all as f64 / total_all.max(1) as f64
    );
    if tracks > 0 {
        let acc = |n: usize| n as f64 / tracks as f64;
        println!(
            "track accuracy: segment vote {seg_right} of {tracks} = {:.3}, smoothed stream vote {stream_right} of {tracks} = {:.3}, mean posterior (Classifier::track) {mean_right} of {tracks} = {:.3}, mean smoothed posterior {smooth_mean_right} of {tracks} = {:.3}",
            acc(seg_right),
            acc(stream_right),
            acc(mean_right),
            acc(smooth_mean_right)
        );
    }
    if let Some(out) = firmware {
        replay_schedule(&out, show_latencies)?;
        compare_firmware(&out, &host_lines)?;
    }
    Ok(())
}

/// The firmware's sample rate and DMA half-buffer (live protocols 2 to 4).
const LIVE_SAMPLE_RATE: u32 = 22_050;
const LIVE_CHUNK: u32 = 1024;

/// Replays the live firmware's per-chunk costs (`cost` lines) through the device's schedule
/// (`infer_core::realtime`, at each clip's `clock_hz` and `queue_frames`) and prints, per clip,
/// a `summary` line (and `lat` lines if asked); from protocol 4 on, the firmware's own `summary`
/// line (the same schedule run on the device) must hold the same figures.
fn replay_schedule(out: &str, show_latencies: bool) -> Result<(), Box<dyn Error>> {
    fn field<'a>(line: &'a str, key: &str) -> Result<&'a str, Box<dyn Error>> {
        line.split(' ')
            .find_map(|f| f.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .ok_or_else(|| format!("no {key} in {line}").into())
    }
    let mut clip: Option<(String, Realtime, u64)> = None;
    let mut replayed: Option<RealtimeSummary> = None;
    let report = |idx: &str, rt: &mut Realtime, clock: u64, hops: u64, busy: u64| {
        rt.finish();
        while let Some(l) = rt.take_latency() {
            if show_latencies {
                println!("lat {idx} {} insns={}", l.hop, l.instructions);
            }
        }
        let s = rt.summary();
        println!(
            "summary {idx} chunks={} hops={hops} busy_insns={} avail_insns={} duty_ppm={} worst_hop_latency_insns={} worst_hop_latency_us={} worst_frame_latency_insns={} overruns={} chunk_overruns={} queue_overruns={} max_queue={}",
            s.chunks,
            s.busy_instructions,
            s.available_instructions,
            s.duty_ppm,
            s.worst_hop_latency,
            u128::from(s.worst_hop_latency) * 1_000_000 / u128::from(clock.max(1)),
            s.worst_frame_latency,
            s.overruns(),
            s.chunk_overruns,
            s.queue_overruns,
            s.max_queue
        );
        if s.busy_instructions != busy {
            eprintln!(
                "clip {idx}: replayed busy {} != firmware's {busy}",
                s.busy_instructions
            );
        }
        s
    };
    for line in out.lines() {
        let mut it = line.split(' ');
        match it.next() {
            Some("clip") => {
                if replayed.is_some() {
                    return Err(format!("{line}: the previous clip has no summary line").into());
                }
                let idx = it.next().ok_or("clip line")?.to_string();
                let clock: u64 = field(line, "clock_hz")?.parse()?;
                let rt = Realtime::new(RealtimeConfig {
                    clock_hz: clock,
                    sample_rate: LIVE_SAMPLE_RATE,
                    chunk: LIVE_CHUNK,
                    queue_frames: field(line, "queue_frames")?.parse()?,
                });
                clip = Some((idx, rt, clock));
            }
            Some("cost") => {
                let (_, rt, _) = clip.as_mut().ok_or("cost line before a clip line")?;
                let fe: u64 = field(line, "fe")?.parse()?;
                let frames = field(line, "cnn")?
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(|f| {
                        FrameWork::parse(f).ok_or_else(|| format!("bad frame {f} in {line}").into())
                    })
                    .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
                rt.chunk(fe, &frames);
                if show_latencies {
                    while let Some(l) = rt.take_latency() {
                        println!(
                            "lat {} {} insns={}",
                            line.split(' ').nth(1).unwrap_or("?"),
                            l.hop,
                            l.instructions
                        );
                    }
                } else {
                    while rt.take_latency().is_some() {}
                }
            }
            Some("end") => {
                let (idx, mut rt, clock) = clip.take().ok_or("end line before a clip line")?;
                let hops = field(line, "hops")?.parse()?;
                let busy = field(line, "busy_insns")?.parse()?;
                replayed = Some(report(&idx, &mut rt, clock, hops, busy));
            }
            Some("summary") => {
                let s = replayed.take().ok_or("summary line before an end line")?;
                for (key, host) in s.device_fields() {
                    let device: u64 = field(line, key)?.parse()?;
                    if device != host {
                        return Err(format!(
                            "{line}: the device's {key}={device}, the host's replay {host}"
                        )
                        .into());
                    }
                }
            }
            _ => {}
        }
    }
    if replayed.is_some() {
        return Err("the last clip has no summary line".into());
    }
    Ok(())
}

/// Checks every `hop` line of the firmware's live output against the host's hops.
fn compare_firmware(out: &str, host: &[Vec<HostHop>]) -> Result<(), Box<dyn Error>> {
    let (mut same, mut n) = (0usize, 0usize);
    let mut seen = vec![0usize; host.len()];
    for line in out.lines().filter(|l| l.starts_with("hop ")) {
        let mut it = line.split(' ');
        let _ = it.next();
        let clip: usize = it.next().ok_or("hop line")?.parse()?;
        let index: u64 = it.next().ok_or("hop line")?.parse()?;
        let field = |key: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(key))
                .ok_or_else(|| format!("no {key} in {line}"))
        };
        let h = host
            .get(clip)
            .and_then(|hs| hs.get(index as usize))
            .ok_or_else(|| format!("host has no hop {clip} {index}"))?;
        let logits: Vec<i8> = field("logits=")?
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        let post: Vec<u32> = field("post=")?
            .split(',')
            .map(|x| u32::from_str_radix(x, 16))
            .collect::<Result<_, _>>()?;
        let ok = h.index == index
            && field("start=")?.parse::<u64>()? == h.start
            && field("class=")?.parse::<i64>()? == h.class
            && field("top1=")?.parse::<usize>()? == h.top1
            && logits == h.logits
            && post == h.post;
        if !ok {
            eprintln!("differs: {line}");
        }
        same += usize::from(ok);
        n += 1;
        seen[clip] += 1;
    }
    let host_total: usize = host.iter().map(Vec::len).sum();
    println!(
        "firmware vs host: {same} of {n} hop lines bit-identical (logits, posterior bits, decision, top-1, start); host reported {host_total}"
    );
    if same != n || n != host_total {
        return Err("firmware and host differ".into());
    }
    Ok(())
}
