//! Genre classification of an audio stream: PCM chunks of any length in, a report per hop out.
//!
//! A [`Classifier`] owns (or borrows, see [`Classifier::with_parts`]) the streaming front end
//! ([`LogMelStream`]) and the CNN ([`Executor`]) and runs them as the chunks arrive. Each
//! finished hop is reported to a callback as a [`Hop`]: the raw logits, the smoothed
//! posterior (the mean of the softmax posteriors of the last `smoothing` hops, as TFLM's
//! `RecognizeCommands` averages), and the [`Decision`] (the genre with the largest smoothed
//! posterior, or [`Decision::Undecided`] below the threshold). [`Classifier::track`] gives the
//! genre so far: the mean of every hop's own posterior since the start (one running sum). No
//! heap, no panics.
//!
//! Two modes ([`Mode`]):
//! - **Segment**: the study's non-overlapping windows of the model's `segment_samples` (3 s):
//!   front end and CNN are reset for each, the end padding applied, exactly what the firmware's
//!   segment protocol does; the logits are bit-identical to [`crate::executor::run_logmel`] on
//!   the segment's log-mel. A trailing partial segment is never reported.
//! - **Continuous**: one endless stream. The baseline pools by 2 five times, so 32 log-mel
//!   frames make one block-5 column and the dense layer reads the last `frames[5]` (4)
//!   columns, 128 frames (2.97 s). Every block keeps its rows across hops
//!   ([`Executor::set_continuous`]): each frame computes only its new columns, so the cost
//!   per second of audio is that of non-overlapping segments (plus one dense layer per
//!   column), and a label comes every `hop_frames` frames (32 = 0.743 s at 22050 Hz, hop 512).
//!   A hop's window differs from classifying the same window from scratch only at its edges,
//!   where the per-window zero padding is replaced by the real neighbouring frames. Latency:
//!   a column needs its convolutions' right-hand neighbours, so the hop whose window ends at
//!   frame `f` is reported once frame `f + 35` (block 2's four-frame passes included) is in,
//!   0.81 s later.
//!
//! Bad input: a chunk holding NaN or an infinity is rejected whole with
//! [`Error::InputNotFinite`] before any of it is consumed (the stream goes on as if it had
//! not been pushed); every chunk length works, 0 included.

use core::borrow::BorrowMut;
use core::marker::PhantomData;

use crate::Error;
use crate::executor::{Act, Executor};
use crate::format::{MAX_CLASSES, PosEnc};
use crate::frontend::Sample;
use crate::model::{Model, N_BLOCKS};
use crate::stream::LogMelStream;

mod post;

use post::{Post, Sink};
pub use post::{argmax, softmax};

/// Most hops the smoothed posterior averages over (its history is `MAX_SMOOTHING x
/// MAX_CLASSES` f32: 512 bytes).
pub const MAX_SMOOTHING: usize = 8;

/// Log-mel frames per block-5 column: the baseline's five 2x pools.
pub const COLUMN_FRAMES: usize = 1 << N_BLOCKS;

/// How the stream is cut into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Non-overlapping windows of the model's segment, each classified from scratch.
    Segment,
    /// One endless stream, a report every `hop_frames` log-mel frames: a multiple of
    /// [`COLUMN_FRAMES`] (32), at most the dense layer's window (`32 * frames[5]`, 128 for the
    /// baseline).
    Continuous {
        /// Frames between reports.
        hop_frames: u32,
    },
}

/// What a [`Classifier`] does: mode, smoothing and decision threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierConfig {
    /// Segment or continuous.
    pub mode: Mode,
    /// Hops the smoothed posterior averages over, `1..=MAX_SMOOTHING` (fewer at the start).
    pub smoothing: usize,
    /// The smallest smoothed posterior that decides, `0..=1` (0: always decide).
    pub threshold: f32,
}

