//! Continuous mode: frames without end ([`Executor::set_continuous`]), the counters' periodic
//! rebase ([`REBASE_FRAMES`]), and the dense layer over the latest block-5 columns.

use super::{Act, B2_FRAMES, Executor, INPUT_RING, Observer};
use crate::Error;
use crate::model::{Dims, Model, N_BLOCKS};

/// Input frames after which a continuous stream's counters are moved back (see
/// [`Executor::set_continuous`]): a multiple of the input ring (14), of 32 (one block-5 column,
/// so every block's frame parity and block 2's four-frame passes stay aligned) and of 3 times
/// 16 (the three-row rings of blocks 3..=5 at their resolutions).
pub const REBASE_FRAMES: usize = 672;
const _: () = assert!(
    REBASE_FRAMES.is_multiple_of(INPUT_RING)
        && REBASE_FRAMES.is_multiple_of(1 << N_BLOCKS)
        && (REBASE_FRAMES >> 2).is_multiple_of(3 * B2_FRAMES / 2)
        && (REBASE_FRAMES >> 3).is_multiple_of(6)
        && (REBASE_FRAMES >> 4).is_multiple_of(6)
);
/// The frame count a continuous stream's blocks see: larger than any counter reaches between
/// two rebases, so no end padding is ever applied.
const ENDLESS: usize = 1 << 24;

impl<A: Act> Executor<A> {
    /// Segment mode (`false`, the default: one segment of the model's frames, zero padding at
    /// both ends, then [`Executor::logits`]) or continuous mode (`true`): frames without end,
    /// zero padding only before the first; every block keeps its rows, so each frame adds only
    /// the new columns, and after each new block-5 column (every `2^5 = 32` frames, once the
    /// dense layer's `frames[5]` columns are there) the dense layer runs on the latest
    /// columns and [`Observer::logits`] receives them. The frame indices the observer sees
    /// restart every [`REBASE_FRAMES`] frames. Continuous mode needs a model without
    /// positional encoding (it depends on the frame's place in the segment):
    /// [`Executor::push_frame`] rejects others with [`Error::ClassifierModelCannotStream`].
    /// Resets the executor.
    pub fn set_continuous(&mut self, continuous: bool) {
        self.continuous = continuous;
        self.reset();
    }

    /// Whether the executor is in continuous mode.
    pub fn is_continuous(&self) -> bool {
        self.continuous
    }

    /// The sizes the blocks run with: the model's, or in continuous mode frame counts no stream
    /// reaches (so no block applies end padding).
    pub(super) fn run_dims(&self, model: &Model<'_>) -> Dims {
        let mut dims = *model.dims();
        if self.continuous {
            for (b, f) in dims.frames.iter_mut().enumerate() {
                *f = ENDLESS >> b;
            }
        }
        dims
    }

    /// Continuous mode: once block 5 has consumed [`REBASE_FRAMES`] frames' worth of rows (and
    /// two more), every counter moves back by that many frames at its own resolution (every
    /// ring index and parity stays the same), so they stay bounded however long the stream
    /// runs.
    pub(super) fn rebase(&mut self) {
        if !self.continuous || self.b5.next_out < (REBASE_FRAMES >> 4) + 2 {
            return;
        }
        // each block's counters are at least twice the next one's at the next resolution, so
        // none goes below 2: no block's next frame becomes frame 0, whose upper neighbour is
        // the stream's zero padding
        self.frames_in -= REBASE_FRAMES;
        self.next_u -= REBASE_FRAMES >> 1;
        self.b3.rebase(REBASE_FRAMES >> 2);
        self.b4.rebase(REBASE_FRAMES >> 3);
        self.b5.rebase(REBASE_FRAMES >> 4);
    }

    /// Continuous mode's [`Executor::store_features`]: shifts each mel's columns one frame back,
    /// appends block 5's new row, and runs the dense layer once `t5` rows came.
    pub(super) fn store_column<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        (m5, t5, c5): (usize, usize, usize),
        obs: &mut O,
    ) {
        for m in 0..m5 {
            let Some(row) = self.features.get_mut(m * t5 * c5..(m + 1) * t5 * c5) else {
                continue;
            };
            // one frame back: a plain forward copy (`copy_within` would link `memmove`, 1.5 KiB
            // of flash on the device)
            for k in c5..row.len() {
                if let Some(&v) = row.get(k)
                    && let Some(d) = row.get_mut(k - c5)
                {
                    *d = v;
                }
            }
            let (Some(dst), Some(src)) = (
                row.get_mut((t5 - 1) * c5..),
                self.b5.acc.get(m * c5..(m + 1) * c5),
            ) else {
                continue;
            };
            dst.copy_from_slice(src);
        }
        self.rows5 = (self.rows5 + 1).min(t5);
        if self.rows5 == t5 {
            let n = m5 * t5 * c5;
            let n_classes = model.classes().len();
            if let (Some(x), Some(y)) = (self.features.get(..n), self.logits.get_mut(..n_classes)) {
                A::dense(model.dense(), x, y);
                obs.logits(y);
            }
        }
    }

    /// Continuous mode: the logits of the latest dense pass (`[n_classes]`), once the first
    /// `frames[5]` block-5 columns are complete.
    ///
    /// # Errors
    /// [`Error::StreamState`] in segment mode, [`Error::InputTooShort`] before the first.
    pub fn latest_logits(&self, model: &Model<'_>) -> Result<&[A], Error> {
        Self::check(model)?;
        if !self.continuous {
            return Err(Error::StreamState);
        }
        if self.rows5 < model.dims().frames[N_BLOCKS] {
            return Err(Error::InputTooShort);
        }
        self.logits
            .get(..model.classes().len())
            .ok_or(Error::ShapeMismatch)
    }
}
