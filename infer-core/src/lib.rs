#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]
// `unsafe` is denied everywhere but in `dsp` (`dsp/mod.rs`, `dsp/k9.rs`): the audited DSP
// kernels, `asm!` blocks with a safety comment each, on Cortex-M cores with the DSP extension.
#![deny(unsafe_code)]
// No panic paths outside tests: a model or config that would fail is rejected when it is
// validated (a typed `Error`), and the kernels index through iterators, fixed-size arrays and
// checked slices, so a new `unwrap`, `expect`, `panic!` or `x[i]` does not compile in.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::panic_in_result_fn,
    )
)]

pub mod error;

// ---- front end: audio -> log-mel frames ----
pub mod config;
pub mod db;
pub mod fft;
pub mod filterbank;
pub mod frontend;
pub mod limits;
pub mod reference;
pub mod rfft;
pub mod stream;
pub mod window;

// ---- model: file format and int8 / f32 inference ----
pub mod classifier;
pub mod conv;
pub mod conv_tile;
pub mod dense;
pub mod dsp;
pub mod executor;
pub mod format;
pub mod model;
pub mod pool;
pub mod posenc;
pub mod quant;
pub mod realtime;
#[cfg(any(test, feature = "testutil"))]
pub mod testutil;

pub use error::Error;
