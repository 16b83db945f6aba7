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

mod act;
#[cfg(any(test, feature = "std"))]
mod reference;
mod ring;
#[cfg(test)]
mod tests;

#[cfg(feature = "posenc-sinusoidal")]
pub use crate::posenc::sinusoid;
pub use crate::posenc::unit_coord;
pub use act::{Act, Observer};
#[cfg(any(test, feature = "std"))]
pub use reference::{encode_segment, reference_forward};

use crate::Error;
use crate::conv::{Conv3x3, Taps};
use crate::conv_tile::{Patch, TILE, TilePool};
use crate::format::PosEnc;
use crate::model::{Dims, MAX_CHANNELS, MAX_FEATURES, MAX_IN_CHANNELS, Model, N_BLOCKS};
use ring::{RingBlock, Step};

use crate::config::MAX_N_MELS;
use crate::format::MAX_CLASSES;

/// Block-1 mels kept by the on-demand ring: block 2's pooling window at pooled mel `j` reads
/// block-1 mels `2j-1..=2j+2`.
const P1_MELS: usize = 4;
/// Block-1 frames kept per mel: block-2 frames `u, u+1` read block-1 frames `u-1..=u+2`.
const P1_FRAMES: usize = 4;
/// Frames kept by the input ring (block 2's frames `u, u+1` read input frames `2u-3..=2u+6`).
pub const INPUT_RING: usize = 10;
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
    /// Block-1 pooled values on demand: `[mel slot][frame offset][channel]`.
    p1: [[[A; C1]; P1_FRAMES]; P1_MELS],
    acc2: [A; ACC2],
    next_u: usize,
    b3: RingBlock<A, ROW3, ACC3>,
    b4: RingBlock<A, ROW4, ACC4>,
    b5: RingBlock<A, ROW5, ACC5>,
    features: [A; MAX_FEATURES],
    rows5: usize,
    logits: [A; MAX_CLASSES],
    done: bool,
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
            PosEnc::Sinusoidal => return Err(Error::ModelArchitectureUnsupported),
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
            p1: [[[A::default(); C1]; P1_FRAMES]; P1_MELS],
            acc2: [A::default(); ACC2],
            next_u: 0,
            b3: RingBlock::new(),
            b4: RingBlock::new(),
            b5: RingBlock::new(),
            features: [A::default(); MAX_FEATURES],
            rows5: 0,
            logits: [A::default(); MAX_CLASSES],
            done: false,
        }
    }

    /// Forgets the current segment.
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

    /// Feeds one log-mel frame (`[n_mels]`, dB, not normalised).
    ///
    /// # Errors
    /// [`Error::ModelArchitectureUnsupported`] (precision mismatch), [`Error::ShapeMismatch`],
    /// [`Error::InputNotFinite`], [`Error::StreamState`] (more frames than the model's segment).
    pub fn push_frame<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        frame: &[f32],
        obs: &mut O,
    ) -> Result<(), Error> {
        Self::check(model)?;
        let t = self.frames_in;
        if t >= model.dims().frames[0] || self.done {
            return Err(Error::StreamState);
        }
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
        self.advance(model, obs);
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
        if t >= model.dims().frames[0] || self.done {
            return Err(Error::StreamState);
        }
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
        self.advance(model, obs);
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
    fn advance<O: Observer<A>>(&mut self, model: &Model<'_>, obs: &mut O) {
        let dims = *model.dims();
        let t_in = dims.frames[0];
        let n_u = 2 * dims.frames[2];
        // block-2 frames u, u + 1 read input frames 2u-3..=2u+6
        while self.next_u < n_u && self.frames_in >= (2 * self.next_u + 7).min(t_in) {
            let u = self.next_u;
            self.block2_pair(model, &dims, u, obs);
            self.next_u += 2;
            self.b3.push_row(
                self.acc2
                    .get(..dims.mels[2] * dims.channels[2])
                    .unwrap_or(&[]),
            );
            self.drain(model, &dims, obs);
        }
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
                        Step::Row(w) => self.store_features(model, dims, w, obs),
                    }
                }
            }
        }
    }

    /// Copies block 5's pooled row `w` into the features (`[mel][frame][ch]`), and runs the
    /// dense layer after the last one.
    fn store_features<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        dims: &Dims,
        w: usize,
        obs: &mut O,
    ) {
        let (m5, t5, c5) = (
            dims.mels[N_BLOCKS],
            dims.frames[N_BLOCKS],
            dims.channels[N_BLOCKS],
        );
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

    /// Block 2's conv output frames `u` and `u + 1` (`u` even), pooled into `acc2` (one tile
    /// per 2x2 pooling window). Block 1 is computed on demand, four frames `u-1..=u+2` per mel.
    fn block2_pair<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        dims: &Dims,
        u: usize,
        obs: &mut O,
    ) {
        let (Some(l1), Some(l2)) = (model.conv(0), model.conv(1)) else {
            return;
        };
        let (m1, t1, c1) = (dims.mels[1], dims.frames[1], dims.channels[1]);
        let (m2, c2) = (dims.mels[2], dims.channels[2]);
        // block-1 mels computed so far for this pair
        let mut next_mel = 0;
        for j in 0..m2 {
            // conv mels 2j, 2j+1 read block-1 mels 2j-1..=2j+2
            let end = (2 * j + 3).min(m1);
            while next_mel < end {
                let n = (end - next_mel).min(2);
                self.block1_mels(l1, dims, u, next_mel, n, obs);
                next_mel += n;
            }
            let mut taps: [Taps<'_, A>; TILE] = [[None; 9]; TILE];
            for (q, px_taps) in taps.iter_mut().enumerate() {
                let (k, t) = (2 * j + q / 2, u + q % 2);
                for (i, tap) in px_taps.iter_mut().enumerate() {
                    let (kk, pp) = ((k + i / 3).wrapping_sub(1), (t + i % 3).wrapping_sub(1));
                    if kk >= m1 || pp >= t1 {
                        continue;
                    }
                    // frame slot: pp - (u - 1)
                    *tap = self
                        .p1
                        .get(kk % P1_MELS)
                        .and_then(|s| s.get(t - u + i % 3))
                        .and_then(|r| r.get(..c1));
                }
            }
            let Some(dst) = self.acc2.get_mut(j * c2..(j + 1) * c2) else {
                continue;
            };
            A::conv_pool(l2, &taps, TilePool::Quad, dst, &mut []);
            obs.activation(2, u / 2, j, dst);
        }
    }

    /// Block 1's pooled output at mels `k..k + n` (`n` 1 or 2) for frames `u-1..=u+2` into
    /// mel-ring slots `k % P1_MELS`, ...: one input channel runs both mels' windows per pass
    /// over the channels ([`Act::conv_pool_patches`]), anything else mel by mel.
    fn block1_mels<O: Observer<A>>(
        &mut self,
        l1: &Conv3x3<'_>,
        dims: &Dims,
        u: usize,
        k: usize,
        n: usize,
        obs: &mut O,
    ) {
        let (m0, t0, c0) = (dims.mels[0], dims.frames[0], dims.channels[0]);
        let (t1, c1) = (dims.frames[1], dims.channels[1]);
        if c0 == 1 && (n == 1 || n == 2) {
            // each window's 4x4 input patch
            let patches: [[Patch<A>; P1_FRAMES]; 2] = core::array::from_fn(|d| {
                core::array::from_fn(|f| {
                    let p = (u + f).wrapping_sub(1);
                    core::array::from_fn(|i| {
                        core::array::from_fn(|j| {
                            if p >= t1 || d >= n {
                                return None;
                            }
                            let mm = (2 * (k + d) + i).wrapping_sub(1);
                            let tt = (2 * p + j).wrapping_sub(1);
                            if mm >= m0 || tt >= t0 {
                                return None;
                            }
                            self.input.get(tt % INPUT_RING)?.get(mm).copied()
                        })
                    })
                })
            });
            let (a, b) = (k % P1_MELS, (k + 1) % P1_MELS);
            let done = match (n, self.p1.get_disjoint_mut([a, b])) {
                (2, Ok([s0, s1])) => A::conv_pool_patches(l1, &patches, &mut [s0, s1]),
                (_, Ok([s0, _])) => {
                    A::conv_pool_patches(l1, patches.get(..1).unwrap_or(&[]), &mut [s0])
                }
                _ => false,
            };
            if done {
                for d in 0..n {
                    let Some(slot) = self.p1.get((k + d) % P1_MELS) else {
                        continue;
                    };
                    for (f, dst) in slot.iter().enumerate() {
                        let p = (u + f).wrapping_sub(1);
                        if p < t1 && (f == 1 || f == 2) {
                            obs.activation(1, p, k + d, dst.get(..c1).unwrap_or(&[]));
                        }
                    }
                }
                return;
            }
        }
        for d in 0..n {
            self.block1_mel(l1, dims, u, k + d, obs);
        }
    }

    /// Block 1's pooled output at mel `k` for frames `u-1..=u+2` into mel-ring slot
    /// `k % P1_MELS`, one tile per window.
    fn block1_mel<O: Observer<A>>(
        &mut self,
        l1: &Conv3x3<'_>,
        dims: &Dims,
        u: usize,
        k: usize,
        obs: &mut O,
    ) {
        let (m0, t0, c0) = (dims.mels[0], dims.frames[0], dims.channels[0]);
        let (t1, c1) = (dims.frames[1], dims.channels[1]);
        let Some(slot) = self.p1.get_mut(k % P1_MELS) else {
            return;
        };
        for (f, dst) in slot.iter_mut().enumerate() {
            let p = (u + f).wrapping_sub(1);
            if p >= t1 {
                continue;
            }
            // the 2x2 pooling window: one tile
            let mut taps: [Taps<'_, A>; TILE] = [[None; 9]; TILE];
            for (q, px_taps) in taps.iter_mut().enumerate() {
                let (m, t) = (2 * k + q / 2, 2 * p + q % 2);
                for (i, tap) in px_taps.iter_mut().enumerate() {
                    let (mm, tt) = ((m + i / 3).wrapping_sub(1), (t + i % 3).wrapping_sub(1));
                    if mm >= m0 || tt >= t0 {
                        continue;
                    }
                    *tap = self
                        .input
                        .get(tt % INPUT_RING)
                        .and_then(|r| r.get(mm * c0..(mm + 1) * c0));
                }
            }
            let Some(dst) = dst.get_mut(..c1) else {
                continue;
            };
            A::conv_pool(l1, &taps, TilePool::Quad, dst, &mut []);
            if f == 1 || f == 2 {
                obs.activation(1, p, k, dst);
            }
        }
    }
}

/// Runs the CNN on a whole log-mel segment `[n_mels][frames]` (mel-major, dB, as the trainer's
/// cache and librosa store it) and returns the logits in `out` (`[n_classes]`).
///
/// # Errors
/// [`Error::ShapeMismatch`] if `mel` is not `n_mels * frames` long, and those of
/// [`Executor::push_frame`].
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
    exec.reset();
    let mut col = [0.0f32; MAX_N_MELS];
    for t in 0..frames {
        for (m, c) in col.iter_mut().enumerate().take(n_mels) {
            *c = mel.get(m * frames + t).copied().unwrap_or(0.0);
        }
        exec.push_frame(model, col.get(..n_mels).unwrap_or(&[]), obs)?;
    }
    let logits = exec.logits(model)?;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = l;
    }
    Ok(())
}
