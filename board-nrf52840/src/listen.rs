//! The classifier task: takes the queued chunks in order, feeds infer-core's continuous
//! [`Classifier`], and logs each finished hop with the CPU cycles it cost (DWT cycle counter,
//! at the board's 64 MHz) and the overruns so far.

use core::sync::atomic::Ordering;

use cortex_m::peripheral::DWT;
use infer_core::classifier::{Classifier, Decision, Hop, argmax};
use infer_core::executor::Executor;
use infer_core::stream::LogMelStream;

use crate::board;
use crate::queue::{self, ChunkReceiver};

/// The classifier on front end and executor kept in statics.
pub type BoardClassifier =
    Classifier<'static, i8, &'static mut LogMelStream, &'static mut Executor<i8>>;

/// A finished hop, kept until the chunk's push returns (logging is not counted as its work).
#[derive(Clone, Copy)]
struct HopRec {
    index: u64,
    decision: Decision,
    /// The top genre of the smoothed posterior and its probability.
    top: usize,
    p_top: f32,
}

impl HopRec {
    fn new(h: &Hop<'_, i8>) -> HopRec {
        let top = match h.decision {
            Decision::Genre(g) => g,
            Decision::Undecided => argmax(h.posterior),
        };
        HopRec {
            index: h.index,
            decision: h.decision,
            top,
            p_top: h.posterior.get(top).copied().unwrap_or(0.0),
        }
    }
}

/// Runs forever: one chunk at a time from the queue into the classifier.
#[embassy_executor::task]
pub async fn listen(mut clf: BoardClassifier, mut rx: ChunkReceiver) {
    let model = clf.model();
    let hop_samples = match clf.config().mode {
        infer_core::classifier::Mode::Continuous { hop_frames } => {
            hop_frames * model.frontend().hop_length
        }
        infer_core::classifier::Mode::Segment => model.input().segment_samples,
    };
    // the cycles one hop's audio lasts at the core clock: the duty cycle's denominator
    let hop_budget = hop_samples as f32 / board::SAMPLE_RATE as f32 * board::CORE_CLOCK_HZ as f32;
    let mut busy: u64 = 0;
    loop {
        let chunk = rx.receive().await;
        let mut recs: [Option<HopRec>; 2] = [None; 2];
        let mut lost = 0u32;
        let t0 = DWT::cycle_count();
        let pushed = clf.push_i16(chunk, |h| match recs.iter_mut().find(|r| r.is_none()) {
            Some(slot) => *slot = Some(HopRec::new(h)),
            None => lost += 1,
        });
        // wraps after 67 s at 64 MHz; one chunk takes far less
        busy += u64::from(DWT::cycle_count().wrapping_sub(t0));
        rx.receive_done();
        if let Err(e) = pushed {
            defmt::error!("classifier: {=str}; starting again", e.message());
            clf.reset();
            continue;
        }
        if lost > 0 {
            defmt::warn!("{=u32} hops in one chunk not logged", lost);
        }
        for r in recs.iter().flatten() {
            let name = model.classes().get(r.top).copied().unwrap_or("?");
            let overruns = queue::OVERRUNS.load(Ordering::Relaxed);
            let duty = busy as f32 / hop_budget;
            match r.decision {
                Decision::Genre(_) => defmt::info!(
                    "hop {=u64} {=str} p={=f32} cycles={=u64} duty={=f32} overruns={=u32}",
                    r.index,
                    name,
                    r.p_top,
                    busy,
                    duty,
                    overruns
                ),
                Decision::Undecided => defmt::info!(
                    "hop {=u64} undecided (top {=str} p={=f32}) cycles={=u64} duty={=f32} overruns={=u32}",
                    r.index,
                    name,
                    r.p_top,
                    busy,
                    duty,
                    overruns
                ),
            }
            busy = 0;
        }
    }
}
