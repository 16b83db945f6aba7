//! The three-row ring of a block fed row by row (blocks 3..=5 of the streaming executor).

use super::{Act, C2, Observer};
use crate::conv::{Conv3x3, Taps};
use crate::conv_tile::{TILE, TilePool};
use crate::model::Dims;
use crate::pool;

/// The three-row ring and pooling accumulator of a block fed row by row (blocks 3..=5).
#[derive(Debug, Clone)]
pub(super) struct RingBlock<A, const ROW: usize, const ACC: usize> {
    pub(super) rows: [[A; ROW]; 3],
    pub(super) acc: [A; ACC],
    rows_in: usize,
    pub(super) next_out: usize,
}

impl<A: Act, const ROW: usize, const ACC: usize> RingBlock<A, ROW, ACC> {
    pub(super) fn new() -> Self {
        Self {
            rows: [[A::default(); ROW]; 3],
            acc: [A::default(); ACC],
            rows_in: 0,
            next_out: 0,
        }
    }

    pub(super) fn reset(&mut self) {
        self.rows_in = 0;
        self.next_out = 0;
    }

    /// Moves the counters back by `rows` (a multiple of 6: ring slot and frame parity stay).
    pub(super) fn rebase(&mut self, rows: usize) {
        self.rows_in -= rows;
        self.next_out -= rows;
    }

    pub(super) fn push_row(&mut self, row: &[A]) {
        if let Some(slot) = self.rows.get_mut(self.rows_in % 3) {
            for (d, &s) in slot.iter_mut().zip(row) {
                *d = s;
            }
        }
        self.rows_in += 1;
    }

    /// Computes the next conv output frame if its input rows are present; returns the index of
    /// the pooled row completed in `acc`, if any.
    pub(super) fn step<O: Observer<A>>(
        &mut self,
        layer: &Conv3x3<'_>,
        block: usize,
        dims: &Dims,
        obs: &mut O,
    ) -> Step {
        // blocks 3..=5 (the executor's): every one has an input tensor
        let (Some((m_in, r_in, c_in)), Some((m_out, t_out, c_out))) =
            (dims.at(block.wrapping_sub(1)), dims.at(block))
        else {
            return Step::Done;
        };
        let n_conv = 2 * t_out;
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

pub(super) enum Step {
    Waiting,
    Done,
    Progress,
    Row(usize),
}
