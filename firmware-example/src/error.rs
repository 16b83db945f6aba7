//! The firmware's errors, each mapped to a process exit status.

use core::fmt;

/// Everything that stops the firmware before it has processed every clip.
#[derive(Debug, Clone, Copy)]
pub enum FwError {
    /// `clips.txt` could not be opened.
    ListOpen,
    /// `clips.txt` could not be read.
    ListRead,
    /// A line of `clips.txt` is longer than the firmware's line buffer.
    ListTooLong,
    /// A line of `clips.txt` is malformed (1-based line number).
    ListBadLine(usize),
    /// A path is empty, too long or holds a NUL byte.
    BadPath,
    /// The clip could not be opened.
    ClipOpen,
    /// The clip could not be read (I/O error or it ended early).
    ClipRead,
    /// The clip has an odd number of bytes: not 16-bit PCM.
    ClipOddBytes {
        /// File size.
        bytes: u64,
    },
    /// The clip holds fewer bytes than announced.
    ClipShort {
        /// File size.
        bytes: u64,
        /// Announced size.
        expected: u64,
    },
    /// The clip holds more bytes than announced.
    ClipLong {
        /// File size.
        bytes: u64,
        /// Announced size.
        expected: u64,
    },
    /// The announced clip is longer than the firmware accepts.
    ClipTooLong {
        /// Announced samples.
        samples: usize,
        /// Limit.
        max: usize,
    },
    /// The clip is shorter than one segment.
    ClipNoSegment {
        /// Announced samples.
        samples: usize,
        /// Samples per segment.
        segment: usize,
    },
    /// An output file could not be created.
    OutCreate,
    /// An output file could not be written.
    OutWrite,
    /// The embedded model's segment length differs from the firmware's.
    ModelSegment {
        /// The model's samples per segment.
        model: u32,
        /// The firmware's samples per segment.
        firmware: usize,
    },
    /// The embedded model is not int8 (the firmware runs int8 models only).
    ModelNotInt8,
    /// infer-core rejected the model, the configuration or the input.
    Core(infer_core::Error),
}

impl FwError {
    /// Process exit status: 2 = bad input, 3 = model / inference, 4 = host I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            FwError::Core(_) | FwError::ModelSegment { .. } | FwError::ModelNotInt8 => 3,
            FwError::OutCreate | FwError::OutWrite => 4,
            _ => 2,
        }
    }
}

impl From<infer_core::Error> for FwError {
    fn from(e: infer_core::Error) -> Self {
        FwError::Core(e)
    }
}

impl fmt::Display for FwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FwError::ListOpen => f.write_str("cannot open the clip list"),
            FwError::ListRead => f.write_str("cannot read the clip list"),
            FwError::ListTooLong => {
                f.write_str("clip list line longer than the firmware's line buffer")
            }
            FwError::ListBadLine(n) => write!(f, "clip list line {n}: malformed"),
            FwError::BadPath => f.write_str("path empty, too long or holding a NUL byte"),
            FwError::ClipOpen => f.write_str("cannot open the file (missing?)"),
            FwError::ClipRead => f.write_str("read failed or the file ended early"),
            FwError::ClipOddBytes { bytes } => {
                write!(f, "odd byte count {bytes}: not 16-bit PCM")
            }
            FwError::ClipShort { bytes, expected } => {
                write!(f, "short file: {bytes} bytes, expected {expected}")
            }
            FwError::ClipLong { bytes, expected } => {
                write!(
                    f,
                    "file longer than announced: {bytes} bytes, expected {expected}"
                )
            }
            FwError::ClipTooLong { samples, max } => {
                write!(f, "clip of {samples} samples exceeds the limit of {max}")
            }
            FwError::ClipNoSegment { samples, segment } => {
                write!(
                    f,
                    "clip of {samples} samples is shorter than one segment ({segment})"
                )
            }
            FwError::OutCreate => f.write_str("cannot create an output file"),
            FwError::OutWrite => f.write_str("cannot write an output file"),
            FwError::ModelSegment { model, firmware } => write!(
                f,
                "model expects {model} samples per segment, the firmware cuts {firmware}"
            ),
            FwError::ModelNotInt8 => f.write_str("the embedded model is not int8"),
            FwError::Core(e) => write!(f, "infer-core: {e}"),
        }
    }
}
