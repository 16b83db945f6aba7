//! The radix-4 FFT's butterfly loops ([`crate::rfft`]) for the Cortex-M4F: each complex value
//! moves as one `vldr.64` / `vstr.64` (or `vstmia`) instead of two single-precision loads or
//! stores, and the loop runs in the `asm!` block. The arithmetic is the portable code's, operation
//! for operation (`vmul` then `vmla`/`vmls`, which round the product before the addition, as the
//! portable `a * b + c` does; no fused multiply-add), so the bits are the same: the portable
//! loops in `rfft.rs` are the twins, and the firmware's log-mel checksums against the host's
//! check the pair end to end.
//!
//! Register use: the butterfly's inputs `a, b, c, d` in `d0..d3` (`s0..s7`), the twiddles
//! `(cos, sin)` of `W^j, W^2j, W^3j` in `s8..s13`, temporaries `s14..s27`; every block saves
//! and restores `s0..s27` itself (`vpush`/`vpop`: stable Rust cannot name single-precision
//! registers as `asm!` operands on `thumbv7em-none-eabihf`).

/// The butterfly on `d0..d3` with twiddles `s8..s13` (see [`crate::rfft`]'s `butterfly` and
/// `mul_conj`): `d0..d3` end up holding the four outputs.
macro_rules! butterfly {
    () => {
        concat!(
            // bw = b W, cw = c W^2, dw = d W^3 with W = (cos, -sin)
            "vmul.f32 s14, s2, s8\n",
            "vmla.f32 s14, s3, s9\n",
            "vmul.f32 s15, s3, s8\n",
            "vmls.f32 s15, s2, s9\n",
            "vmul.f32 s16, s4, s10\n",
            "vmla.f32 s16, s5, s11\n",
            "vmul.f32 s17, s5, s10\n",
            "vmls.f32 s17, s4, s11\n",
            "vmul.f32 s18, s6, s12\n",
            "vmla.f32 s18, s7, s13\n",
            "vmul.f32 s19, s7, s12\n",
            "vmls.f32 s19, s6, s13\n",
            // t0 = a + cw, t1 = a - cw, t2 = bw + dw, t3 = bw - dw
            "vadd.f32 s20, s0, s16\n",
            "vadd.f32 s21, s1, s17\n",
            "vsub.f32 s22, s0, s16\n",
            "vsub.f32 s23, s1, s17\n",
            "vadd.f32 s24, s14, s18\n",
            "vadd.f32 s25, s15, s19\n",
            "vsub.f32 s26, s14, s18\n",
            "vsub.f32 s27, s15, s19\n",
            // a = t0 + t2, c = t0 - t2, b = t1 - i t3, d = t1 + i t3
            "vadd.f32 s0, s20, s24\n",
            "vadd.f32 s1, s21, s25\n",
            "vsub.f32 s4, s20, s24\n",
            "vsub.f32 s5, s21, s25\n",
            "vadd.f32 s2, s22, s27\n",
            "vsub.f32 s3, s23, s26\n",
            "vsub.f32 s6, s22, s27\n",
            "vadd.f32 s7, s23, s26\n",
        )
    };
}

