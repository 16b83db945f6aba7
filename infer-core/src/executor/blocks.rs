//! Blocks 1 and 2 of the streaming executor: block 2 runs up to four (`B2_FRAMES`) conv frames per
//! pass, one tile per 2x2 pooling window, and block 1 is computed on demand, mel by mel, for
//! the `nf + 2` block-1 frames the pass reads (its first two and last two frames are shared with
//! the neighbouring passes, so block 1 runs `(nf + 2) / nf` times).

use super::{Act, C1, Executor, IN_ROW, INPUT_RING, Observer, P1_FRAMES, P1_MELS};
use crate::conv::{Conv3x3, Taps};
use crate::conv_tile::wino::Window;
use crate::conv_tile::{TILE, TilePool};
use crate::model::{Dims, Model};

/// Windows per block-1 kernel pass.
const GROUP: usize = 4;
// `sa[..GROUP]` below slices a `[_; P1_FRAMES]` row: checked at compile time, not at run time.
const _: () = assert!(GROUP <= P1_FRAMES);

/// One block-2 pass as block 1 sees it: its first frame `u`, frame count `nf`, whether block
/// 1's layer takes the checked fast path, and a scratch group (allocated once per pass).
struct Pass<'s, A> {
    u: usize,
    nf: usize,
    fast: bool,
    scratch: &'s mut [[A; C1]; GROUP],
}

/// Which block-2 windows one call runs: pass at frame `u` with `nf` frames, pooled mels
/// `j0..j0 + jn`.
#[derive(Debug, Clone, Copy)]
struct Block2At {
    u: usize,
    nf: usize,
    j0: usize,
    jn: usize,
}

/// Where the block-1 windows of one pass lie: window `w` is mel `k + w / frames`, pooled frame
/// `u - 1 + w % frames`, for `w < windows`; `m0`, `t0` bound the input and `t1` block 1's
/// frames.
#[derive(Debug, Clone, Copy)]
pub struct Block1Windows {
    k: usize,
    u: usize,
    frames: usize,
    windows: usize,
    m0: usize,
    t0: usize,
    t1: usize,
    fast: bool,
}

impl Block1Windows {
    /// Windows in the pass.
    pub fn windows(&self) -> usize {
        self.windows
    }

    /// [`Act::block1_fast`] of block 1's layer, checked once per block-2 pass.
    pub fn fast(&self) -> bool {
        self.fast
    }

    /// Window `w`'s 4x4 input values `[mel][frame]` mapped by `f`, 0 in the padding and for a
    /// window outside the pass or block 1.
    #[inline]
    pub fn values<A: Copy>(
        &self,
        input: &[[A; IN_ROW]; INPUT_RING],
        w: usize,
        f: impl Fn(A) -> i32,
    ) -> [[i32; 4]; 4] {
        let mut v = [[0i32; 4]; 4];
        let frames = self.frames.max(1);
        let (d, fr) = (w / frames, w % frames);
        let p = (self.u + fr).wrapping_sub(1);
        if w >= self.windows || p >= self.t1 {
            return v;
        }
        let m = (2 * (self.k + d)).wrapping_sub(1);
        for jj in 0..4 {
            let tt = (2 * p + jj).wrapping_sub(1);
            let Some(row) = input.get(tt % INPUT_RING).filter(|_| tt < self.t0) else {
                continue;
            };
            for (i, vi) in v.iter_mut().enumerate() {
                let mm = m.wrapping_add(i);
                if let (true, Some(&x), Some(slot)) = (mm < self.m0, row.get(mm), vi.get_mut(jj)) {
                    *slot = f(x);
                }
            }
        }
        v
    }
}

impl<A: Act> Executor<A> {
    /// Block 2's conv output frames `u..u + nf` (`u` even, `nf` 2 or 4), pooled into
    /// `acc2[0..nf / 2]` (one tile per 2x2 pooling window). Block 1 is computed on demand,
    /// frames `u-1..=u+nf` per mel.
    pub(super) fn block2_frames<O: Observer<A>>(
        &mut self,
        model: &Model<'_>,
        dims: &Dims,
        u: usize,
        nf: usize,
        obs: &mut O,
        lent: &mut [f32],
    ) {
        let (Some(l1), Some(l2)) = (model.conv(0), model.conv(1)) else {
            return;
        };
        let m1 = dims.mels[1];
        let m2 = dims.mels[2];
        // block-1 mels computed so far for this pass
        let mut next_mel = 0;
        let fast = A::block1_fast(l1);
        let mut scratch = [[A::default(); C1]; GROUP];
        // pooled mels per step: two (four windows per call) where the windows' own kernel pays
        let step = if A::windows_pay(l2) && P1_MELS >= 6 {
            2
        } else {
            1
        };
        let mut j0 = 0;
        while j0 < m2 {
            let jn = (m2 - j0).min(step);
            // conv mels 2j, 2j+1 read block-1 mels 2j-1..=2j+2
            let end = (2 * (j0 + jn) + 1).min(m1);
            while next_mel < end {
                let n = (end - next_mel).min(2);
                let pass = Pass {
                    u,
                    nf,
                    fast,
                    scratch: &mut scratch,
                };
                self.block1_mels(l1, dims, pass, next_mel, n, obs);
                next_mel += n;
            }
            if step == 2 {
                let at = Block2At { u, nf, j0, jn };
                self.block2_windows(l2, dims, at, obs, lent);
            } else {
                self.block2_tiles(l2, dims, u, nf, j0, obs);
            }
            j0 += jn;
        }
    }

