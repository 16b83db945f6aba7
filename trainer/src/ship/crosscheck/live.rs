//! The live firmware's output (`firmware-example/src/bin/live.rs`, protocol 4; see
//! `firmware-example/README.md`, "Live mode"): per-hop decisions, per-chunk costs and the
//! schedule's summary the device computed, parsed; the costs are replayed through the same
//! schedule (`infer_core::realtime`) on the host and every figure of the device's summary must
//! equal the replay's.

use anyhow::{Context, bail};
use infer_core::realtime::{FrameWork, Realtime, RealtimeConfig, RealtimeSummary};
use serde::Serialize;

use super::CHUNK;
use super::device::{hex_u32, kv, kv_u64};

/// The live output protocol this parser reads.
pub const LIVE_PROTOCOL: u32 = 4;

/// One hop in the firmware's terms (the host's hops are put in the same form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveHop {
    /// Hop index within the clip.
    pub index: u64,
    /// First sample of the hop's window.
    pub start: u64,
    /// Decision (`-1`: undecided).
    pub class: i64,
    /// Argmax of this hop's own logits.
    pub top1: usize,
    /// Int8 logits.
    pub logits: Vec<i8>,
    /// Smoothed posterior, the bits of each f32.
    pub post: Vec<u32>,
}

/// One clip of the live output.
#[derive(Debug, Clone, Default)]
pub struct LiveClip {
    /// Its hops, in order.
    pub hops: Vec<LiveHop>,
    /// The track decision at its end (`-1`: undecided).
    pub track: i64,
    /// Instructions spent on the clip, as the firmware counted them.
    pub busy_insns: u64,
    /// The schedule the device ran (its `summary` line), equal to the host's replay of its
    /// `cost` lines.
    pub schedule: Schedule,
}

/// Everything the live firmware wrote.
#[derive(Debug, Clone, Default)]
pub struct LiveOutput {
    /// Size of the embedded model in bytes.
    pub model_bytes: u64,
    /// Sample rate of the clips and the modelled microphone (the model's).
    pub sample_rate: u32,
    /// The clips, in order.
    pub clips: Vec<LiveClip>,
    /// Peak stack use (stack painting).
    pub stack_peak_bytes: u64,
}

/// A clip's schedule at the stated clock: the firmware's per-chunk costs run through
/// `infer_core::realtime` (front end in the half-buffer interrupt, CNN behind the frame queue),
/// on the device and again on the host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Schedule {
    /// Core clock of the replay (instructions per second).
    pub clock_hz: u64,
    /// Frames the queue between front end and CNN holds.
    pub queue_frames: u32,
    /// Chunks received.
    pub chunks: u64,
    /// Busy over available instructions, parts per million.
    pub duty_ppm: u64,
    /// Longest hop latency, in microseconds at `clock_hz`.
    pub worst_hop_latency_us: u64,
    /// Longest hop latency, in instructions.
    pub worst_hop_latency_insns: u64,
    /// Chunk overruns (the front end still busy when the next chunk came).
    pub chunk_overruns: u64,
    /// Queue overruns (a frame finished while the queue was full).
    pub queue_overruns: u64,
    /// The most frames queued at once.
    pub max_queue: u32,
}

impl Schedule {
    fn from_summary(cfg: &RealtimeConfig, s: &RealtimeSummary) -> Schedule {
        Schedule {
            clock_hz: cfg.clock_hz,
            queue_frames: cfg.queue_frames,
            chunks: s.chunks,
            duty_ppm: s.duty_ppm,
            worst_hop_latency_us: (u128::from(s.worst_hop_latency) * 1_000_000
                / u128::from(cfg.clock_hz.max(1))) as u64,
            worst_hop_latency_insns: s.worst_hop_latency,
            chunk_overruns: s.chunk_overruns,
            queue_overruns: s.queue_overruns,
            max_queue: s.max_queue,
        }
    }
}

fn num<T: std::str::FromStr>(word: Option<&str>, what: &str, line: &str) -> anyhow::Result<T> {
    word.and_then(|w| w.parse().ok())
        .with_context(|| format!("bad {what} in {line:?}"))
}

/// `a,b,c` into values (empty: none).
fn list<T>(s: &str, parse: impl Fn(&str) -> anyhow::Result<T>) -> anyhow::Result<Vec<T>> {
    s.split(',').filter(|v| !v.is_empty()).map(parse).collect()
}