impl ClassifierConfig {
    /// The study's protocol: non-overlapping segments, no smoothing, always decide.
    pub const SEGMENT: ClassifierConfig = ClassifierConfig {
        mode: Mode::Segment,
        smoothing: 1,
        threshold: 0.0,
    };
    /// A label every block-5 column (32 frames, 0.743 s), averaged over the last four (about
    /// one window), always decided.
    pub const CONTINUOUS: ClassifierConfig = ClassifierConfig {
        mode: Mode::Continuous {
            hop_frames: COLUMN_FRAMES as u32,
        },
        smoothing: 4,
        threshold: 0.0,
    };

    /// Checks the settings against `model`.
    ///
    /// # Errors
    /// [`Error::ClassifierBadSmoothing`], [`Error::ClassifierBadThreshold`],
    /// [`Error::ClassifierUnsupportedHop`], [`Error::ClassifierModelCannotStream`].
    pub fn validate(&self, model: &Model<'_>) -> Result<(), Error> {
        if self.smoothing == 0 || self.smoothing > MAX_SMOOTHING {
            return Err(Error::ClassifierBadSmoothing);
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::ClassifierBadThreshold);
        }
        if let Mode::Continuous { hop_frames } = self.mode {
            let hop = hop_frames as usize;
            let t5 = model.dims().frames[N_BLOCKS];
            if hop == 0 || !hop.is_multiple_of(COLUMN_FRAMES) || hop / COLUMN_FRAMES > t5 {
                return Err(Error::ClassifierUnsupportedHop);
            }
            if model.input().posenc != PosEnc::None {
                return Err(Error::ClassifierModelCannotStream);
            }
        }
        Ok(())
    }

    /// Builds a classifier for `model` with its own buffers.
    ///
    /// # Errors
    /// As [`Classifier::new`].
    pub fn build<'m, A: Act>(&self, model: &'m Model<'m>) -> Result<Classifier<'m, A>, Error> {
        Classifier::new(model, *self)
    }
}

/// What a hop decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The class (index into [`Model::classes`]) with the largest smoothed posterior.
    Genre(usize),
    /// The largest smoothed posterior is below the threshold.
    Undecided,
}

/// One finished hop, as the callback of [`Classifier::push`] receives it.
#[derive(Debug, Clone, Copy)]
pub struct Hop<'a, A> {
    /// Hops reported since the start (or the last [`Classifier::reset`]), from 0.
    pub index: u64,
    /// The first sample of the window this hop classifies (the stream's sample index). The
    /// window as a segment is `segment_samples` long from here: in continuous mode its
    /// log-mel frames are the stream's frames `start_sample / hop_length ..` (the dense layer
    /// reads the first `32 * frames[5]` of them).
    pub start_sample: u64,
    /// The raw logits (`[n_classes]`; int8 as the model computes them for an int8 model).
    pub logits: &'a [A],
    /// The smoothed posterior (`[n_classes]`).
    pub posterior: &'a [f32],
    /// The decision.
    pub decision: Decision,
}

impl<A: PartialOrd> Hop<'_, A> {
    /// The index of the largest raw logit (the first on ties): this hop alone, unsmoothed.
    pub fn top1(&self) -> usize {
        argmax(self.logits)
    }
}

/// Times the CNN's share of a push (for the firmware's instruction counts): called around each
/// log-mel frame's executor work (which includes the dense layer, the smoothing and the hop
/// callback when the frame finishes a hop). `()` does nothing.
pub trait Probe {
    /// Before a frame enters the CNN.
    fn frame_begin(&mut self) {}
    /// After it.
    fn frame_end(&mut self) {}
}

impl Probe for () {}

/// One push's frame handler: the executor, the hop sink, the probe and the first error.
struct FrameCtx<'c, 'm, 'p, 'f, A: Act, F, P> {
    model: &'m Model<'m>,
    exec: &'c mut Executor<A>,
    sink: Sink<'p, 'f, A, F>,
    probe: &'c mut P,
    failed: Option<Error>,
}

impl<A: Act, F: FnMut(&Hop<'_, A>), P: Probe> FrameCtx<'_, '_, '_, '_, A, F, P> {
    /// One log-mel frame into the CNN (skipped after an error).
    fn frame(&mut self, frame: &[f32]) {
        if self.failed.is_some() {
            return;
        }
        self.probe.frame_begin();
        if let Err(e) = self.exec.push_frame(self.model, frame, &mut self.sink) {
            self.failed = Some(e);
        }
        self.probe.frame_end();
    }
}

