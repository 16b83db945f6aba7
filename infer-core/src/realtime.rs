//! The real-time budget of a streaming classifier on a microphone: duty cycle, latency and
//! overruns, from measured costs (no clock of its own: the live firmware prints each chunk's
//! instruction counts and `examples/stream_eval.rs --firmware` replays them here, on the host,
//! which keeps the model off the device's flash).
//!
//! The device it models: a DMA fills half-buffers of `chunk` samples at `sample_rate`, so chunk
//! `i` is ready at `(i + 1) * chunk / sample_rate` seconds. Its half-buffer interrupt runs the
//! front end on the chunk (the chunk is then consumed: its samples are in the front end's
//! ring) and queues the finished log-mel frames; the main loop runs the CNN on the queued
//! frames in order, preempted by the next interrupt. Instructions stand in for cycles at
//! `clock_hz`. Two things can go wrong, and each is counted, never dropped silently:
//! - a chunk arrives while the previous chunk's front end is still running (its half-buffer is
//!   being overwritten): a **chunk overrun**;
//! - a frame is finished while `queue_frames` frames (the one the CNN works on included) are
//!   still waiting: a **queue overrun** (the queue is full).
//!
//! A frame's latency runs from the arrival of the chunk that completed it to the end of its CNN
//! work; a hop's latency is that of the frame that finished the hop (its decision is then
//! known). Times are kept exactly, in units of `1 / sample_rate` instructions.

/// `n / d` by shift and subtract (`d > 0`): the schedule divides only when it reports, and on a
/// 32-bit core this keeps the 64-bit division routine (about 900 bytes of flash) out.
#[inline(never)]
pub fn div_u64(n: u64, d: u64) -> u64 {
    if d == 0 {
        return u64::MAX;
    }
    let (mut q, mut r) = (0u64, 0u64);
    for i in (0..64).rev() {
        r = (r << 1) | ((n >> i) & 1);
        if r >= d {
            r -= d;
            q |= 1 << i;
        }
    }
    q
}

/// Most frames the model keeps apart (more count as overruns and are merged into the last).
pub const MAX_QUEUE: usize = 32;

/// The device's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeConfig {
    /// Core clock (instructions per second).
    pub clock_hz: u64,
    /// Audio sample rate.
    pub sample_rate: u32,
    /// Samples per DMA half-buffer.
    pub chunk: u32,
    /// Log-mel frames the queue between front end and CNN holds, `1..=MAX_QUEUE`.
    pub queue_frames: u32,
}

impl RealtimeConfig {
    /// Instructions the clock gives per chunk period (rounded down).
    pub fn chunk_instructions(&self) -> u64 {
        div_u64(
            u64::from(self.chunk) * self.clock_hz,
            u64::from(self.sample_rate.max(1)),
        )
    }
}

/// One log-mel frame's CNN work, as [`Realtime::chunk`] takes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameWork {
    /// Instructions of the frame's CNN work.
    pub instructions: u64,
    /// The hop this frame finished, if any.
    pub hop: Option<u64>,
}

impl FrameWork {
    /// One item of the live firmware's `cost` line (`cnn=` list): `<insns>` or `<insns>:<hop>`,
    /// as the firmware prints it; `None` when it is not that.
    pub fn parse(item: &str) -> Option<FrameWork> {
        let (insns, hop) = match item.split_once(':') {
            Some((i, h)) => (i, Some(h.parse().ok()?)),
            None => (item, None),
        };
        Some(FrameWork {
            instructions: insns.parse().ok()?,
            hop,
        })
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    /// Work left, scaled.
    left: u64,
    /// Arrival of its chunk, scaled.
    arrived: u64,
    hop: Option<u64>,
}

/// A finished hop's latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopLatency {
    /// The hop's index.
    pub hop: u64,
    /// From its chunk's arrival to its decision, in instructions.
    pub instructions: u64,
}

/// The totals so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RealtimeSummary {
    /// Chunks received.
    pub chunks: u64,
    /// Instructions of work (front end and CNN).
    pub busy_instructions: u64,
    /// Instructions the clock gave over the chunks' periods.
    pub available_instructions: u64,
    /// `busy / available` in parts per million.
    pub duty_ppm: u64,
    /// The longest hop latency, in instructions.
    pub worst_hop_latency: u64,
    /// The longest frame latency, in instructions.
    pub worst_frame_latency: u64,
    /// Chunks that arrived while the previous chunk's front end still ran.
    pub chunk_overruns: u64,
    /// Frames that found the queue full.
    pub queue_overruns: u64,
    /// The most frames queued at once.
    pub max_queue: u32,
}

impl RealtimeSummary {
    /// All overruns.
    pub fn overruns(&self) -> u64 {
        self.chunk_overruns + self.queue_overruns
    }