/// One stage of groups of `L` points (`Q = L / 4`), butterfly `j` of every group, twiddles
/// `w = [cos, sin]` of `W^j, W^2j, W^3j`: the same as `rfft::stage`'s inner loop.
macro_rules! groups_fn {
    ($name:ident, $q:literal, $q8:literal, $l8:literal) => {
        #[doc = concat!("Butterfly `j` of every group of ", stringify!($q), " x 4 points.")]
        #[inline]
        pub fn $name(z: &mut [[f32; 2]; 1024], j: usize, w: [[f32; 2]; 3]) {
            if j >= $q {
                return;
            }
            let groups = 8192 / $l8;
            let a = z.as_mut_ptr().wrapping_add(j).cast::<f32>();
            let c = a.wrapping_add($q8 / 2); // 2Q values = 2 Q8 bytes
            let w: [f32; 6] = [w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1]];
            // SAFETY: group g's four points are z[g L + j + k Q] (k = 0..4), j < Q, g < 1024 / L,
            // all inside the 1024 values `z` borrows mutably; `a` and `c` (= a + 2Q) step by L
            // values, each access is 8 bytes at a 4-byte-aligned address (vldr/vstr.64 need 4).
            // s0-s27 are saved on the stack and restored (stable Rust cannot name
            // single-precision registers as asm operands on this target), so no register the
            // compiler uses changes; the twiddles are read from `w`; flags clobbered by `subs`.
            unsafe {
                core::arch::asm!(
                    "vpush {{s0-s27}}",
                    "vldmia {w}, {{s8-s13}}",
                    "2:",
                    "vldr d0, [{a}]",
                    concat!("vldr d1, [{a}, #", stringify!($q8), "]"),
                    "vldr d2, [{c}]",
                    concat!("vldr d3, [{c}, #", stringify!($q8), "]"),
                    butterfly!(),
                    "vstr d0, [{a}]",
                    concat!("vstr d1, [{a}, #", stringify!($q8), "]"),
                    "vstr d2, [{c}]",
                    concat!("vstr d3, [{c}, #", stringify!($q8), "]"),
                    concat!("add {a}, {a}, #", stringify!($l8)),
                    concat!("add {c}, {c}, #", stringify!($l8)),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    "vpop {{s0-s27}}",
                    a = inout(reg) a => _,
                    c = inout(reg) c => _,
                    n = inout(reg) groups => _,
                    w = in(reg) w.as_ptr(),

                );
            }
        }
    };
}

groups_fn!(groups16, 4, 32, 128);
groups_fn!(groups64, 16, 128, 512);
groups_fn!(groups256, 64, 512, 2048);

/// The last stage (one group of 1024 points) as `rfft::last_stage` computes it: per butterfly
/// `j` (0..256) `W^j = (cos_q[2j], cos_q[512 - 2j])` from the quarter-wave table, `W^2j` and
/// `W^3j` by the same products as `rfft::twiddles`.
#[inline]
pub fn last_stage(z: &mut [[f32; 2]; 1024], cos_q: &[f32; 513]) {
    let a = z.as_mut_ptr().cast::<f32>();
    let tc = cos_q.as_ptr();
    let ts = cos_q.as_ptr().wrapping_add(512);
    // SAFETY: butterfly j reads and writes z[j + 256 k] (k = 0..4, j < 256) through a..d, which
    // start at z[0], z[256], z[512], z[768] and step by one value (8 bytes, `vstmia` writeback)
    // for 256 iterations; the table reads are cos_q[2j] and cos_q[512 - 2j], inside its 513
    // values. Registers as in `groups_fn!`, plus s8-s13 computed here.
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s27}}",
            "2:",
            "vldr s8, [{tc}]",
            "vldr s9, [{ts}]",
            "add {tc}, {tc}, #8",
            "sub {ts}, {ts}, #8",
            // W^2j = (c c - s s, s c + c s), W^3j = (c c2 - s s2, s c2 + c s2)
            "vmul.f32 s10, s8, s8",
            "vmls.f32 s10, s9, s9",
            "vmul.f32 s11, s9, s8",
            "vmla.f32 s11, s8, s9",
            "vmul.f32 s12, s8, s10",
            "vmls.f32 s12, s9, s11",
            "vmul.f32 s13, s9, s10",
            "vmla.f32 s13, s8, s11",
            "vldr d0, [{a}]",
            "vldr d1, [{b}]",
            "vldr d2, [{c}]",
            "vldr d3, [{d}]",
            butterfly!(),
            "vstmia {a}!, {{d0}}",
            "vstmia {b}!, {{d1}}",
            "vstmia {c}!, {{d2}}",
            "vstmia {d}!, {{d3}}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vpop {{s0-s27}}",
            a = inout(reg) a => _,
            b = inout(reg) a.wrapping_add(512) => _,
            c = inout(reg) a.wrapping_add(1024) => _,
            d = inout(reg) a.wrapping_add(1536) => _,
            tc = inout(reg) tc => _,
            ts = inout(reg) ts => _,
            n = inout(reg) 256usize => _,

        );
    }
}

