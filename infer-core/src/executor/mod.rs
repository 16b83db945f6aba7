//! Depth-first streaming executor: consumes log-mel frames one at a time and keeps, per layer,
//! only the rows a 3x3 convolution followed by a 2x2 pool still needs. Every buffer has a
//! compile-time size; see `docs/memory.md` for the buffer table.
//!
//! The streaming axis is time (frames). A "row" is one frame across all mels and channels.
//!
//! - **Input ring** `[10 frames][128 mels][3 ch]`: the normalised, encoded (and for int8
//!   quantised) input.
//! - **Block 1 is never stored.** Block 2 runs two conv frames at a time, `u` and `u + 1` (one
//!   pooled row); they need block 1's pooled output at frames `u-1..=u+2`, i.e. input frames
//!   `2u-3..=2u+6` (the 10-frame ring). Block 1's pooled values are computed on demand, mel by
//!   mel, into a `[4 mels][4 frames][128 ch]` ring, so each is computed twice (once per block-2
//!   frame pair that reads it): block 1's MACs run twice instead of a 16 KiB (int8) row ring.
//! - **Block 2**: one tile (four conv pixels, [`crate::conv_tile`]) per 2x2 pooling window,
//!   straight into a `[32 mels][64 ch]` pooled row.
//! - **Blocks 3 to 5**: a ring of three input rows plus a `[mels/2][ch]` frame-pool accumulator.
//! - **Dense**: the `[4 mels][4 frames][8 ch]` features, then the logits.
//!
//! Continuous mode ([`Executor::set_continuous`], what `classifier::Classifier` streams with):
//! the same buffers over frames without end, no end padding; each new block-5 row shifts the
//! dense layer's features one frame back and the dense layer runs on the latest four, so a label
//! comes every 32 frames and each column of every block is computed once per stream (block 1,
//! not stored, 1.5 times, as in segment mode).

mod act;
mod blocks;
mod continuous;
#[cfg(any(test, feature = "std"))]
mod reference;
mod ring;
#[cfg(test)]
mod tests;

#[cfg(feature = "posenc-sinusoidal")]
pub use crate::posenc::sinusoid;
pub use crate::posenc::unit_coord;
pub use act::{Act, Observer};
pub use blocks::Block1Windows;
pub use continuous::REBASE_FRAMES;
#[cfg(any(test, feature = "std"))]
pub use reference::{encode_segment, reference_forward};

use crate::Error;
use crate::format::PosEnc;
use crate::model::{Dims, MAX_CHANNELS, MAX_FEATURES, MAX_IN_CHANNELS, Model, N_BLOCKS};
use ring::{RingBlock, Step};

use crate::config::MAX_N_MELS;
use crate::format::MAX_CLASSES;

/// Block-1 mels kept by the on-demand ring: block 2's pooling window at pooled mel `j` reads
/// block-1 mels `2j-1..=2j+2`; with the `winograd` feature block 2 runs the windows of two
/// pooled mels at once (four windows a call), `2j-1..=2j+4`.
const P1_MELS: usize = if cfg!(feature = "winograd") { 6 } else { 4 };
/// Block-2 conv frames per pass: block 1 is recomputed for the two block-1 frames each pass
/// shares with the next, so four frames per pass compute block 1 1.5 times (two: twice).
const B2_FRAMES: usize = 4;
/// Block-1 frames kept per mel: block-2 frames `u..u+4` read block-1 frames `u-1..=u+4`.
const P1_FRAMES: usize = B2_FRAMES + 2;
/// Frames kept by the input ring (block 2's frames `u..u+4` read input frames `2u-3..=2u+10`).
pub const INPUT_RING: usize = 2 * B2_FRAMES + 6;
const IN_ROW: usize = MAX_N_MELS * MAX_IN_CHANNELS;
const C1: usize = MAX_CHANNELS[0];
const C2: usize = MAX_CHANNELS[1];
const C3: usize = MAX_CHANNELS[2];
const C4: usize = MAX_CHANNELS[3];
const C5: usize = MAX_CHANNELS[4];
/// Pooled mels after block `b` at the compiled maximum.
const fn mels(b: usize) -> usize {
    MAX_N_MELS >> b
}
const ACC2: usize = mels(2) * C2;
const ROW3: usize = mels(2) * C2;
const ACC3: usize = mels(3) * C3;
const ROW4: usize = mels(3) * C3;
const ACC4: usize = mels(4) * C4;
const ROW5: usize = mels(4) * C4;
const ACC5: usize = mels(5) * C5;

