//! The products of Winograd's transforms ([`super::wino`]) and their output transform: an
//! `SMLAD` loop per output channel and four tiles, then `4 Y = A2^T M A2` added to the running
//! sums, in assembly on Cortex-M cores with the DSP extension, portable twins elsewhere (the
//! reference the firmware's `kernels` binary checks the assembly against).

use super::wino::{POS, TILES, output4};

/// Adds every tile's four outputs ([`output4`]) to `y[t]` (wrapping): the same
/// sums, one tile at a time, its 16 products, 8 column sums and 4 outputs in registers (46
/// instructions a tile on the device, where the compiler's schedule of the straight-line twin
/// spilled).
#[inline]
pub fn output4_add(m: &[[i32; TILES]; POS], y: &mut [[i32; 4]; TILES]) {
    output4_add_impl(m, y);
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn output4_add_impl(m: &[[i32; TILES]; POS], y: &mut [[i32; 4]; TILES]) {
    output4_add_portable(m, y);
}

/// One `A2` step in place: `x1 <- x1 + x2 + 2 x0`, `x3 <- x1 - x2 - 2 x3`.
#[cfg(tinygenre_dsp)]
macro_rules! a2_step {
    ($x0:literal, $x1:literal, $x2:literal, $x3:literal) => {
        concat!(
            "add ",
            $x3,
            ", ",
            $x2,
            ", ",
            $x3,
            ", lsl #1\n",
            "sub ",
            $x3,
            ", ",
            $x1,
            ", ",
            $x3,
            "\n",
            "add ",
            $x1,
            ", ",
            $x1,
            ", ",
            $x2,
            "\n",
            "add ",
            $x1,
            ", ",
            $x1,
            ", ",
            $x0,
            ", lsl #1\n",
        )
    };
}

/// Frame column `$j` of tile `$t` (byte offsets `16 j`, `4 t`): its four products `m[4 i + j][t]`
/// (at `r0 + 64 i + 16 j + 4 t`) into `x0..x3`, then [`a2_step!`] (`z0j` in `x1`, `z1j` in `x3`).
#[cfg(tinygenre_dsp)]
macro_rules! a2_column {
    ($j:literal, $t:literal, $x0:literal, $x1:literal, $x2:literal, $x3:literal) => {
        concat!(
            "ldr ",
            $x0,
            ", [r0, #",
            $j,
            "+",
            $t,
            "]\n",
            "ldr ",
            $x1,
            ", [r0, #64+",
            $j,
            "+",
            $t,
            "]\n",
            "ldr ",
            $x2,
            ", [r0, #128+",
            $j,
            "+",
            $t,
            "]\n",
            "ldr ",
            $x3,
            ", [r0, #192+",
            $j,
            "+",
            $t,
            "]\n",
            a2_step!($x0, $x1, $x2, $x3),
        )
    };
}

/// One tile of [`output4_add`] (`$t` = `4 t`): the four frame columns ([`a2_column!`]), then the
/// two rows alike, and `y[t]` (`LDM` / `STM` through r1, which moves on to the next tile).
#[cfg(tinygenre_dsp)]
macro_rules! output4_tile {
    ($t:literal) => {
        concat!(
            a2_column!("0", $t, "r2", "r3", "r4", "r5"),
            a2_column!("16", $t, "r2", "r4", "r8", "r9"),
            a2_column!("32", $t, "r2", "r8", "r10", "r11"),
            a2_column!("48", $t, "r2", "r10", "r12", "lr"),
            // rows: z00 r3, z01 r4, z02 r8, z03 r10; z10 r5, z11 r9, z12 r11, z13 lr
            a2_step!("r3", "r4", "r8", "r10"),
            a2_step!("r5", "r9", "r11", "lr"),
            // y0 r4, y1 r10, y2 r9, y3 lr
            "ldm r1, {{r2, r3, r5, r8}}\n",
            "add r2, r4\n",
            "add r3, r10\n",
            "add r5, r9\n",
            "add r8, lr\n",
            "stm r1!, {{r2, r3, r5, r8}}\n",
        )
    };
}

#[cfg(tinygenre_dsp)]
#[inline]
fn output4_add_impl(m: &[[i32; TILES]; POS], y: &mut [[i32; 4]; TILES]) {
    // SAFETY: `m` is 64 words (`[[i32; 4]; 16]`): every load is at `r0 + 16 p + 4 t`, `p <
    // 16`, `t < 4`, inside it. `y` is 16 words, word-aligned (`LDM` / `STM`): tile `t` reads
    // and writes `y[t]` through r1, which `STM`'s write-back moves on by 16 bytes, four times.
    // Nothing else is written but the declared registers (and the flags, not claimed).
    unsafe {
        core::arch::asm!(
            output4_tile!("0"),
            output4_tile!("4"),
            output4_tile!("8"),
            output4_tile!("12"),
            in("r0") m.as_ptr(),
            inout("r1") y.as_mut_ptr() => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
            options(nostack),
        );
    }
}

/// Portable twin of [`output4_add`]: [`output4`] of each tile, added.
#[inline]
pub fn output4_add_portable(m: &[[i32; TILES]; POS], y: &mut [[i32; 4]; TILES]) {
    for (t, yt) in y.iter_mut().enumerate() {
        for (a, v) in yt.iter_mut().zip(output4(m, t)) {
            *a = a.wrapping_add(v);
        }
    }
}

/// The products of one output channel with [`TILES`] tiles: for every position `p` and tile
/// `t`, `m[p][t] += sum_k SMLAD(u[p n + k], v[(p n + k) TILES + t])` (wrapping), `n = u.len() /
/// POS` pairs per position. Does nothing unless `n` is a positive multiple of 4 and `v` holds
/// `TILES * u.len()` words.
#[inline]
pub fn gemm4(u: &[i32], v: &[i32], m: &mut [[i32; TILES]; POS]) {
    let n = u.len() / POS;
    if n == 0 || !n.is_multiple_of(4) || u.len() != n * POS || v.len() != TILES * u.len() {
        return;
    }
    gemm4_impl(u, v, m);
}

/// Portable twin of [`gemm4`] (the same checks, the same wrapping sums of exact products).
pub fn gemm4_portable(u: &[i32], v: &[i32], m: &mut [[i32; TILES]; POS]) {
    let n = u.len() / POS;
    if n == 0 || !n.is_multiple_of(4) || u.len() != n * POS || v.len() != TILES * u.len() {
        return;
    }
    let (vq, _) = v.as_chunks::<TILES>();
    for ((up, vp), mp) in u.chunks_exact(n).zip(vq.chunks_exact(n)).zip(m.iter_mut()) {
        for (&uk, vk) in up.iter().zip(vp) {
            let (u0, u1) = (i32::from(uk as i16), uk >> 16);
            for (a, &x) in mp.iter_mut().zip(vk) {
                let (x0, x1) = (i32::from(x as i16), x >> 16);
                *a = a.wrapping_add(u0 * x0 + u1 * x1);
            }
        }
    }
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn gemm4_impl(u: &[i32], v: &[i32], m: &mut [[i32; TILES]; POS]) {
    gemm4_portable(u, v, m);
}

/// One channel pair of the product loops: four windows' input words through r7 (`LDM`), four
/// `SMLAD` with the filter word `$u` into r8-r11.
#[cfg(tinygenre_dsp)]
macro_rules! gemm_pair {
    ($u:literal) => {
        concat!(
            "ldm r7!, {{r2, r3, r4, r5}}\n",
            "smlad r8, ",
            $u,
            ", r2, r8\n",
            "smlad r9, ",
            $u,
            ", r3, r9\n",
            "smlad r10, ",
            $u,
            ", r4, r10\n",
            "smlad r11, ",
            $u,
            ", r5, r11\n",
        )
    };
}

/// Four pairs of [`gemm4`]'s inner loop: two `LDM` of two filter words and four `LDM` of four
/// input words, sixteen `SMLAD` into r8-r11.
#[cfg(tinygenre_dsp)]
macro_rules! gemm4_pairs {
    () => {
        concat!(
            "ldm r6!, {{r0, r1}}\n",
            gemm_pair!("r0"),
            gemm_pair!("r1"),
            "ldm r6!, {{r0, r1}}\n",
            gemm_pair!("r0"),
            gemm_pair!("r1"),
        )
    };
}

/// [`gemm4_impl`]'s assembly (a macro so that its safety comment sits with the caller's checks).
#[cfg(tinygenre_dsp)]
macro_rules! gemm4_asm {
    ($u:expr, $v:expr, $m:expr, $n:expr) => {
        // SAFETY: as stated in `gemm4_impl`, which checked the lengths.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                "push {{r0, r1}}",
                "mov r6, r2",
                "mov r7, r3",
                "1:",
                "ldm lr, {{r8, r9, r10, r11}}",
                "ldr r12, [sp]",
                "add r12, r6",
                "2:",
                gemm4_pairs!(),
                "cmp r6, r12",
                "bne 2b",
                "stm lr!, {{r8, r9, r10, r11}}",
                "ldr r0, [sp, #4]",
                "cmp lr, r0",
                "bne 1b",
                "add sp, #8",
                "pop {{r6, r7}}",
                inout("r0") 4 * $n => _,
                inout("r1") $m.as_mut_ptr_range().end => _,
                inout("r2") $u.as_ptr() => _,
                inout("r3") $v.as_ptr() => _,
                out("r4") _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                inout("lr") $m.as_mut_ptr() => _,
            );
        }
    };
}