/// The FFT's first pass as `rfft::load_ring_windowed_first_stage` computes it, for a ring whose
/// oldest sample is at a multiple of 512 (the default front end's case: `pos` starts at 1024
/// and moves by the hop, 512): complex point `i = r + 256 t` of the frame is pair `r` of the
/// ring's 256-pair block `(pos / 512 + t) % 4`, so the four inputs of each butterfly come from
/// four sequential streams, and so do their window pairs (`(w[2i], w[2i+1])`: `HANN_HALF[2r..]`
/// for `t = 0`, `HANN_HALF[512 + 2r..]` for `t = 1`, and for `t = 2, 3` the pairs ending at
/// `HANN_HALF[1024 - 2r]` and `HANN_HALF[512 - 2r]`, read backwards). The loop runs over `r`
/// and stores group `g = rev4(4 r) / 4` (the base-4 digit reversal of `r`'s four digits).
///
/// Returns `false` (nothing written) unless `pos` is a multiple of 512.
#[inline]
pub fn first_stage_blocks(
    ring: &[f32; 2048],
    pos: usize,
    hann_half: &[f32; 1025],
    z: &mut [f32; 2048],
) -> bool {
    if !pos.is_multiple_of(512) {
        return false;
    }
    let k = pos / 512;
    let block = |t: usize| ring.as_ptr().wrapping_add(512 * ((k + t) % 4));
    let h = hann_half.as_ptr();
    // SAFETY: the ring streams read pairs r (r < 256) of the 512-value blocks, inside `ring`;
    // the window streams read HANN_HALF[2r..2r + 2], [512 + 2r..514 + 2r] (ascending, at most
    // index 1023) and, with `vldmdb` from HANN_HALF[1025] and [513], [1023 - 2r..1025 - 2r]
    // and [511 - 2r..513 - 2r] (at least index 1 and 1), inside the table's 1025 values; the
    // store writes z[32 g .. 32 g + 32] bytes / 4 with g < 256, inside `z`. s0-s31 are saved
    // and restored (see the module docs); every core register used is an operand; the stack is
    // used only by vpush/vpop.
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s31}}",
            "2:",
            "vldmia r0!, {{d0}}",
            "vldmia r1!, {{d1}}",
            "vldmia r2!, {{d2}}",
            "vldmia r3!, {{d3}}",
            "vldmia r4!, {{d4}}",
            "vldmia r5!, {{d5}}",
            "vldmdb r8!, {{d6}}",
            "vldmdb r9!, {{d7}}",
            // windowed: a = (s16, s17), b = (s18, s19), c = (s20, s21), d = (s22, s23)
            "vmul.f32 s16, s0, s8",
            "vmul.f32 s17, s1, s9",
            "vmul.f32 s18, s2, s10",
            "vmul.f32 s19, s3, s11",
            "vmul.f32 s20, s4, s13",
            "vmul.f32 s21, s5, s12",
            "vmul.f32 s22, s6, s15",
            "vmul.f32 s23, s7, s14",
            // t0 = a + c, t1 = a - c, t2 = b + d, t3 = b - d
            "vadd.f32 s24, s16, s20",
            "vadd.f32 s25, s17, s21",
            "vsub.f32 s26, s16, s20",
            "vsub.f32 s27, s17, s21",
            "vadd.f32 s28, s18, s22",
            "vadd.f32 s29, s19, s23",
            "vsub.f32 s30, s18, s22",
            "vsub.f32 s31, s19, s23",
            // a = t0 + t2, c = t0 - t2, b = t1 - i t3, d = t1 + i t3
            "vadd.f32 s0, s24, s28",
            "vadd.f32 s1, s25, s29",
            "vsub.f32 s4, s24, s28",
            "vsub.f32 s5, s25, s29",
            "vadd.f32 s2, s26, s31",
            "vsub.f32 s3, s27, s30",
            "vsub.f32 s6, s26, s31",
            "vadd.f32 s7, s27, s30",
            // g = rev4 of r's four base-4 digits: bit-reverse 8 bits, swap bits in each pair
            "rbit r11, r10",
            "lsr r11, r11, #24",
            "and lr, r11, #0x55",
            "lsr r11, r11, #1",
            "and r11, r11, #0x55",
            "orr r11, r11, lr, lsl #1",
            "add r11, r12, r11, lsl #5",
            "vstmia r11, {{d0-d3}}",
            "add r10, r10, #1",
            "cmp r10, #256",
            "bne 2b",
            "vpop {{s0-s31}}",
            inout("r0") block(0) => _,
            inout("r1") block(1) => _,
            inout("r2") block(2) => _,
            inout("r3") block(3) => _,
            inout("r4") h => _,
            inout("r5") h.wrapping_add(512) => _,
            inout("r8") h.wrapping_add(1025) => _,
            inout("r9") h.wrapping_add(513) => _,
            inout("r10") 0usize => _,
            out("r11") _,
            in("r12") z.as_mut_ptr(),
            out("lr") _,
        );
    }
    true
}

