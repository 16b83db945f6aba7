//! Progress of a long phase: a bar on a terminal; off a terminal (a log file, CI) no per-item
//! lines, only a heartbeat every [`HEARTBEAT`] while the phase lasts, so a captured log stays
//! short and a long phase is never silent. Each phase prints its own one-line summary.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How often a phase off a terminal says how far it is.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// Counts the items of a phase (thread-safe: `inc` may be called from rayon workers).
pub struct Progress {
    label: String,
    total: usize,
    done: AtomicUsize,
    start: Instant,
    last: Mutex<Instant>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A phase of `total` items named `label` (`"features"`, `"calibration"`), counting `unit`s.
    pub fn new(label: &str, total: usize, unit: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
                "{label} {{bar:40}} {{pos}}/{{len}} {unit} [{{elapsed_precise}} < {{eta_precise}}]"
            )) {
                b.set_style(style);
            }
            b
        });
        let now = Instant::now();
        Self {
            label: format!("{label}: {{}}/{total} {unit}"),
            total,
            done: AtomicUsize::new(0),
            start: now,
            last: Mutex::new(now),
            bar,
        }
    }

    /// One more item done.
    pub fn inc(&self) {
        let d = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.inc(1);
            return;
        }
        if d >= self.total {
            return;
        }
        let now = Instant::now();
        if let Ok(mut last) = self.last.lock()
            && now.duration_since(*last) >= HEARTBEAT
        {
            *last = now;
            eprintln!(
                "{} ({:.0} s)",
                self.label.replace("{}", &d.to_string()),
                now.duration_since(self.start).as_secs_f64()
            );
        }
    }

    /// Items done so far.
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    /// Seconds since the phase began.
    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Clears the bar (the caller prints the phase's summary line).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