    /// Block 2's pooling windows at pooled mel `j`, frame pairs `0..nf / 2` of the pass, one
    /// tile each. Kept beside [`Executor::block2_windows`] (the same window geometry): routing
    /// the direct kernel through windows and `window_taps` cost the live firmware 0.2 % more CNN
    /// instructions, 840 B more stack and 168 B of flash (measured at stop 32).
    fn block2_tiles<O: Observer<A>>(
        &mut self,
        l2: &Conv3x3<'_>,
        dims: &Dims,
        u: usize,
        nf: usize,
        j: usize,
        obs: &mut O,
    ) {
        let (m1, t1, c1) = (dims.mels[1], dims.frames[1], dims.channels[1]);
        let c2 = dims.channels[2];
        for q in 0..nf / 2 {
            let mut taps: [Taps<'_, A>; TILE] = [[None; 9]; TILE];
            for (px, px_taps) in taps.iter_mut().enumerate() {
                let (k, t) = (2 * j + px / 2, u + 2 * q + px % 2);
                for (i, tap) in px_taps.iter_mut().enumerate() {
                    let (kk, pp) = ((k + i / 3).wrapping_sub(1), (t + i % 3).wrapping_sub(1));
                    if kk >= m1 || pp >= t1 {
                        continue;
                    }
                    // frame slot: pp - (u - 1)
                    *tap = self
                        .p1
                        .as_chunks::<P1_FRAMES>()
                        .0
                        .get(kk % P1_MELS)
                        .and_then(|s| s.get(t - u + i % 3))
                        .and_then(|r| r.get(..c1));
                }
            }
            let Some(dst) = self
                .acc2
                .get_mut(q)
                .and_then(|r| r.get_mut(j * c2..(j + 1) * c2))
            else {
                continue;
            };
            A::conv_pool(l2, &taps, TilePool::Quad, dst, &mut []);
            obs.activation(2, u / 2 + q, j, dst);
        }
    }

    /// Block 2's pooling windows at pooled mels `j0..j0 + jn` (`jn` 1 or 2), frame pairs
    /// `0..nf / 2` of the pass, in one call of [`Act::conv_pool_windows`] (up to four windows;
    /// block-1 mels `2 j0 - 1..=2 j0 + 2 jn` are in the ring).
    fn block2_windows<O: Observer<A>>(
        &mut self,
        l2: &Conv3x3<'_>,
        dims: &Dims,
        at: Block2At,
        obs: &mut O,
        lent: &mut [f32],
    ) {
        let Block2At { u, nf, j0, jn } = at;
        let (m1, t1, c1) = (dims.mels[1], dims.frames[1], dims.channels[1]);
        let c2 = dims.channels[2];
        let h = (nf / 2).min(self.acc2.len());
        // window `d * h + q`: pooled mel j0 + d, frame pair q
        let mut wins: [Window<'_, A>; 4] = [[None; 16]; 4];
        for (w, win) in wins.iter_mut().enumerate().take(jn * h) {
            let (j, q) = (j0 + w / h.max(1), w % h.max(1));
            for (k, px) in win.iter_mut().enumerate() {
                let (a, b) = (k / 4, k % 4);
                let (kk, pp) = ((2 * j + a).wrapping_sub(1), (u + 2 * q + b).wrapping_sub(1));
                if kk >= m1 || pp >= t1 {
                    continue;
                }
                *px = self
                    .p1
                    .as_chunks::<P1_FRAMES>()
                    .0
                    .get(kk % P1_MELS)
                    .and_then(|s| s.get(2 * q + b))
                    .and_then(|r| r.get(..c1));
            }
        }
        let mut outs: [&mut [A]; 4] = Default::default();
        for (q, row) in self.acc2.iter_mut().enumerate().take(h) {
            let Some(row) = row.get_mut(j0 * c2..(j0 + jn) * c2) else {
                return;
            };
            for (d, chunk) in row.chunks_mut(c2.max(1)).enumerate() {
                if let Some(o) = outs.get_mut(d * h + q) {
                    *o = chunk;
                }
            }
        }
        let n = jn * h;
        A::conv_pool_windows(
            l2,
            wins.get(..n).unwrap_or(&[]),
            outs.get_mut(..n).unwrap_or(&mut []),
            lent,
        );
        for (w, dst) in outs.iter().enumerate().take(n) {
            obs.activation(2, u / 2 + w % h.max(1), j0 + w / h.max(1), dst);
        }
    }

    /// Block 1's pooled output at mels `k..k + n` (`n` 1 or 2) for frames `u-1..=u+nf` into
    /// mel-ring slots `(k + d) % P1_MELS`: one input channel runs all the windows per pass over
    /// the channels ([`Act::conv_pool_patches`], four windows a group; a group that would
    /// straddle two mels goes through a scratch buffer), anything else mel by mel.
    fn block1_mels<O: Observer<A>>(
        &mut self,
        l1: &Conv3x3<'_>,
        dims: &Dims,
        pass: Pass<'_, A>,
        k: usize,
        n: usize,
        obs: &mut O,
    ) {
        let Pass {
            u,
            nf,
            fast,
            scratch,
        } = pass;
        let (m0, t0, c0) = (dims.mels[0], dims.frames[0], dims.channels[0]);
        let (t1, c1) = (dims.frames[1], dims.channels[1]);
        let frames = (nf + 2).min(P1_FRAMES);
        if c0 == 1 && (n == 1 || n == 2) {
            // window `w` of the pass: mel k + w / frames, frame slot w % frames
            let geo = Block1Windows {
                k,
                u,
                frames,
                windows: n * frames,
                m0,
                t0,
                t1,
                fast,
            };
            let groups = geo.windows.div_ceil(GROUP);
            let done = self.block1_groups(l1, &geo, groups, n, scratch);
            if done {
                for d in 0..n {
                    let Some(slot) = self.p1.as_chunks::<P1_FRAMES>().0.get((k + d) % P1_MELS)
                    else {
                        continue;
                    };
                    for (f, dst) in slot.iter().enumerate().take(frames) {
                        let p = (u + f).wrapping_sub(1);
                        if p < t1 && (1..=nf).contains(&f) {
                            obs.activation(1, p, k + d, dst.get(..c1).unwrap_or(&[]));
                        }
                    }
                }
                return;
            }
        }
        for d in 0..n {
            self.block1_mel(l1, dims, u, frames, k + d, obs);
        }
    }

    /// Runs `groups` groups of four windows (window `w` = mel slot `k + w / frames`, frame
    /// `w % frames`) and stores them in the mel ring; `false` if there is no fast path.
    fn block1_groups(
        &mut self,
        l1: &Conv3x3<'_>,
        geo: &Block1Windows,
        groups: usize,
        n: usize,
        scratch: &mut [[A; C1]; GROUP],
    ) -> bool {
        let (a, b) = (geo.k % P1_MELS, (geo.k + 1) % P1_MELS);
        let Ok([sa, sb]) = self
            .p1
            .as_chunks_mut::<P1_FRAMES>()
            .0
            .get_disjoint_mut([a, b])
        else {
            return false;
        };
        let input = &self.input;
        let run = |out: &mut [&mut [[A; C1]; GROUP]]| {
            let out = out.get_mut(..groups).unwrap_or(&mut []);
            A::conv_pool_block1(l1, input, geo, out)
        };
        match geo.frames {
            // two frame pairs: one group per mel
            4 => {
                let (Ok(ga), Ok(gb)) = (
                    <&mut [[A; C1]; GROUP]>::try_from(&mut sa[..GROUP]),
                    <&mut [[A; C1]; GROUP]>::try_from(&mut sb[..GROUP]),
                ) else {
                    return false;
                };
                run(&mut [ga, gb])
            }
            // six frames: mel a's 0..4, then a's 4..6 with b's 0..2 (scratch), then b's 2..6
            6 => {
                let (a_lo, a_hi) = sa.split_at_mut(GROUP);
                let (b_lo, b_hi) = sb.split_at_mut(2);
                let (Ok(ga), Ok(gb)) = (
                    <&mut [[A; C1]; GROUP]>::try_from(a_lo),
                    <&mut [[A; C1]; GROUP]>::try_from(b_hi),
                ) else {
                    return false;
                };
                let ok = run(&mut [ga, scratch, gb]);
                if ok {
                    let [s0, s1, s2, s3] = &*scratch;
                    if let [x, y] = a_hi {
                        *x = *s0;
                        *y = *s1;
                    }
                    // with one mel, the scratch's second half is padding, and slot b belongs to
                    // a mel still in use
                    if let ([x, y], 2) = (b_lo, n) {
                        *x = *s2;
                        *y = *s3;
                    }
                }
                ok
            }
            _ => false,
        }
    }

    /// Block 1's pooled output at mel `k` for frames `u-1..u-1+frames` into mel-ring slot
    /// `k % P1_MELS`, one tile per window.
    fn block1_mel<O: Observer<A>>(
        &mut self,
        l1: &Conv3x3<'_>,
        dims: &Dims,
        u: usize,
        frames: usize,
        k: usize,
        obs: &mut O,
    ) {
        let (m0, t0, c0) = (dims.mels[0], dims.frames[0], dims.channels[0]);
        let (t1, c1) = (dims.frames[1], dims.channels[1]);
        let Some(slot) = self.p1.as_chunks_mut::<P1_FRAMES>().0.get_mut(k % P1_MELS) else {
            return;
        };
        for (f, dst) in slot.iter_mut().enumerate().take(frames) {
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
            if (1..frames - 1).contains(&f) {
                obs.activation(1, p, k, dst);
            }
        }
    }
}