/// The streaming CNN executor for activation type `A` (`f32` or `i8`).
#[derive(Debug, Clone)]
pub struct Executor<A: Act> {
    input: [[A; IN_ROW]; INPUT_RING],
    frames_in: usize,
    /// Block-1 pooled values on demand: `[mel slot][frame offset][channel]`, the first two
    /// flattened (initialised from a three-level array repeat, the firmware's compiler built the
    /// ring in a temporary and copied it, 4.5 KiB more stack); `as_chunks` gives the slots.
    p1: [[A; C1]; P1_FRAMES * P1_MELS],
    acc2: [[A; ACC2]; B2_FRAMES / 2],
    next_u: usize,
    b3: RingBlock<A, ROW3, ACC3>,
    b4: RingBlock<A, ROW4, ACC4>,
    b5: RingBlock<A, ROW5, ACC5>,
    features: [A; MAX_FEATURES],
    rows5: usize,
    logits: [A; MAX_CLASSES],
    done: bool,
    /// Continuous mode: frames without end, see [`Executor::set_continuous`].
    continuous: bool,
}

impl<A: Act> Default for Executor<A> {
    fn default() -> Self {
        Self::new()
    }
}

/// Normalise and encode one input frame into `row` (`[n_mels][in_ch]`).
pub(crate) fn encode_frame<A: Act>(
    model: &Model<'_>,
    t: usize,
    frame: &[f32],
    row: &mut [A],
) -> Result<(), Error> {
    let spec = model.input();
    let n_mels = usize::from(spec.n_mels);
    if frame.len() != n_mels {
        return Err(Error::ShapeMismatch);
    }
    let ch = spec.posenc.in_channels();
    let frames = usize::from(spec.frames);
    let q = spec.quant;
    for (m, (&x, px)) in frame.iter().zip(row.chunks_exact_mut(ch)).enumerate() {
        if !x.is_finite() {
            return Err(Error::InputNotFinite);
        }
        let v = (x - spec.mean) / spec.std;
        let v = match spec.posenc {
            PosEnc::None => v,
            #[cfg(feature = "posenc-sinusoidal")]
            PosEnc::Sinusoidal => v + sinusoid(m, t, n_mels),
            #[cfg(not(feature = "posenc-sinusoidal"))]
            PosEnc::Sinusoidal => return Err(Error::ModelPosEncUnsupported),
            PosEnc::Coord => {
                if let [_, a, b] = px {
                    *a = A::from_normalised(unit_coord(m, n_mels), q);
                    *b = A::from_normalised(unit_coord(t, frames), q);
                }
                v
            }
        };
        if let Some(p) = px.first_mut() {
            *p = A::from_normalised(v, q);
        }
    }
    Ok(())
}

impl<A: Act> Executor<A> {
    /// A fresh executor (buffers zeroed; call [`Executor::reset`] between segments).
    pub fn new() -> Self {
        Self {
            input: [[A::default(); IN_ROW]; INPUT_RING],
            frames_in: 0,
            p1: [[A::default(); C1]; P1_FRAMES * P1_MELS],
            acc2: [[A::default(); ACC2]; B2_FRAMES / 2],
            next_u: 0,
            b3: RingBlock::new(),
            b4: RingBlock::new(),
            b5: RingBlock::new(),
            features: [A::default(); MAX_FEATURES],
            rows5: 0,
            logits: [A::default(); MAX_CLASSES],
            done: false,
            continuous: false,
        }
    }

    /// Forgets the current segment (or stream); keeps the mode.
    pub fn reset(&mut self) {
        self.frames_in = 0;
        self.next_u = 0;
        self.b3.reset();
        self.b4.reset();
        self.b5.reset();
        self.rows5 = 0;
        self.done = false;
    }

    /// Frames consumed in the current segment.
    pub fn frames_in(&self) -> usize {
        self.frames_in
    }

    fn check(model: &Model<'_>) -> Result<(), Error> {
        if model.precision() != A::PRECISION {
            return Err(Error::ModelArchitectureUnsupported);
        }
        Ok(())
    }

    /// Whether frame `t` may come: within the segment, or any frame of a continuous stream of a
    /// model that can stream.
    fn check_room(&self, model: &Model<'_>, t: usize) -> Result<(), Error> {
        if self.continuous {
            if model.input().posenc != PosEnc::None {
                return Err(Error::ClassifierModelCannotStream);
            }
            return Ok(());
        }
        if t >= model.dims().frames[0] || self.done {
            return Err(Error::StreamState);
        }
        Ok(())
    }