    /// The figures of the live firmware's `summary` line, as `(key, value)` in the order it
    /// prints them: the device writes them and the host checks them against its replay, both
    /// from this list.
    pub fn device_fields(&self) -> [(&'static str, u64); 6] {
        [
            ("duty_ppm", self.duty_ppm),
            ("avail_insns", self.available_instructions),
            ("worst_hop_latency_insns", self.worst_hop_latency),
            ("chunk_overruns", self.chunk_overruns),
            ("queue_overruns", self.queue_overruns),
            ("max_queue", u64::from(self.max_queue)),
        ]
    }
}

/// The schedule; see the module docs.
#[derive(Debug, Clone)]
pub struct Realtime {
    cfg: RealtimeConfig,
    /// `chunk * clock_hz`: one chunk period, scaled.
    period: u64,
    sr: u64,
    chunks: u64,
    isr_free: u64,
    bg: u64,
    queue: [Pending; MAX_QUEUE],
    head: usize,
    len: usize,
    busy: u64,
    worst_hop: u64,
    worst_frame: u64,
    chunk_overruns: u64,
    queue_overruns: u64,
    max_queue: usize,
    done: [Option<HopLatency>; 4],
}

impl Realtime {
    /// A schedule at rest (`queue_frames` is clamped to `1..=MAX_QUEUE`).
    pub fn new(cfg: RealtimeConfig) -> Realtime {
        let cfg = RealtimeConfig {
            queue_frames: cfg.queue_frames.clamp(1, MAX_QUEUE as u32),
            sample_rate: cfg.sample_rate.max(1),
            ..cfg
        };
        Realtime {
            cfg,
            period: u64::from(cfg.chunk) * cfg.clock_hz,
            sr: u64::from(cfg.sample_rate),
            chunks: 0,
            isr_free: 0,
            bg: 0,
            queue: [Pending::default(); MAX_QUEUE],
            head: 0,
            len: 0,
            busy: 0,
            worst_hop: 0,
            worst_frame: 0,
            chunk_overruns: 0,
            queue_overruns: 0,
            max_queue: 0,
            done: [None; 4],
        }
    }

    /// The settings.
    pub fn config(&self) -> &RealtimeConfig {
        &self.cfg
    }

    /// The next chunk: its front end's instructions and its frames' CNN work, in order.
    pub fn chunk(&mut self, frontend: u64, frames: &[FrameWork]) {
        let arrive = (self.chunks + 1).saturating_mul(self.period);
        if self.isr_free > arrive {
            self.chunk_overruns += 1;
        }
        let start = arrive.max(self.isr_free);
        self.run_background(start);
        let end = start.saturating_add(frontend.saturating_mul(self.sr));
        self.isr_free = end;
        self.bg = self.bg.max(end);
        for f in frames {
            let p = Pending {
                left: f.instructions.saturating_mul(self.sr),
                arrived: arrive,
                hop: f.hop,
            };
            if self.len >= self.cfg.queue_frames as usize {
                self.queue_overruns += 1;
            }
            if self.len < MAX_QUEUE {
                if let Some(slot) = self.queue.get_mut((self.head + self.len) % MAX_QUEUE) {
                    *slot = p;
                }
                self.len += 1;
            } else if let Some(last) = self.queue.get_mut((self.head + MAX_QUEUE - 1) % MAX_QUEUE) {
                // beyond what is kept apart: the work still counts
                last.left = last.left.saturating_add(p.left);
                last.hop = p.hop.or(last.hop);
            }
            self.busy = self.busy.saturating_add(f.instructions);
        }
        self.max_queue = self.max_queue.max(self.len);
        self.busy = self.busy.saturating_add(frontend);
        self.chunks += 1;
    }

    /// Runs the CNN on the queued frames until they are all done (no more chunks come).
    pub fn finish(&mut self) {
        self.run_background(u64::MAX);
    }

    /// The next hop whose latency became known (oldest first); up to four are kept.
    pub fn take_latency(&mut self) -> Option<HopLatency> {
        let first = self.done.iter().position(Option::is_some)?;
        self.done.get_mut(first).and_then(Option::take)
    }

    /// Background (CNN) work from `self.bg` until `until`.
    fn run_background(&mut self, until: u64) {
        while self.len > 0 {
            let Some(p) = self.queue.get_mut(self.head) else {
                break;
            };
            if p.left > 0 {
                if self.bg >= until {
                    break;
                }
                let step = p.left.min(until - self.bg);
                p.left -= step;
                self.bg += step;
                if p.left > 0 {
                    break;
                }
            }
            let latency = self.bg.saturating_sub(p.arrived);
            self.worst_frame = self.worst_frame.max(latency);
            if let Some(hop) = p.hop {
                self.worst_hop = self.worst_hop.max(latency);
                let l = HopLatency {
                    hop,
                    instructions: div_u64(latency, self.sr),
                };
                if let Some(slot) = self.done.iter_mut().find(|d| d.is_none()) {
                    *slot = Some(l);
                }
            }
            self.head = (self.head + 1) % MAX_QUEUE;
            self.len -= 1;
        }
        if self.len == 0 && self.bg < until && until != u64::MAX {
            self.bg = until;
        }
    }