#[cfg(tinygenre_dsp)]
#[inline]
fn gemm4_impl(u: &[i32], v: &[i32], m: &mut [[i32; TILES]; POS]) {
    let n = u.len() / POS;
    // The assembly's contract (`gemm4_asm!`): `gemm4` checked `n` a positive multiple of 4,
    // `u.len() == 16 n` and `v.len() == 64 n` (all word-aligned `i32`, as `LDM` needs). Per
    // position the inner loop, four pairs a step, reads `n` words of `u` (r6) and `4 n` of `v`
    // (r7), stopping when r6 reaches r12 = r6 + 4 n bytes; the outer loop loads and stores the
    // position's four accumulators of `m` (`[i32; 4]`, word-aligned) through lr and stops after
    // the 16th, at the end of `m` (kept on the stack with `4 n`). r6 and r7 (not nameable as
    // operands) are pushed first and popped last; the two words pushed after them are dropped
    // before that pop. Every other register written is an operand or declared clobbered, the
    // flags are clobbered, and the only memory written is `m` and the stack below the entry
    // `sp`.
    gemm4_asm!(u, v, m, n);
}

/// [`gemm4`] of a whole chunk (16 pairs per position) into `m`, which it overwrites: `m[p][t]
/// = sum_k SMLAD(u[16 p + k], v[(16 p + k) TILES + t])` (wrapping). On the device the 16
/// pairs of a position are one straight run (the first four with `SMUAD`, so nothing is
/// zeroed or loaded first).
#[inline]
pub fn gemm16(u: &[i32; POS * 16], v: &[i32; POS * 16 * TILES], m: &mut [[i32; TILES]; POS]) {
    gemm16_impl(u, v, m);
}