/// A streaming genre classifier; see the module docs. `A` is the activation type (`i8` for
/// int8 models, `f32` for float ones); `S` and `E` hold the front end and the executor, owned
/// (the default) or borrowed (`&mut`, [`Classifier::with_parts`]).
pub struct Classifier<'m, A: Act = i8, S = LogMelStream, E = Executor<A>> {
    model: &'m Model<'m>,
    cfg: ClassifierConfig,
    stream: S,
    exec: E,
    post: Post<A>,
    /// Segment mode: samples per segment, and still missing from the current one.
    seg_samples: usize,
    seg_left: usize,
    samples: u64,
    _act: PhantomData<A>,
}

impl<'m, A: Act> Classifier<'m, A> {
    /// A classifier for `model` with its own front end and executor (about 22 KiB + 21 KiB for
    /// int8; see `docs/memory.md`).
    ///
    /// # Errors
    /// [`Error::ModelArchitectureUnsupported`] when `A` is not the model's precision, the
    /// front end's configuration errors, and those of [`ClassifierConfig::validate`].
    pub fn new(model: &'m Model<'m>, cfg: ClassifierConfig) -> Result<Self, Error> {
        Self::with_parts(
            model,
            cfg,
            LogMelStream::new(model.frontend())?,
            Executor::new(),
        )
    }
}

impl<'m, A: Act, S: BorrowMut<LogMelStream>, E: BorrowMut<Executor<A>>> Classifier<'m, A, S, E> {
    /// A classifier on a front end and an executor built elsewhere (on a device: in place, in
    /// the frames that suit the stack; pass `&mut` references). Both are reset.
    ///
    /// # Errors
    /// As [`Classifier::new`], and [`Error::FrontendMismatch`] when the front end's
    /// configuration is not the model's.
    pub fn with_parts(
        model: &'m Model<'m>,
        cfg: ClassifierConfig,
        mut stream: S,
        mut exec: E,
    ) -> Result<Self, Error> {
        if model.precision() != A::PRECISION {
            return Err(Error::ModelArchitectureUnsupported);
        }
        cfg.validate(model)?;
        if stream.borrow_mut().config() != model.frontend() {
            return Err(Error::FrontendMismatch);
        }
        let seg_samples = model.input().segment_samples as usize;
        let hop_length = u64::from(model.frontend().hop_length);
        let (every, stride) = match cfg.mode {
            Mode::Segment => (1, seg_samples as u64),
            Mode::Continuous { hop_frames } => (
                hop_frames / COLUMN_FRAMES as u32,
                COLUMN_FRAMES as u64 * hop_length,
            ),
        };
        exec.borrow_mut()
            .set_continuous(matches!(cfg.mode, Mode::Continuous { .. }));
        stream.borrow_mut().reset();
        Ok(Classifier {
            model,
            cfg,
            stream,
            exec,
            post: Post {
                n_classes: model.classes().len(),
                logits_q: model.logits_quant(),
                smoothing: cfg.smoothing,
                threshold: cfg.threshold,
                every: every.max(1),
                skip: 0,
                stride,
                history: [[0.0; MAX_CLASSES]; MAX_SMOOTHING],
                filled: 0,
                next: 0,
                dense: 0,
                hops: 0,
                raw: [A::default(); MAX_CLASSES],
                posterior: [0.0; MAX_CLASSES],
                track: [0.0; MAX_CLASSES],
            },
            seg_samples,
            seg_left: seg_samples,
            samples: 0,
            _act: PhantomData,
        })
    }

    /// The model.
    pub fn model(&self) -> &'m Model<'m> {
        self.model
    }

    /// The configuration.
    pub fn config(&self) -> &ClassifierConfig {
        &self.cfg
    }

    /// Samples pushed since the start (or the last reset).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Hops reported since the start (or the last reset).
    pub fn hops(&self) -> u64 {
        self.post.hops
    }