/// The `cnn=` list of a `cost` line: `<insns>[:<hop>]` per frame.
fn frames(line: &str) -> anyhow::Result<Vec<FrameWork>> {
    list(kv(line, "cnn").context("cnn=")?, |f| {
        FrameWork::parse(f).with_context(|| format!("bad frame {f:?} in {line:?}"))
    })
}

/// Parses the live firmware's `out.txt` and replays each clip's schedule.
pub fn parse_live(text: &str) -> anyhow::Result<LiveOutput> {
    let mut lines = text.lines();
    let header = lines.next().context("empty device output")?;
    let version: u32 = num(
        header
            .strip_prefix("tinygenre-live ")
            .and_then(|r| r.split_whitespace().next()),
        "live header",
        header,
    )?;
    if version != LIVE_PROTOCOL {
        bail!("live protocol {version}, this build reads {LIVE_PROTOCOL}");
    }
    let mut out = LiveOutput {
        model_bytes: kv_u64(header, "model_bytes")?,
        sample_rate: u32::try_from(kv_u64(header, "sample_rate")?)?,
        ..LiveOutput::default()
    };
    if kv_u64(header, "chunk")? != CHUNK as u64 || out.sample_rate == 0 {
        bail!("live firmware's chunk differs from the host's, or no sample rate: {header:?}");
    }
    // the clip being read and its schedule; then, after its `end`, the clip waiting for its
    // `summary` line with the host's replay
    let mut cur: Option<(LiveClip, Realtime)> = None;
    let mut ended: Option<(LiveClip, RealtimeSummary, RealtimeConfig)> = None;
    let mut done = false;
    for line in lines {
        let mut words = line.split(' ');
        let kind = words.next();
        let clip = words.next();
        let open = |cur: &mut Option<(LiveClip, Realtime)>| -> anyhow::Result<()> {
            let idx: usize = num(clip, "clip index", line)?;
            if cur.is_none() || idx != out.clips.len() {
                bail!("{line:?} outside its clip");
            }
            Ok(())
        };
        if ended.is_some() && kind != Some("summary") {
            bail!("{line:?}: the previous clip's `summary` line is missing");
        }
        match kind {
            Some("clip") => {
                if cur.is_some() || num::<usize>(clip, "clip index", line)? != out.clips.len() {
                    bail!("clip line {line:?} out of order");
                }
                let cfg = RealtimeConfig {
                    clock_hz: kv_u64(line, "clock_hz")?,
                    sample_rate: out.sample_rate,
                    chunk: CHUNK as u32,
                    queue_frames: u32::try_from(kv_u64(line, "queue_frames")?)?,
                };
                cur = Some((LiveClip::default(), Realtime::new(cfg)));
            }
            Some("cost") => {
                open(&mut cur)?;
                if let Some((_, rt)) = cur.as_mut() {
                    rt.chunk(kv_u64(line, "fe")?, &frames(line)?);
                    while rt.take_latency().is_some() {}
                }
            }
            Some("hop") => {
                open(&mut cur)?;
                let hop = LiveHop {
                    index: num(words.next(), "hop index", line)?,
                    start: kv_u64(line, "start")?,
                    class: num(kv(line, "class"), "class", line)?,
                    top1: num(kv(line, "top1"), "top1", line)?,
                    logits: list(kv(line, "logits").context("logits=")?, |v| {
                        v.parse::<i8>().with_context(|| format!("bad logit {v:?}"))
                    })?,
                    post: list(kv(line, "post").context("post=")?, hex_u32)?,
                };
                if let Some((c, _)) = cur.as_mut() {
                    c.hops.push(hop);
                }
            }
            Some("end") => {
                open(&mut cur)?;
                if let Some((mut c, mut rt)) = cur.take() {
                    if kv_u64(line, "hops")? != c.hops.len() as u64 {
                        bail!("{line:?}: not the clip's hop count {}", c.hops.len());
                    }
                    c.track = num(kv(line, "track"), "track", line)?;
                    c.busy_insns = kv_u64(line, "busy_insns")?;
                    rt.finish();
                    while rt.take_latency().is_some() {}
                    let s = rt.summary();
                    if s.busy_instructions != c.busy_insns {
                        bail!(
                            "clip {}: the replayed schedule's {} busy instructions are not the firmware's {}",
                            out.clips.len(),
                            s.busy_instructions,
                            c.busy_insns
                        );
                    }
                    ended = Some((c, s, *rt.config()));
                }
            }
            Some("summary") => {
                let Some((mut c, s, cfg)) = ended.take() else {
                    bail!("{line:?} without its clip's `end` line");
                };
                if num::<usize>(clip, "clip index", line)? != out.clips.len() {
                    bail!("{line:?} is not the summary of clip {}", out.clips.len());
                }
                for (key, replayed) in s.device_fields() {
                    let device = kv_u64(line, key)?;
                    if device != replayed {
                        bail!(
                            "clip {}: the device's {key}={device} is not the host's replay of its costs ({replayed})",
                            out.clips.len()
                        );
                    }
                }
                c.schedule = Schedule::from_summary(&cfg, &s);
                out.clips.push(c);
            }
            Some("stack") => out.stack_peak_bytes = kv_u64(line, "peak_bytes")?,
            Some("done") => done = true,
            Some("error") => bail!("device reported {line:?}"),
            _ => {}
        }
    }
    if cur.is_some() || ended.is_some() || !done {
        bail!("live output ends without its `end`, `summary` or `done` line");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str =
        "tinygenre-live 4 model_bytes=9 sample_rate=22050 chunk=1024 segment_samples=66150
calibration insns=4000000 ticks=100001 insns_per_tick=40
clip 0 samples=2048 clock_hz=168000000 queue_frames=8 hop_frames=32 smoothing=4
cost 0 0 fe=100 cnn=
cost 0 1 fe=100 cnn=50,70:0
hop 0 0 start=0 class=1 top1=0 insns=320 logits=-3,4 post=3f000000,3f000000
end 0 chunks=2 hops=1 busy_insns=320 track=1
summary 0 duty_ppm=20 avail_insns=15603809 worst_hop_latency_insns=220 chunk_overruns=0 queue_overruns=0 max_queue=2
stack peak_bytes=123 region_bytes=456
done clips=1 hops=1
";

    #[test]
    fn parses_hops_and_replays_the_schedule() {
        let out = parse_live(OUT).unwrap();
        assert_eq!(out.stack_peak_bytes, 123);
        let c = &out.clips[0];
        assert_eq!(c.track, 1);
        assert_eq!(
            c.hops,
            vec![LiveHop {
                index: 0,
                start: 0,
                class: 1,
                top1: 0,
                logits: vec![-3, 4],
                post: vec![0x3f00_0000; 2],
            }]
        );
        // by hand: a chunk period is 1024 / 22050 s = 7_801_904.76 instructions at 168 MHz;
        // busy 100 + 100 + 50 + 70 = 320 of floor(2 * 7_801_904.76) = 15_603_809 (20.5 ppm);
        // the hop's frame ends 100 + 50 + 70 instructions after its chunk arrived
        assert_eq!(c.schedule.chunks, 2);
        assert_eq!(c.schedule.duty_ppm, 20);
        assert_eq!(c.schedule.worst_hop_latency_insns, 220);
        assert_eq!(c.schedule.chunk_overruns + c.schedule.queue_overruns, 0);
        assert_eq!(c.schedule.max_queue, 2);
    }

    #[test]
    fn rejects_truncated_or_inconsistent_output() {
        let cut = OUT.lines().take(6).collect::<Vec<_>>().join("\n");
        assert!(parse_live(&cut).is_err());
        assert!(parse_live(&OUT.replace("busy_insns=320", "busy_insns=321")).is_err());
        assert!(parse_live(&OUT.replace("hops=1 busy", "hops=2 busy")).is_err());
        assert!(parse_live(&OUT.replace("tinygenre-live 4", "tinygenre-live 3")).is_err());
        // the device's summary must be the replay's, and must be there
        assert!(parse_live(&OUT.replace("duty_ppm=20", "duty_ppm=21")).is_err());
        assert!(parse_live(&OUT.replace("max_queue=2", "max_queue=1")).is_err());
        let without: String = OUT
            .lines()
            .filter(|l| !l.starts_with("summary"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_live(&without).is_err());
    }
}
