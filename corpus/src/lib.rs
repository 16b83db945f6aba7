//! tinygenre's input layer, free of Burn: everything that turns files a user points at into
//! samples and track lists, and the one way results are written.
//!
//! - [`audio`]: WAV and Sun `.au` decoding to mono `f32` (with [`audio::Limits`] on sample rate,
//!   channels and duration checked from the header before any allocation, and a typed
//!   [`audio::AudioError`] naming the file for every bad input), resampling, the WAV writer;
//! - [`dataset`]: discovery of GTZAN-layout genre folders;
//! - [`fsio`]: files that are never left half-written.
//!
//! The trainer re-exports these modules under their old paths (`trainer::audio`, ...). The
//! crate builds in seconds, so the decoders can be fuzzed (`fuzz/`) without building Burn; the
//! data layer (splits, the feature cache, the synthetic set) may move here too.
//!
//! ```
//! use tinygenre_corpus::audio::{self, AudioKind, Limits};
//! use std::path::Path;
//!
//! // a 1 Hz WAV is refused from its header, before anything is allocated for its samples
//! let mut wav = Vec::new();
//! wav.extend_from_slice(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00");
//! wav.extend_from_slice(&1u32.to_le_bytes()); // sample rate
//! wav.extend_from_slice(&2u32.to_le_bytes()); // byte rate
//! wav.extend_from_slice(b"\x02\x00\x10\x00data\xff\xff\xff\x7f");
//! let e = audio::decode_bytes(AudioKind::Wav, &wav, Path::new("clip.wav"), &Limits::default())
//!     .unwrap_err();
//! assert!(matches!(e, audio::AudioError::RateOutOfRange { rate: 1, .. }), "{e}");
//! ```

#![warn(missing_docs)]

pub mod audio;
pub mod dataset;
pub mod fsio;