    /// Feeds one log-mel frame (`[n_mels]`, dB, not normalised).
    ///
    /// # Errors
    /// [`Error::ModelArchitectureUnsupported`] (precision mismatch), [`Error::ShapeMismatch`],
    /// [`Error::InputNotFinite`], [`Error::StreamState`] (more frames than the model's segment),
    /// [`Error::ClassifierModelCannotStream`] (continuous mode, positional encoding).
    pub fn push_frame<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        frame: &[f32],
        obs: &mut O,
    ) -> Result<(), Error> {
        self.push_frame_in(model, frame, obs, &mut [])
    }

    /// [`Executor::push_frame`] with `scratch` lent as working memory (any contents, clobbered):
    /// with the `winograd` feature block 2's Winograd kernel keeps its 8 KiB of transforms there
    /// instead of on the stack when it holds [`crate::conv_tile::wino::SCRATCH_WORDS`] values
    /// (the firmware lends the front end's FFT buffer, idle between frames).
    ///
    /// # Errors
    /// As [`Executor::push_frame`].
    pub fn push_frame_in<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        frame: &[f32],
        obs: &mut O,
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        Self::check(model)?;
        let t = self.frames_in;
        self.check_room(model, t)?;
        let ch = model.dims().channels[0];
        let n = model.dims().mels[0] * ch;
        let slot = self
            .input
            .get_mut(t % INPUT_RING)
            .ok_or(Error::StreamState)?;
        let row = slot.get_mut(..n).ok_or(Error::ShapeMismatch)?;
        encode_frame(model, t, frame, row)?;
        for (m, px) in row.chunks_exact(ch).enumerate() {
            obs.activation(0, t, m, px);
        }
        self.frames_in += 1;
        self.advance(model, obs, scratch);
        Ok(())
    }

    /// Feeds one already quantised / encoded input frame (`[n_mels][in_ch]`), bypassing
    /// normalisation (used by the bit-exactness tests against tflite-micro).
    ///
    /// # Errors
    /// As [`Executor::push_frame`].
    pub fn push_encoded<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        row: &[A],
        obs: &mut O,
    ) -> Result<(), Error> {
        Self::check(model)?;
        let t = self.frames_in;
        self.check_room(model, t)?;
        let ch = model.dims().channels[0];
        let n = model.dims().mels[0] * ch;
        if row.len() != n {
            return Err(Error::ShapeMismatch);
        }
        let slot = self
            .input
            .get_mut(t % INPUT_RING)
            .ok_or(Error::StreamState)?;
        for (d, &s) in slot.iter_mut().zip(row) {
            *d = s;
        }
        self.frames_in += 1;
        self.advance(model, obs, &mut []);
        Ok(())
    }

    /// After the model's last frame: the logits (`[n_classes]`). Call [`Executor::reset`] before
    /// the next segment.
    ///
    /// # Errors
    /// [`Error::InputTooShort`] before all frames arrived; precision mismatch as above.
    pub fn logits(&self, model: &Model<'_>) -> Result<&[A], Error> {
        Self::check(model)?;
        if !self.done {
            return Err(Error::InputTooShort);
        }
        self.logits
            .get(..model.classes().len())
            .ok_or(Error::ShapeMismatch)
    }

    /// Runs everything that the frames received so far allow.
    fn advance<O: Observer<A>>(&mut self, model: &Model<'_>, obs: &mut O, scratch: &mut [f32]) {
        let dims = self.run_dims(model);
        let t_in = dims.frames[0];
        let n_u = 2 * dims.frames[2];
        // block-2 frames u..u + nf (four at a time, the last two alone when 4 does not divide
        // their count) read input frames 2u-3..=2u+2nf+2
        while self.next_u < n_u {
            let u = self.next_u;
            let nf = if u + B2_FRAMES <= n_u { B2_FRAMES } else { 2 };
            if self.frames_in < (2 * (u + nf) + 3).min(t_in) {
                break;
            }
            self.block2_frames(model, &dims, u, nf, obs, scratch);
            self.next_u += nf;
            let n = dims.mels[2] * dims.channels[2];
            for q in 0..nf / 2 {
                self.b3
                    .push_row(self.acc2.get(q).and_then(|r| r.get(..n)).unwrap_or(&[]));
                self.drain(model, &dims, obs);
            }
        }
        self.rebase();
    }

    /// Cascades rows through blocks 3..=5 and the dense layer.
    fn drain<O: Observer<A>>(&mut self, model: &Model<'_>, dims: &Dims, obs: &mut O) {
        let (Some(l3), Some(l4), Some(l5)) = (model.conv(2), model.conv(3), model.conv(4)) else {
            return;
        };
        loop {
            match self.b3.step(l3, 3, dims, obs) {
                Step::Waiting | Step::Done => break,
                Step::Progress => continue,
                Step::Row(_) => {}
            }
            self.b4.push_row(
                self.b3
                    .acc
                    .get(..dims.mels[3] * dims.channels[3])
                    .unwrap_or(&[]),
            );
            loop {
                match self.b4.step(l4, 4, dims, obs) {
                    Step::Waiting | Step::Done => break,
                    Step::Progress => continue,
                    Step::Row(_) => {}
                }
                self.b5.push_row(
                    self.b4
                        .acc
                        .get(..dims.mels[4] * dims.channels[4])
                        .unwrap_or(&[]),
                );
                loop {
                    match self.b5.step(l5, 5, dims, obs) {
                        Step::Waiting | Step::Done => break,
                        Step::Progress => continue,
                        Step::Row(w) => self.store_features(model, w, obs),
                    }
                }
            }
        }
    }

    /// Copies block 5's pooled row `w` into the features (`[mel][frame][ch]`), and runs the
    /// dense layer after the last one. In continuous mode the features are the last `frames[5]`
    /// rows: each new row moves the older ones one frame back, and the dense layer runs on
    /// every row once there are enough.
    fn store_features<O: Observer<A>>(&mut self, model: &Model<'_>, w: usize, obs: &mut O) {
        let dims = model.dims();
        let (m5, t5, c5) = (
            dims.mels[N_BLOCKS],
            dims.frames[N_BLOCKS],
            dims.channels[N_BLOCKS],
        );
        if self.continuous {
            self.store_column(model, (m5, t5, c5), obs);
            return;
        }
        for m in 0..m5 {
            let (Some(src), Some(dst)) = (
                self.b5.acc.get(m * c5..(m + 1) * c5),
                self.features
                    .get_mut((m * t5 + w) * c5..(m * t5 + w + 1) * c5),
            ) else {
                continue;
            };
            dst.copy_from_slice(src);
        }
        self.rows5 += 1;
        if self.rows5 == t5 {
            let n = dims.features();
            let n_classes = model.classes().len();
            if let (Some(x), Some(y)) = (self.features.get(..n), self.logits.get_mut(..n_classes)) {
                A::dense(model.dense(), x, y);
                obs.logits(y);
            }
            self.done = true;
        }
    }
}