/// The real split fused with the power, `rfft::split_power_folded`'s loop for `k` in `1..512`:
/// slot `k` (`z[k]`, ascending) and slot `1024 - k` (descending) in, `(4 |X[k]|^2, 4 |X[1024 -
/// k]|^2)` out in slot `k`, `(cos, sin)` of `W^k` from `cos_q[k]` (ascending) and `cos_q[512 -
/// k]` (descending). `k = 0` and `k = 512` stay in the portable code.
#[inline]
pub fn split_power_pairs(z: &mut [[f32; 2]; 1024], cos_q: &[f32; 513]) {
    let pa = z.as_mut_ptr().wrapping_add(1).cast::<f32>();
    let pb = z.as_mut_ptr().wrapping_add(1024).cast::<f32>();
    // SAFETY: 511 iterations; `pa` reads and writes slots 1..512 (ascending, `vstmia`
    // writeback), `pb` reads slots 1023 down to 513 (`vldmdb` from one past slot 1023), the
    // table reads cos_q[1..512] ascending and cos_q[511] down to cos_q[1]: all inside the
    // borrowed arrays. s0-s17 are saved and restored (module docs); flags clobbered by `subs`.
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s17}}",
            "2:",
            "vldr d0, [{pa}]",
            "vldmdb {pb}!, {{d1}}",
            "vldmia {tc}!, {{s8}}",
            "vldmdb {ts}!, {{s9}}",
            // fe = A + conj(B) = (s4, s5), fo = A - conj(B) = (s6, s7)
            "vadd.f32 s4, s0, s2",
            "vsub.f32 s5, s1, s3",
            "vsub.f32 s6, s0, s2",
            "vadd.f32 s7, s1, s3",
            // U = W^k fo: ur = c fo0 + s fo1, ui = c fo1 - s fo0
            "vmul.f32 s10, s8, s6",
            "vmla.f32 s10, s9, s7",
            "vmul.f32 s11, s8, s7",
            "vmls.f32 s11, s9, s6",
            // 2 X[k] = (fe0 + ui, fe1 - ur), 2 conj(X[1024 - k]) = (fe0 - ui, fe1 + ur)
            "vadd.f32 s12, s4, s11",
            "vsub.f32 s13, s5, s10",
            "vsub.f32 s14, s4, s11",
            "vadd.f32 s15, s5, s10",
            "vmul.f32 s16, s12, s12",
            "vmla.f32 s16, s13, s13",
            "vmul.f32 s17, s14, s14",
            "vmla.f32 s17, s15, s15",
            "vstmia {pa}!, {{d8}}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vpop {{s0-s17}}",
            pa = inout(reg) pa => _,
            pb = inout(reg) pb => _,
            tc = inout(reg) cos_q.as_ptr().wrapping_add(1) => _,
            ts = inout(reg) cos_q.as_ptr().wrapping_add(512) => _,
            n = inout(reg) 511usize => _,
        );
    }
}

