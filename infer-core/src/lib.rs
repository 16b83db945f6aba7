#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]
// `unsafe` is denied everywhere but in `dsp` (`dsp/mod.rs`, `dsp/k9.rs`): the audited DSP
// kernels, `asm!` blocks with a safety comment each, on Cortex-M cores with the DSP extension.
#![deny(unsafe_code)]

pub mod error;

// ---- front end: audio -> log-mel frames ----
pub mod config;
pub mod fft;
pub mod filterbank;
pub mod frontend;
pub mod reference;
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