/// Portable twin of [`gemm16`].
pub fn gemm16_portable(
    u: &[i32; POS * 16],
    v: &[i32; POS * 16 * TILES],
    m: &mut [[i32; TILES]; POS],
) {
    *m = [[0; TILES]; POS];
    gemm4_portable(u, v, m);
}

#[cfg(not(tinygenre_dsp))]
#[inline]
fn gemm16_impl(u: &[i32; POS * 16], v: &[i32; POS * 16 * TILES], m: &mut [[i32; TILES]; POS]) {
    gemm16_portable(u, v, m);
}

#[cfg(tinygenre_dsp)]
#[inline]
fn gemm16_impl(u: &[i32; POS * 16], v: &[i32; POS * 16 * TILES], m: &mut [[i32; TILES]; POS]) {
    // SAFETY: `u` is 256 words, `v` 1,024 and `m` 64, all word-aligned `i32` (as `LDM` /
    // `STM` need). Per position the code reads 16 words of `u` (r6) and 64 of `v` (r7), in
    // order, and stores the position's four sums to `m` through lr, stopping after the 16th,
    // at r12 = the end of `m`: 256 and 1,024 words read, 64 written. r6 and r7 (not nameable
    // as operands) are pushed first and popped last; every other register written is an
    // operand or declared clobbered, the flags are clobbered, and the only memory written is
    // `m` and the stack below the entry `sp`, restored.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "mov r6, r2",
            "mov r7, r3",
            "1:",
            "ldm r6!, {{r0, r1}}",
            "ldm r7!, {{r2, r3, r4, r5}}",
            "smuad r8, r0, r2",
            "smuad r9, r0, r3",
            "smuad r10, r0, r4",
            "smuad r11, r0, r5",
            gemm_pair!("r1"),
            "ldm r6!, {{r0, r1}}",
            gemm_pair!("r0"),
            gemm_pair!("r1"),
            gemm4_pairs!(),
            gemm4_pairs!(),
            gemm4_pairs!(),
            "stm lr!, {{r8, r9, r10, r11}}",
            "cmp lr, r12",
            "bne 1b",
            "pop {{r6, r7}}",
            out("r0") _,
            out("r1") _,
            inout("r2") u.as_ptr() => _,
            inout("r3") v.as_ptr() => _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            in("r12") m.as_mut_ptr_range().end,
            inout("lr") m.as_mut_ptr() => _,
        );
    }
}
