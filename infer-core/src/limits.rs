//! The FFT sizes the front end is built for: a leaf both the configuration (which checks a
//! requested size) and the FFT (which sizes its buffers) read, so neither imports the other for
//! them.

/// The largest FFT size compiled in (`rfft::N`, the default front end's).
pub const MAX_N_FFT: usize = 2048;
/// The smallest FFT size accepted.
pub const MIN_N_FFT: usize = 16;
