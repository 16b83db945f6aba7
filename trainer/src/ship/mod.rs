//! What leaves the host: export to infer-core's model files (f32 and calibrated int8) and the
//! cross-check of the firmware under QEMU against the host's infer-core.
//!
//! Imports: the layers below (`base` to `evaluate`).

pub mod crosscheck;
pub mod export;