    /// The genre so far: the mean of every hop's own (unsmoothed) softmax posterior since the
    /// start (or the last reset), written into `mean` (`[n_classes]`; a shorter slice gets the
    /// first classes, a longer one keeps the rest), and its decision: the class with the
    /// largest mean when it reaches the threshold, [`Decision::Undecided`] before the first
    /// hop. The device keeps one running sum (`n_classes` f32) and adds each hop's posterior
    /// in order, so the host's and the device's means are the same bits. Over a whole clip
    /// this is the track's mean posterior, the usual track-level aggregate of window scores
    /// (the majority of the hops' decisions is the other).
    pub fn track(&self, mean: &mut [f32]) -> Decision {
        self.post.track(mean)
    }

    /// Starts again as if new: front end, executor, smoothing history and counters.
    pub fn reset(&mut self) {
        self.stream.borrow_mut().reset();
        self.exec.borrow_mut().reset();
        self.post.reset();
        self.seg_left = self.seg_samples;
        self.samples = 0;
    }

    /// Pushes 16-bit PCM (scaled by `1 / 32768`, as librosa loads it); calls `on_hop` for each
    /// hop this chunk finishes. Returns the number of hops.
    ///
    /// # Errors
    /// As [`Classifier::push`].
    pub fn push_i16(
        &mut self,
        chunk: &[i16],
        on_hop: impl FnMut(&Hop<'_, A>),
    ) -> Result<usize, Error> {
        self.push(chunk, &mut (), on_hop)
    }

    /// Pushes f32 samples (full scale `[-1, 1)`); as [`Classifier::push_i16`].
    ///
    /// # Errors
    /// As [`Classifier::push`].
    pub fn push_f32(
        &mut self,
        chunk: &[f32],
        on_hop: impl FnMut(&Hop<'_, A>),
    ) -> Result<usize, Error> {
        self.push(chunk, &mut (), on_hop)
    }

    /// Pushes a chunk of any length (0 included), with `probe` timing the CNN's share; calls
    /// `on_hop` for each finished hop and returns their number.
    ///
    /// # Errors
    /// [`Error::InputNotFinite`] (NaN or infinite sample; nothing of the chunk is consumed).
    /// Any other error (none is expected for a model the constructor accepted) leaves the
    /// stream mid-chunk: call [`Classifier::reset`].
    pub fn push<Smp: Sample, P: Probe>(
        &mut self,
        chunk: &[Smp],
        probe: &mut P,
        mut on_hop: impl FnMut(&Hop<'_, A>),
    ) -> Result<usize, Error> {
        if !chunk.iter().all(|s| s.is_finite()) {
            return Err(Error::InputNotFinite);
        }
        let hops0 = self.post.hops;
        let stream = self.stream.borrow_mut();
        let mut ctx = FrameCtx {
            model: self.model,
            exec: self.exec.borrow_mut(),
            sink: Sink {
                post: &mut self.post,
                on_hop: &mut on_hop,
            },
            probe,
            failed: None,
        };
        match self.cfg.mode {
            Mode::Continuous { .. } => {
                stream.push(chunk, |f| ctx.frame(f))?;
                self.samples += chunk.len() as u64;
            }
            Mode::Segment => {
                let mut rest = chunk;
                while !rest.is_empty() {
                    let (part, tail) = rest.split_at(rest.len().min(self.seg_left));
                    stream.push(part, |f| ctx.frame(f))?;
                    self.samples += part.len() as u64;
                    self.seg_left -= part.len();
                    if self.seg_left == 0 {
                        // the segment's end padding, its last frames, and with them its logits
                        stream.finish(|f| ctx.frame(f))?;
                        stream.reset();
                        ctx.exec.reset();
                        self.seg_left = self.seg_samples;
                    }
                    rest = tail;
                }
            }
        }
        if let Some(e) = ctx.failed {
            return Err(e);
        }
        Ok((self.post.hops - hops0) as usize)
    }
}

#[cfg(test)]
mod tests;