/// Runs the CNN on a whole log-mel segment `[n_mels][frames]` (mel-major, dB, as the trainer's
/// cache and librosa store it) and returns the logits in `out` (`[n_classes]`).
///
/// # Errors
/// [`Error::ShapeMismatch`] if `mel` is not `n_mels * frames` long, [`Error::OutputTooSmall`]
/// if `out` holds fewer than the model's classes, and those of [`Executor::push_frame`].
pub fn run_logmel<A: Act, O: Observer<A>>(
    model: &Model<'_>,
    exec: &mut Executor<A>,
    mel: &[f32],
    obs: &mut O,
    out: &mut [A],
) -> Result<(), Error> {
    let (n_mels, frames) = (model.dims().mels[0], model.dims().frames[0]);
    if mel.len() != n_mels * frames {
        return Err(Error::ShapeMismatch);
    }
    let out = out
        .get_mut(..model.classes().len())
        .ok_or(Error::OutputTooSmall)?;
    exec.reset();
    let mut col = [0.0f32; MAX_N_MELS];
    let col = col.get_mut(..n_mels).ok_or(Error::ShapeMismatch)?;
    for t in 0..frames {
        // [n_mels]: column t of the mel-major segment
        for (c, &v) in col
            .iter_mut()
            .zip(mel.iter().skip(t).step_by(frames.max(1)))
        {
            *c = v;
        }
        exec.push_frame(model, col, obs)?;
    }
    let logits = exec.logits(model)?;
    if logits.len() != out.len() {
        return Err(Error::ShapeMismatch);
    }
    out.copy_from_slice(logits);
    Ok(())
}
