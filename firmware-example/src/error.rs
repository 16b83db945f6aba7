//! The firmware's errors, each mapped to a process exit status.

use crate::text::Line;

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

impl FwError {
    /// Appends the error's description to `l`.
    pub fn describe(&self, l: &mut Line) {
        let n = |v: usize| v as u64;
        match *self {
            FwError::ListOpen => l.s("cannot open the clip list"),
            FwError::ListRead => l.s("cannot read the clip list"),
            FwError::ListTooLong => l.s("clip list line longer than the firmware's line buffer"),
            FwError::ListBadLine(k) => l.s("clip list line ").u(n(k)).s(": malformed"),
            FwError::BadPath => l.s("path empty, too long or holding a NUL byte"),
            FwError::ClipOpen => l.s("cannot open the file (missing?)"),
            FwError::ClipRead => l.s("read failed or the file ended early"),
            FwError::ClipOddBytes { bytes } => {
                l.s("odd byte count ").u(bytes).s(": not 16-bit PCM")
            }
            FwError::ClipShort { bytes, expected } => l
                .s("short file: ")
                .u(bytes)
                .s(" bytes, expected ")
                .u(expected),
            FwError::ClipLong { bytes, expected } => l
                .s("file longer than announced: ")
                .u(bytes)
                .s(" bytes, expected ")
                .u(expected),
            FwError::ClipTooLong { samples, max } => l
                .s("clip of ")
                .u(n(samples))
                .s(" samples exceeds the limit of ")
                .u(n(max)),
            FwError::ClipNoSegment { samples, segment } => l
                .s("clip of ")
                .u(n(samples))
                .s(" samples is shorter than one segment (")
                .u(n(segment))
                .s(")"),
            FwError::OutCreate => l.s("cannot create an output file"),
            FwError::OutWrite => l.s("cannot write an output file"),
            FwError::ModelSegment { model, firmware } => l
                .s("model expects ")
                .u(u64::from(model))
                .s(" samples per segment, the firmware cuts ")
                .u(n(firmware)),
            FwError::ModelNotInt8 => l.s("the embedded model is not int8"),
            FwError::Core(e) => l.s("infer-core: ").s(e.message()),
        };
    }
}