    /// The totals so far.
    pub fn summary(&self) -> RealtimeSummary {
        let available = div_u64(self.chunks.saturating_mul(self.period), self.sr);
        RealtimeSummary {
            chunks: self.chunks,
            busy_instructions: self.busy,
            available_instructions: available,
            duty_ppm: if available == 0 {
                0
            } else {
                div_u64(self.busy.saturating_mul(1_000_000), available)
            },
            worst_hop_latency: div_u64(self.worst_hop, self.sr),
            worst_frame_latency: div_u64(self.worst_frame, self.sr),
            chunk_overruns: self.chunk_overruns,
            queue_overruns: self.queue_overruns,
            max_queue: self.max_queue as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(clock_hz: u64, queue_frames: u32) -> RealtimeConfig {
        // 1000 samples/s, chunks of 10: one chunk every 10 ms, 10_000 instructions at 1 MHz
        RealtimeConfig {
            clock_hz,
            sample_rate: 1000,
            chunk: 10,
            queue_frames,
        }
    }

    fn work(instructions: u64, hop: Option<u64>) -> FrameWork {
        FrameWork { instructions, hop }
    }

    #[test]
    fn cost_items_parse_as_the_firmware_prints_them() {
        assert_eq!(FrameWork::parse("7680"), Some(work(7680, None)));
        assert_eq!(
            FrameWork::parse("21500200:3"),
            Some(work(21_500_200, Some(3)))
        );
        for bad in ["", "x", "12:", ":3", "1:2:3", "-5"] {
            assert_eq!(FrameWork::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn division() {
        for (n, d) in [
            (0, 1),
            (7, 7),
            (u64::MAX, 1),
            (u64::MAX, 22050),
            (123_456_789_012, 168),
        ] {
            assert_eq!(div_u64(n, d), n / d);
        }
        assert_eq!(div_u64(5, 0), u64::MAX);
    }

    #[test]
    fn light_load_has_no_overrun_and_exact_latency() {
        let mut r = Realtime::new(cfg(1_000_000, 4));
        assert_eq!(r.config().chunk_instructions(), 10_000);
        for i in 0..10 {
            let hop = (i % 5 == 4).then_some(i / 5);
            r.chunk(1000, &[work(2000, None), work(1000, hop)]);
        }
        r.finish();
        let s = r.summary();
        assert_eq!(s.chunks, 10);
        assert_eq!(s.busy_instructions, 40_000);
        assert_eq!(s.available_instructions, 100_000);
        assert_eq!(s.duty_ppm, 400_000);
        assert_eq!(s.overruns(), 0);
        // front end 1000, then both frames: the second ends 4000 after its chunk arrived
        assert_eq!(s.worst_hop_latency, 4000);
        assert_eq!(s.worst_frame_latency, 4000);
        assert_eq!(
            r.take_latency(),
            Some(HopLatency {
                hop: 0,
                instructions: 4000
            })
        );
        assert_eq!(r.take_latency().map(|l| l.hop), Some(1));
        assert_eq!(r.take_latency(), None);
    }

    #[test]
    fn a_burst_is_absorbed_by_the_queue_and_preempted_by_the_front_end() {
        // a 25_000-instruction frame every fourth chunk: 2.5 chunk periods, duty 0.725
        let mut r = Realtime::new(cfg(1_000_000, 8));
        for i in 0..40u64 {
            let cnn = if i % 4 == 3 { 25_000 } else { 1000 };
            r.chunk(500, &[work(cnn, Some(i)), work(0, None)]);
        }
        r.finish();
        let s = r.summary();
        assert_eq!(s.overruns(), 0, "{s:?}");
        assert!(s.max_queue >= 3);
        // the long frame: its own front end, then 25_000 stretched by two front ends
        assert_eq!(s.worst_frame_latency, 500 + 25_000 + 2 * 500);
        // the queue too short for the burst: counted
        let mut r = Realtime::new(cfg(1_000_000, 2));
        for i in 0..40u64 {
            let cnn = if i % 4 == 3 { 25_000 } else { 1000 };
            r.chunk(500, &[work(cnn, None), work(0, None)]);
        }
        assert!(r.summary().queue_overruns > 0);
    }

    #[test]
    fn a_slow_clock_counts_overruns() {
        // 12_000 instructions per 10_000-instruction period: the queue grows without end
        let mut r = Realtime::new(cfg(1_000_000, 8));
        for _ in 0..100 {
            r.chunk(2000, &[work(5000, None), work(5000, None)]);
        }
        let s = r.summary();
        assert_eq!(s.duty_ppm, 1_200_000);
        assert!(s.queue_overruns > 0);
        assert_eq!(s.max_queue as usize, MAX_QUEUE);
        // a front end longer than the period overruns the chunks themselves
        let mut r = Realtime::new(cfg(1_000_000, 8));
        for _ in 0..10 {
            r.chunk(12_000, &[]);
        }
        assert_eq!(r.summary().chunk_overruns, 9);
    }
}