/// The mel filterbank's slope sums over folded power values (`filterbank/folded.rs`,
/// `Slopes::add` for `power == 2`): per bin `p` (the first value of each pair ascending, or the
/// second descending), rising filter `r` and weight `w`: close filters up to `r - 1` when `r`
/// changes (`mel[cur - 1] = down; down = up; up = 0` while `cur < r`), then `up += w p`,
/// `down += (1 - w) p`. `state` holds `[up, down]`, `cur` the open filter.
macro_rules! slopes_fn {
    ($name:ident, $load:literal, $p:literal, $doc:literal) => {
        #[doc = $doc]
        #[inline]
        pub fn $name(
            pairs: &[[f32; 2]],
            rising: &[u8],
            weight: &[f32],
            mel: &mut [f32],
            cur: &mut usize,
            state: &mut [f32; 2],
        ) {
            let n = pairs.len().min(rising.len()).min(weight.len());
            if n == 0 {
                return;
            }
            let mut st = [state[0], state[1], 1.0, 0.0];
            let pp = if $p == "s1" {
                pairs.as_ptr().wrapping_add(n)
            } else {
                pairs.as_ptr()
            };
            let mut c = *cur;
            // SAFETY: n iterations; `pp` walks n pairs of `pairs` (ascending from the first, or
            // descending with `vldmdb` from one past the n-th), `pr` n bytes of `rising`, `pw`
            // n values of `weight`; the store to `mel[cur - 1]` is guarded by `cur >= 1` and
            // `cur - 1 < mel.len()`; `st` is 4 values. s0-s7 saved and restored (module docs);
            // flags clobbered.
            unsafe {
                core::arch::asm!(
                    "vpush {{s0-s7}}",
                    "vldmia {st}, {{s4-s7}}",
                    "2:",
                    "ldrb {t}, [{pr}], #1",
                    $load,
                    "vldmia {pw}!, {{s2}}",
                    "cmp {t}, {cur}",
                    "bne 4f",
                    "3:",
                    "vsub.f32 s3, s6, s2",
                    concat!("vmla.f32 s4, s2, ", $p),
                    concat!("vmla.f32 s5, s3, ", $p),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    "b 6f",
                    "4:",
                    "cmp {cur}, {t}",
                    "bhs 3b",
                    "subs {t2}, {cur}, #1",
                    "blo 5f",
                    "cmp {t2}, {nm}",
                    "bhs 5f",
                    "add {t2}, {mel}, {t2}, lsl #2",
                    "vstr s5, [{t2}]",
                    "5:",
                    "vmov.f32 s5, s4",
                    "vmov.f32 s4, s7",
                    "add {cur}, {cur}, #1",
                    "b 4b",
                    "6:",
                    "vstmia {st}, {{s4-s5}}",
                    "vpop {{s0-s7}}",
                    pp = inout(reg) pp => _,
                    pr = inout(reg) rising.as_ptr() => _,
                    pw = inout(reg) weight.as_ptr() => _,
                    n = inout(reg) n => _,
                    cur = inout(reg) c,
                    t = out(reg) _,
                    t2 = out(reg) _,
                    mel = in(reg) mel.as_mut_ptr(),
                    nm = in(reg) mel.len(),
                    st = in(reg) st.as_mut_ptr(),
                );
            }
            *cur = c;
            *state = [st[0], st[1]];
        }
    };
}

slopes_fn!(
    mel_slopes_ascending,
    "vldmia {pp}!, {{s0-s1}}",
    "s0",
    "The ascending bins (`p` the first value of each pair, pairs in order)."
);
slopes_fn!(
    mel_slopes_descending,
    "vldmdb {pp}!, {{s0-s1}}",
    "s1",
    "The descending bins (`p` the second value of each pair, pairs from the last)."
);
