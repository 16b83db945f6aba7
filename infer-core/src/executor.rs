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

use crate::Error;
use crate::conv::{self, Conv3x3, Taps};
use crate::conv_tile::{self, TILE, TilePool};
use crate::dense::{self, Dense};
use crate::format::PosEnc;
use crate::model::{Dims, MAX_CHANNELS, MAX_FEATURES, MAX_IN_CHANNELS, Model, N_BLOCKS, Precision};
use crate::pool;
use crate::quant::QParams;

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

/// An activation type the executor runs on: `f32` or `i8`.
pub trait Act: Copy + Default + PartialOrd + core::fmt::Debug + 'static {
    /// The model precision this type runs.
    const PRECISION: Precision;
    /// Four conv + ReLU output pixels (`taps[p]`), max-pooled as `pool` says into `out0` /
    /// `out1` (`[out_ch]` each).
    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, Self>; TILE],
        pool: TilePool,
        out0: &mut [Self],
        out1: &mut [Self],
    );
    /// The dense layer (`input`: `[in]`, `out`: `[out]`).
    fn dense(layer: &Dense<'_>, input: &[Self], out: &mut [Self]);
    /// Converts a normalised input value (quantising for int8).
    fn from_normalised(x: f32, q: Option<QParams>) -> Self;
    /// Converts an activation back to a real value (dequantising for int8).
    fn to_real(self, q: Option<QParams>) -> f32;
    /// The whole-tensor reference convolution (see [`conv::conv3x3_relu_ref_f32`]).
    ///
    /// # Errors
    /// Buffer size mismatches.
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[Self],
        mels: usize,
        frames: usize,
        out: &mut [Self],
    ) -> Result<(), Error>;
}

impl Act for f32 {
    const PRECISION: Precision = Precision::F32;
    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, f32>; TILE],
        pool: TilePool,
        out0: &mut [f32],
        out1: &mut [f32],
    ) {
        conv_tile::conv_pool_scalar(layer, taps, pool, out0, out1);
    }
    fn dense(layer: &Dense<'_>, input: &[f32], out: &mut [f32]) {
        dense::dense_f32(layer, input, out);
    }
    fn from_normalised(x: f32, _q: Option<QParams>) -> f32 {
        x
    }
    fn to_real(self, _q: Option<QParams>) -> f32 {
        self
    }
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[f32],
        mels: usize,
        frames: usize,
        out: &mut [f32],
    ) -> Result<(), Error> {
        conv::conv3x3_relu_ref_f32(layer, input, mels, frames, out)
    }
}

impl Act for i8 {
    const PRECISION: Precision = Precision::Int8;
    fn conv_pool(
        layer: &Conv3x3<'_>,
        taps: &[Taps<'_, i8>; TILE],
        pool: TilePool,
        out0: &mut [i8],
        out1: &mut [i8],
    ) {
        conv_tile::conv_pool_i8(layer, taps, pool, out0, out1);
    }
    fn dense(layer: &Dense<'_>, input: &[i8], out: &mut [i8]) {
        dense::dense_i8(layer, input, out);
    }
    fn from_normalised(x: f32, q: Option<QParams>) -> i8 {
        q.map_or(0, |q| q.quantize(x))
    }
    fn to_real(self, q: Option<QParams>) -> f32 {
        q.map_or(0.0, |q| q.dequantize(self))
    }
    fn conv_ref(
        layer: &Conv3x3<'_>,
        input: &[i8],
        mels: usize,
        frames: usize,
        out: &mut [i8],
    ) -> Result<(), Error> {
        conv::conv3x3_relu_ref_i8(layer, input, mels, frames, out)
    }
}

/// Receives intermediate activations (for calibration and per-layer tests). All methods default
/// to doing nothing; `()` is the no-op observer.
pub trait Observer<A> {
    /// A pooled output pixel of block `block` (1..=5) at (`frame`, `mel`), `[channels]`; block 0
    /// is the encoded input. Block 1's last pooled frame is never materialised when the block-2
    /// pool drops it (odd frame count) and is then not reported.
    fn activation(&mut self, _block: usize, _frame: usize, _mel: usize, _channels: &[A]) {}
    /// The final logits.
    fn logits(&mut self, _logits: &[A]) {}
}

impl<A> Observer<A> for () {}

/// The three-row ring and pooling accumulator of a block fed row by row (blocks 3..=5).
#[derive(Debug, Clone)]
struct RingBlock<A, const ROW: usize, const ACC: usize> {
    rows: [[A; ROW]; 3],
    acc: [A; ACC],
    rows_in: usize,
    next_out: usize,
}

impl<A: Act, const ROW: usize, const ACC: usize> RingBlock<A, ROW, ACC> {
    fn new() -> Self {
        Self {
            rows: [[A::default(); ROW]; 3],
            acc: [A::default(); ACC],
            rows_in: 0,
            next_out: 0,
        }
    }

