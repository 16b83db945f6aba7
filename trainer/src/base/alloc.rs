//! The allocator of the `trainer` binary and the training benches: mimalloc, told to keep freed
//! memory for reuse.
//!
//! A training step allocates and frees tensors of up to a few hundred MB (activations, im2col
//! buffers, gradients). glibc's malloc serves each of them with a fresh `mmap` and gives it back on
//! free, so every step faulted the same memory in again and the kernel zeroed every page: 7.8 M
//! minor page faults and 44 % of the CPU time in the kernel in `benches/train_throughput.sh`.
//! mimalloc keeps freed blocks in its arenas, but by default it still returns ("purges") them to
//! the OS 1 s after they are freed, shorter than one training step; with purging off, a step
//! reuses the previous step's pages (figures in `docs/results/training-speed.md`).
//!
//! The price is that the process keeps its peak working set until it exits, which is what a
//! training job does anyway.

pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` in mimalloc v3's `include/mimalloc.h` (the `mi_option_e` enum);
/// libmimalloc-sys 0.1.49 exports no constant for it. The test `trainer/tests/alloc.rs` fails if
/// this index does not turn purging off.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Turns off mimalloc's purging of freed memory for the whole process. Call it first thing in
/// `main` of a binary whose `#[global_allocator]` is [`Allocator`]; without that it changes
/// nothing.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores an integer into mimalloc's option table (an atomic
    // store); it is thread-safe, may be called at any time, and an index below `_mi_option_last`
    // (this one is) is valid. -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// mimalloc's current purge delay in ms (1000 by default, -1 after [`keep_freed_memory`]).
pub fn purge_delay_ms() -> i64 {
    // SAFETY: `mi_option_get` reads one integer from mimalloc's option table; thread-safe.
    // c_long: i64 on the 64-bit Unix hosts the trainer runs on, i32 on Windows
    #[allow(clippy::useless_conversion)]
    i64::from(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) })
}