    fn reset(&mut self) {
        self.rows_in = 0;
        self.next_out = 0;
    }

    fn push_row(&mut self, row: &[A]) {
        if let Some(slot) = self.rows.get_mut(self.rows_in % 3) {
            for (d, &s) in slot.iter_mut().zip(row) {
                *d = s;
            }
        }
        self.rows_in += 1;
    }

    /// Computes the next conv output frame if its input rows are present; returns the index of
    /// the pooled row completed in `acc`, if any.
    fn step<O: Observer<A>>(
        &mut self,
        layer: &Conv3x3<'_>,
        block: usize,
        dims: &Dims,
        obs: &mut O,
    ) -> Step {
        let b_in = block - 1;
        let (m_in, r_in, c_in) = (dims.mels[b_in], dims.frames[b_in], dims.channels[b_in]);
        let (m_out, c_out) = (dims.mels[block], dims.channels[block]);
        let n_conv = 2 * dims.frames[block];
        let v = self.next_out;
        if v >= n_conv {
            return Step::Done;
        }
        let ready = self.rows_in > v + 1 || (self.rows_in == r_in && v < r_in);
        if !ready {
            return Step::Waiting;
        }
        // two pooled mels (four conv mels) per tile
        for jj in (0..m_out).step_by(2) {
            let mut taps: [Taps<'_, A>; TILE] = [[None; 9]; TILE];
            for (h, px_taps) in taps.iter_mut().enumerate() {
                let m = 2 * jj + h;
                if m >= 2 * m_out {
                    continue;
                }
                for (k, tap) in px_taps.iter_mut().enumerate() {
                    let (mm, tt) = ((m + k / 3).wrapping_sub(1), (v + k % 3).wrapping_sub(1));
                    if mm >= m_in || tt >= r_in {
                        continue;
                    }
                    *tap = self
                        .rows
                        .get(tt % 3)
                        .and_then(|r| r.get(mm * c_in..(mm + 1) * c_in));
                }
            }
            let mut pix = [[A::default(); C2]; 2];
            let [x0, x1] = &mut pix;
            A::conv_pool(
                layer,
                &taps,
                TilePool::Pairs,
                x0.get_mut(..c_out).unwrap_or(&mut []),
                x1.get_mut(..c_out).unwrap_or(&mut []),
            );
            for (j, mx) in (jj..m_out).zip(&pix) {
                let Some(dst) = self.acc.get_mut(j * c_out..(j + 1) * c_out) else {
                    continue;
                };
                if v.is_multiple_of(2) {
                    for (d, &s) in dst.iter_mut().zip(mx) {
                        *d = s;
                    }
                } else {
                    pool::max_into(dst, mx);
                    obs.activation(block, v / 2, j, dst);
                }
            }
        }
        self.next_out += 1;
        if v % 2 == 1 {
            Step::Row(v / 2)
        } else {
            Step::Progress
        }
    }
}

enum Step {
    Waiting,
    Done,
    Progress,
    Row(usize),
}

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
fn encode_frame<A: Act>(
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
        let mut v = (x - spec.mean) / spec.std;
        match spec.posenc {
            PosEnc::None => {}
            PosEnc::Sinusoidal => v += sinusoid(m, t, n_mels),
            PosEnc::Coord => {
                if let [_, a, b] = px {
                    *a = A::from_normalised(unit_coord(m, n_mels), q);
                    *b = A::from_normalised(unit_coord(t, frames), q);
                }
            }
        }
        if let Some(p) = px.first_mut() {
            *p = A::from_normalised(v, q);
        }
    }
    Ok(())
}

/// `2 i / (n - 1) - 1` in f64 then f32 (0 for `n <= 1`), as the trainer's coordinate channels.
pub fn unit_coord(i: usize, n: usize) -> f32 {
    if n <= 1 {
        0.0
    } else {
        (2.0 * i as f64 / (n - 1) as f64 - 1.0) as f32
    }
}

/// The trainer's sinusoidal plane: `sin(t / 10000^(2 floor(m/2) / n_mels))` for even `m`,
/// `cos` for odd `m`, in f64 then f32.
pub fn sinusoid(m: usize, t: usize, n_mels: usize) -> f32 {
    let exponent = (2 * (m / 2)) as f64 / n_mels as f64;
    let angle = t as f64 / libm::pow(10000.0, exponent);
    (if m.is_multiple_of(2) {
        libm::sin(angle)
    } else {
        libm::cos(angle)
    }) as f32
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
            while next_mel < (2 * j + 3).min(m1) {
                self.block1_mel(l1, dims, u, next_mel, obs);
                next_mel += 1;
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

    /// Block 1's pooled output at mel `k` for frames `u-1..=u+2` into mel-ring slot
    /// `k % P1_MELS`.
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

/// Encodes a whole log-mel segment `[n_mels][frames]` (mel-major) into the network input
/// `[n_mels][frames][in_ch]` (HWC), as the executor does frame by frame (host only).
///
/// # Errors
/// [`Error::ShapeMismatch`], [`Error::InputNotFinite`].
#[cfg(any(test, feature = "std"))]
pub fn encode_segment<A: Act>(model: &Model<'_>, mel: &[f32]) -> Result<std::vec::Vec<A>, Error> {
    let d = model.dims();
    let (n_mels, frames, ch) = (d.mels[0], d.frames[0], d.channels[0]);
    if mel.len() != n_mels * frames {
        return Err(Error::ShapeMismatch);
    }
    let mut out = std::vec![A::default(); n_mels * frames * ch];
    let mut col = std::vec![0.0f32; n_mels];
    let mut row = std::vec![A::default(); n_mels * ch];
    for t in 0..frames {
        for (m, c) in col.iter_mut().enumerate() {
            *c = mel[m * frames + t];
        }
        encode_frame(model, t, &col, &mut row)?;
        for m in 0..n_mels {
            let dst = (m * frames + t) * ch;
            out[dst..dst + ch].copy_from_slice(&row[m * ch..(m + 1) * ch]);
        }
    }
    Ok(out)
}

/// Reference forward pass, layer by layer on whole tensors with the plain kernels (host only).
///
/// `input`: `[n_mels][frames][in_ch]` (HWC, encoded). Returns the pooled output of each block
/// (`[mels_b][frames_b][ch_b]`, HWC) followed by the logits.
///
/// # Errors
/// Buffer or precision mismatches.
#[cfg(any(test, feature = "std"))]
pub fn reference_forward<A: Act>(
    model: &Model<'_>,
    input: &[A],
) -> Result<std::vec::Vec<std::vec::Vec<A>>, Error> {
    if model.precision() != A::PRECISION {
        return Err(Error::ModelArchitectureUnsupported);
    }
    let d = *model.dims();
    let mut outs = std::vec::Vec::new();
    let mut x = input.to_vec();
    for b in 0..N_BLOCKS {
        let layer = model.conv(b).ok_or(Error::ModelArchitectureUnsupported)?;
        let (m, t, c) = (d.mels[b], d.frames[b], d.channels[b + 1]);
        let mut y = std::vec![A::default(); m * t * c];
        A::conv_ref(layer, &x, m, t, &mut y)?;
        let mut p = std::vec![A::default(); d.mels[b + 1] * d.frames[b + 1] * c];
        pool::maxpool2x2_ref(&y, m, t, c, &mut p)?;
        outs.push(p.clone());
        x = p;
    }
    let mut logits = std::vec![A::default(); model.classes().len()];
    A::dense(model.dense(), &x, &mut logits);
    outs.push(logits);
    Ok(outs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::FrontendConfig;
    use crate::format::owned::{OwnedLayer, OwnedModel, OwnedParams};
    use crate::format::{InputSpec, bytes};
    use crate::quant::Requantizer;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use std::collections::HashMap;
    use std::vec::Vec;

    pub(crate) const CH: [usize; 5] = [128, 64, 32, 16, 8];

    /// Front end + input spec for `n_mels` x `frames`.
    pub(crate) fn spec(
        n_mels: usize,
        frames: usize,
        posenc: PosEnc,
        quant: Option<QParams>,
    ) -> (FrontendConfig, InputSpec) {
        let fe = FrontendConfig {
            n_mels: n_mels as u32,
            ..FrontendConfig::DEFAULT
        };
        let samples = (frames as u32 - 1) * fe.hop_length;
        assert_eq!(fe.n_frames(samples as usize), frames);
        let input = InputSpec {
            segment_samples: samples,
            n_mels: n_mels as u16,
            frames: frames as u16,
            mean: -30.0,
            std: 20.0,
            posenc,
            quant,
        };
        (fe, input)
    }

    fn classes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("class{i}")).collect()
    }

    /// A random f32 baseline (He-scaled weights).
    pub(crate) fn random_f32(
        seed: u64,
        n_mels: usize,
        frames: usize,
        posenc: PosEnc,
    ) -> OwnedModel {
        let mut rng = StdRng::seed_from_u64(seed);
        let (frontend, input) = spec(n_mels, frames, posenc, None);
        let mut layers = Vec::new();
        let mut ci = posenc.in_channels();
        for &co in &CH {
            let std = (2.0 / (9.0 * ci as f32)).sqrt() * 1.7;
            let w: Vec<f32> = (0..co * 9 * ci)
                .map(|_| rng.random_range(-std..std))
                .collect();
            let b: Vec<f32> = (0..co).map(|_| rng.random_range(-0.1..0.1)).collect();
            layers.push(OwnedLayer::Conv {
                in_ch: ci as u16,
                out_ch: co as u16,
                params: OwnedParams::F32 {
                    weights: bytes::f32_le(&w),
                    bias: bytes::f32_le(&b),
                },
            });
            ci = co;
        }
        let nf = 8 * (n_mels >> 5) * (frames >> 5);
        let w: Vec<f32> = (0..10 * nf).map(|_| rng.random_range(-0.3..0.3)).collect();
        let b: Vec<f32> = (0..10).map(|_| rng.random_range(-0.1..0.1)).collect();
        layers.push(OwnedLayer::Dense {
            in_features: nf as u16,
            out_features: 10,
            params: OwnedParams::F32 {
                weights: bytes::f32_le(&w),
                bias: bytes::f32_le(&b),
            },
        });
        OwnedModel {
            name: "random-f32".into(),
            classes: classes(10),
            input,
            layers,
            frontend,
        }
    }

    fn int8_params(
        rng: &mut StdRng,
        n_w: usize,
        n_out: usize,
        fan_in: usize,
        s_in: f32,
        out: QParams,
        per_tensor: bool,
    ) -> OwnedParams {
        let w: Vec<i8> = (0..n_w).map(|_| rng.random_range(-127..=127)).collect();
        let n_s = if per_tensor { 1 } else { n_out };
        let mut scales = Vec::new();
        let mut mults = Vec::new();
        let mut shifts = Vec::new();
        for _ in 0..n_s {
            let eff = rng.random_range(1.0..2.5) / ((fan_in as f64).sqrt() * 73.0);
            let s_w = (eff * f64::from(out.scale) / f64::from(s_in)) as f32;
            let r =
                Requantizer::from_scale(f64::from(s_in) * f64::from(s_w) / f64::from(out.scale))
                    .unwrap();
            scales.push(s_w);
            mults.push(r.multiplier);
            shifts.push(r.shift);
        }
        let bias: Vec<i32> = (0..n_out).map(|_| rng.random_range(-3000..3000)).collect();
        OwnedParams::Int8 {
            weights: bytes::i8_bytes(&w),
            weight_scales: bytes::f32_le(&scales),
            bias: bytes::i32_le(&bias),
            multipliers: bytes::i32_le(&mults),
            shifts: bytes::i8_bytes(&shifts),
            output: out,
        }
    }

    /// A random int8 baseline with valid quantisation parameters.
    pub(crate) fn random_i8(seed: u64, n_mels: usize, frames: usize, posenc: PosEnc) -> OwnedModel {
        let mut rng = StdRng::seed_from_u64(seed);
        let in_q = QParams {
            scale: 0.03,
            zero_point: 5,
        };
        let (frontend, input) = spec(n_mels, frames, posenc, Some(in_q));
        let mut layers = Vec::new();
        let mut ci = posenc.in_channels();
        let mut s_in = in_q.scale;
        for (b, &co) in CH.iter().enumerate() {
            // block 3 uses a zero point above -128 so the ReLU clamp is exercised
            let zp = if b == 2 { -100 } else { -128 };
            let out = QParams {
                scale: rng.random_range(0.01..0.05),
                zero_point: zp,
            };
            let params = int8_params(&mut rng, co * 9 * ci, co, 9 * ci, s_in, out, false);
            layers.push(OwnedLayer::Conv {
                in_ch: ci as u16,
                out_ch: co as u16,
                params,
            });
            ci = co;
            s_in = out.scale;
        }
        let nf = 8 * (n_mels >> 5) * (frames >> 5);
        let out = QParams {
            scale: 0.1,
            zero_point: 3,
        };
        let params = int8_params(&mut rng, 10 * nf, 10, nf, s_in, out, true);
        layers.push(OwnedLayer::Dense {
            in_features: nf as u16,
            out_features: 10,
            params,
        });
        OwnedModel {
            name: "random-i8".into(),
            classes: classes(10),
            input,
            layers,
            frontend,
        }
    }

    pub(crate) fn random_logmel(seed: u64, n: usize) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-80.0..10.0)).collect()
    }

    #[derive(Default)]
    struct Collect<A> {
        seen: HashMap<(usize, usize, usize), Vec<A>>,
        logits: Vec<A>,
    }
    impl<A: Copy> Observer<A> for Collect<A> {
        fn activation(&mut self, block: usize, frame: usize, mel: usize, ch: &[A]) {
            let old = self.seen.insert((block, frame, mel), ch.to_vec());
            assert!(
                old.is_none(),
                "block {block} frame {frame} mel {mel} reported twice"
            );
        }
        fn logits(&mut self, l: &[A]) {
            self.logits = l.to_vec();
        }
    }

    /// Runs streaming and reference on the same input; returns (streamed logits, reference
    /// logits) after checking every reported activation against the reference tensors.
    fn compare<A: Act>(owned: &OwnedModel, seed: u64, close: impl Fn(A, A) -> bool) {
        let bytes = owned.encode().unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let d = *model.dims();
        let mel = random_logmel(seed, d.mels[0] * d.frames[0]);
        let mut exec = std::boxed::Box::new(Executor::<A>::new());
        let mut obs = Collect::default();
        let mut logits = [A::default(); 10];
        run_logmel(&model, &mut exec, &mel, &mut obs, &mut logits).unwrap();
        let input = encode_segment::<A>(&model, &mel).unwrap();
        let reference = reference_forward(&model, &input).unwrap();
        // the test is only meaningful if activations are spread out, not saturated or all zero
        for (b, t) in reference.iter().enumerate() {
            let distinct = t.iter().filter(|v| **v != t[0]).count();
            assert!(
                distinct * 4 >= t.len(),
                "block {b}: {distinct} of {} differ from the first",
                t.len()
            );
        }
        // every pooled pixel of blocks 2..=5, block-1 frames below 2 * frames[2]
        for b in 1..=N_BLOCKS {
            let (m, t, c) = (d.mels[b], d.frames[b], d.channels[b]);
            let t_seen = if b == 1 { 2 * d.frames[2] } else { t };
            for f in 0..t_seen {
                for k in 0..m {
                    let got = obs
                        .seen
                        .get(&(b, f, k))
                        .unwrap_or_else(|| panic!("missing {b} {f} {k}"));
                    let want = &reference[b - 1][(k * t + f) * c..(k * t + f + 1) * c];
                    for (g, w) in got.iter().zip(want) {
                        assert!(close(*g, *w), "block {b} frame {f} mel {k}: {g:?} vs {w:?}");
                    }
                }
            }
        }
        assert_eq!(obs.logits.len(), 10);
        for (g, w) in logits.iter().zip(&reference[N_BLOCKS]) {
            assert!(
                close(*g, *w),
                "logits {logits:?} vs {:?}",
                reference[N_BLOCKS]
            );
        }
        assert_eq!(obs.logits, logits.to_vec());
    }

    fn close_f32(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn int8_streaming_equals_reference_small() {
        for (seed, posenc) in [
            (1, PosEnc::None),
            (2, PosEnc::Coord),
            (3, PosEnc::Sinusoidal),
        ] {
            compare::<i8>(&random_i8(seed, 32, 41, posenc), seed + 10, |a, b| a == b);
        }
    }

    #[test]
    fn int8_streaming_equals_reference_full_size() {
        compare::<i8>(&random_i8(4, 128, 130, PosEnc::None), 11, |a, b| a == b);
    }

    #[test]
    fn f32_streaming_matches_reference() {
        compare::<f32>(&random_f32(5, 32, 40, PosEnc::Coord), 12, close_f32);
        compare::<f32>(&random_f32(6, 128, 130, PosEnc::None), 13, close_f32);
    }

    #[test]
    fn stream_order_errors() {
        let owned = random_i8(7, 32, 40, PosEnc::None);
        let bytes = owned.encode().unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut f = Executor::<f32>::new();
        assert_eq!(
            f.push_frame(&model, &[0.0; 32], &mut ()),
            Err(Error::ModelArchitectureUnsupported)
        );
        let mut e = Executor::<i8>::new();
        assert_eq!(
            e.push_frame(&model, &[0.0; 31], &mut ()),
            Err(Error::ShapeMismatch)
        );
        assert_eq!(
            e.push_frame(&model, &[f32::NAN; 32], &mut ()),
            Err(Error::InputNotFinite)
        );
        e.reset();
        for _ in 0..39 {
            e.push_frame(&model, &[0.0; 32], &mut ()).unwrap();
        }
        assert_eq!(e.logits(&model), Err(Error::InputTooShort));
        e.push_frame(&model, &[0.0; 32], &mut ()).unwrap();
        assert_eq!(e.logits(&model).map(|l| l.len()), Ok(10));
        assert_eq!(
            e.push_frame(&model, &[0.0; 32], &mut ()),
            Err(Error::StreamState)
        );
    }
}
